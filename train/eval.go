package train

import (
	"errors"
	"fmt"
	"io"

	"github.com/cnnc-dev/cnnc/runtime/data"
)

// EvalResult is the accuracy of each checkpoint and, with several, of their
// ensemble (the mean of their softmax outputs).
type EvalResult struct {
	Paths    []string
	Acc      []float64
	Ensemble float64 // with one checkpoint, its accuracy
	N        int     // test images
}

// EvalConfig is one evaluation.
type EvalConfig struct {
	Data       string // see LoadData; "mnist" when empty
	TestSubset int    // the first TestSubset test images (0: all)
	Batch      int    // 0: the recipe's
	Stdout     io.Writer
	TestSet    *data.Dataset // replaces loading Data (tests)
}

// Eval evaluates checkpoints (or weights files) of the network of spec on the
// test set, and their ensemble. It prints one line per checkpoint and, with
// several, a last line "ensemble of N: test accuracy: X%"; with one, the
// last line is "test accuracy: X%".
func Eval(spec *Spec, paths []string, cfg EvalConfig) (*EvalResult, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, errors.New("no checkpoint to evaluate")
	}
	stdout := orDiscard(cfg.Stdout)
	if cfg.Data == "" {
		cfg.Data = "mnist"
	}
	batch := cfg.Batch
	if batch == 0 {
		batch = spec.Program.Recipe.Batch
	}
	if batch < 1 {
		return nil, fmt.Errorf("--batch %d: want at least 1", batch)
	}
	// Every checkpoint is read and checked before the data are loaded.
	m := spec.New(batch, 1)
	var cks []*Checkpoint
	for _, p := range paths {
		ck, err := ReadCheckpoint(p)
		if err != nil {
			return nil, err
		}
		if err := ck.LoadWeights(m); err != nil {
			return nil, err
		}
		cks = append(cks, ck)
	}
	test := cfg.TestSet
	if test == nil {
		var err error
		if _, test, err = LoadData(cfg.Data, spec.Program.InputH, spec.Program.InputW, spec.Program.InputC, spec.Program.OutputSize); err != nil {
			return nil, err
		}
		if test == nil {
			return nil, fmt.Errorf("--data %s has no test set: give idx:IMAGES,LABELS,TESTIMAGES,TESTLABELS", cfg.Data)
		}
	}
	if err := checkSet("test", test, spec); err != nil {
		return nil, err
	}
	if cfg.TestSubset > 0 && cfg.TestSubset < test.N {
		test, _, _ = test.Split(cfg.TestSubset)
	}
	k := spec.Program.OutputSize
	sum := make([]float64, test.N*k)
	res := &EvalResult{Paths: paths, N: test.N}
	size := test.Size()
	for ci, ck := range cks {
		if err := ck.LoadWeights(m); err != nil {
			return nil, err
		}
		correct := 0
		for i := 0; i < test.N; i += batch {
			n := min(batch, test.N-i)
			out, err := m.Forward(test.X[i*size : (i+n)*size])
			if err != nil {
				return nil, err
			}
			for j := 0; j < n; j++ {
				row := out[j*k : (j+1)*k]
				if argmax(row) == int(test.Y[i+j]) {
					correct++
				}
				for c, v := range row {
					sum[(i+j)*k+c] += float64(v)
				}
			}
		}
		acc := float64(correct) / float64(test.N)
		res.Acc = append(res.Acc, acc)
		if len(cks) > 1 {
			fmt.Fprintf(stdout, "%s: test accuracy: %.2f%%\n", paths[ci], 100*acc)
		}
	}
	correct := 0
	for i := 0; i < test.N; i++ {
		row := sum[i*k : (i+1)*k]
		b := 0
		for c, v := range row {
			if v > row[b] {
				b = c
			}
		}
		if b == int(test.Y[i]) {
			correct++
		}
	}
	res.Ensemble = float64(correct) / float64(test.N)
	if len(cks) > 1 {
		fmt.Fprintf(stdout, "ensemble of %d: test accuracy: %.2f%% (members %s, %d test images)\n", len(cks), 100*res.Ensemble, fmtAccs(res.Acc), test.N)
	} else {
		fmt.Fprintf(stdout, "test accuracy: %.2f%% (%s, %d test images)\n", 100*res.Ensemble, paths[0], test.N)
	}
	return res, nil
}

func fmtAccs(a []float64) string {
	s := ""
	for i, v := range a {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%.2f%%", 100*v)
	}
	return s
}
