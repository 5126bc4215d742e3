package train

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cnnc-dev/cnnc/internal/cli"
	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/npy"
)

// InferConfig is one run of `cnnc infer`.
type InferConfig struct {
	Weights string // a weights file (Net.Save) or a checkpoint of Run: required
	Input   string // a .npy file of float32 or float64 (N, C, H, W)
	Output  string // the .npy file to write, (N, OutputSize) float32; "" writes none
	Probs   bool   // write probabilities (a softmax per image) instead of logits
	Top     int    // print the Top most probable classes of each image (0: none)
	Batch   int    // images per forward (0: the recipe's)
	Stdout  io.Writer
}

// Infer runs the network of spec in inference mode on the images of
// cfg.Input and writes its outputs to cfg.Output.
//
// It writes the logits, the input of the final softmax (runtime.Net's
// Logits; the output of a network without one). Probabilities are the runtime's softmax of the
// logits per image (rt.Softmax, the kernel the network's own softmax runs),
// also for a network that does not end in one. Probabilities and Top need a
// classifier (an output of 1x1xClasses).
func Infer(spec *Spec, cfg InferConfig) error {
	if err := spec.check(); err != nil {
		return err
	}
	p := &spec.Program
	if cfg.Weights == "" {
		return errors.New("--weights is required: an untrained network's outputs mean nothing")
	}
	if cfg.Input == "" {
		return errors.New("--input is required")
	}
	if cfg.Output == "" && cfg.Top == 0 {
		return errors.New("nothing to do: give -o OUT.npy, --top K or both")
	}
	if (cfg.Probs || cfg.Top > 0) && !p.Classifier {
		return fmt.Errorf("--probs and --top need a classifier; %s's output is not 1x1xClasses", p.Name)
	}
	if cfg.Top < 0 {
		return fmt.Errorf("--top %d: want at least 0", cfg.Top)
	}
	batch := cfg.Batch
	if batch == 0 {
		batch = p.Recipe.Batch
	}
	if batch < 1 {
		return fmt.Errorf("--batch %d: want at least 1", batch)
	}
	in, err := npy.ReadFile(cfg.Input)
	if err != nil {
		return err
	}
	want := []int{p.InputC, p.InputH, p.InputW}
	if len(in.Shape) != 4 || in.Shape[1] != want[0] || in.Shape[2] != want[1] || in.Shape[3] != want[2] {
		return fmt.Errorf("%s: shape %s, but %s takes (N, %d, %d, %d): N images of %dx%dx%d (HxWxC), float32 in NCHW order",
			cfg.Input, tuple(in.Shape), p.Name, want[0], want[1], want[2], p.InputH, p.InputW, p.InputC)
	}
	n := in.Shape[0]
	m := spec.New(min(batch, max(n, 1)), 1)
	ck, err := ReadCheckpoint(cfg.Weights)
	if err != nil {
		return err
	}
	if err := ck.LoadWeights(m); err != nil {
		return err
	}
	size, per := p.OutputSize, p.InputC*p.InputH*p.InputW
	out := make([]float32, n*size)
	for i := 0; i < n; i += m.MaxBatch() {
		k := min(m.MaxBatch(), n-i)
		y, err := m.Logits(in.Data[i*per : (i+k)*per])
		if err != nil {
			return err
		}
		copy(out[i*size:], y)
	}
	var probs []float32
	if cfg.Probs || cfg.Top > 0 {
		probs = make([]float32, len(out))
		rt.Softmax{Classes: size}.Forward(n, out, probs)
	}
	if cfg.Output != "" {
		y := out
		if cfg.Probs {
			y = probs
		}
		if err := npy.WriteFile(cfg.Output, &npy.Array{Shape: []int{n, size}, Data: y}); err != nil {
			return err
		}
	}
	if cfg.Top > 0 {
		w := orDiscard(cfg.Stdout)
		top := make([]int, min(cfg.Top, size))
		var b strings.Builder
		for i := 0; i < n; i++ {
			row := probs[i*size : (i+1)*size]
			b.Reset()
			fmt.Fprintf(&b, "%d:", i)
			for j, c := range rt.TopK(row, top) {
				if j > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, " %d (%.4f)", c, row[c])
			}
			fmt.Fprintln(w, b.String())
		}
	}
	return nil
}

// tuple prints a shape as numpy does: (2, 3), (3,), ().
func tuple(shape []int) string {
	s := make([]string, len(shape))
	for i, d := range shape {
		s[i] = fmt.Sprint(d)
	}
	if len(s) == 1 {
		return "(" + s[0] + ",)"
	}
	return "(" + strings.Join(s, ", ") + ")"
}

func cmdInfer(spec *Spec, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("infer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	get := InferFlags(fs)
	if err := fs.Parse(cli.Reorder(fs, args)); err != nil {
		return exitUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "cnnc infer: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	cfg := get()
	cfg.Stdout = stdout
	if err := Infer(spec, cfg); err != nil {
		fmt.Fprintf(stderr, "cnnc infer: %v\n", err)
		return exitInput
	}
	return exitOK
}

// InferFlags defines the flags of `cnnc infer` on fs and returns a function
// that gives the InferConfig once fs is parsed.
func InferFlags(fs *flag.FlagSet) func() InferConfig {
	var c InferConfig
	fs.StringVar(&c.Weights, "weights", "", "weights file (a generated Net's Save) or checkpoint of cnnc train (required)")
	fs.StringVar(&c.Input, "input", "", "float32 (or float64) .npy array of shape (N, C, H, W) (required)")
	fs.StringVar(&c.Output, "o", "", "write the outputs, float32 (N, classes), to this .npy file")
	fs.BoolVar(&c.Probs, "probs", false, "write probabilities (softmax per image), not logits")
	fs.IntVar(&c.Top, "top", 0, "print the K most probable classes of each image and their probabilities")
	fs.IntVar(&c.Batch, "batch", 0, "images per forward (0: the recipe's batch)")
	return func() InferConfig { return c }
}
