package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/data"
	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

// Config is one training run. Zero values take the recipe's.
type Config struct {
	Data    string // see LoadData; "mnist" when empty
	Out     string // directory of checkpoints, log and plot (created); required
	Epochs  int    // total epochs (a resumed run continues up to it)
	Batch   int
	Seed    uint64 // 0: the recipe's
	Augment *Augment
	// Resume is a checkpoint to continue from ("" starts afresh).
	Resume string
	// Subset trains on the first Subset training images, TestSubset
	// evaluates on the first TestSubset test images (0: all).
	Subset, TestSubset int
	// MaxBatches ends an epoch after that many batches (0: a whole pass).
	MaxBatches int
	// Val holds out the last Val training images as the validation set of
	// the schedule (plateau); 0 uses the test set, as the PyTorch MNIST
	// examples do.
	Val int
	// Deterministic runs the runtime's kernels on one goroutine
	// (runtime.SetWorkers(1); the matrix products stay parallel), for runs
	// that are bit for bit reproducible: with several workers some
	// reductions of the runtime add partial sums in the order the workers
	// finish, which changes the last bits of the weights from run to run.
	Deterministic bool
	// Progress shows a progress bar per epoch on Stderr.
	Progress bool
	// Stdout gets one line per epoch and the final "test accuracy: " line;
	// Stderr the progress bars. nil discards.
	Stdout, Stderr io.Writer

	// Datasets, when set, replace loading Data (tests).
	TrainSet, TestSet *data.Dataset

	write writeFunc
}

// EpochLog is one line of log.jsonl.
type EpochLog struct {
	Epoch     int     `json:"epoch"`
	Loss      float64 `json:"loss"`                // mean training loss
	TrainAcc  float64 `json:"train_acc"`           // on every 8th batch, in eval mode after its step
	ValAcc    float64 `json:"val_acc"`             // what the schedule saw
	TestAcc   float64 `json:"test_acc"`            // accuracy on the test set
	TestLoss  float64 `json:"test_loss"`           // mean cross-entropy on the test set
	LR        float64 `json:"lr"`                  // the learning rate of this epoch
	NextLR    float64 `json:"next_lr"`             // after the schedule
	Images    int     `json:"images"`              // training images this epoch
	Seconds   float64 `json:"seconds"`             // wall time of the epoch's training
	ImagesSec float64 `json:"images_per_sec"`      // Images / Seconds
	Best      bool    `json:"best,omitempty"`      // best.safetensors was written
	Resumed   bool    `json:"resumed,omitempty"`   // the first epoch after a resume
	EvalSecs  float64 `json:"eval_secs,omitempty"` // wall time of the evaluation
}

// Result is what Run did.
type Result struct {
	History  []EpochLog
	TestAcc  float64 // of the final network
	BestAcc  float64
	Wall     time.Duration
	Model    *Model
	LastPath string
}

// File names in Config.Out.
const (
	LastName = "last.safetensors"
	BestName = "best.safetensors"
	LogName  = "log.jsonl"
	PlotName = "plot.png"
)

// NonFiniteError is returned when the loss becomes NaN or infinite.
type NonFiniteError struct {
	Epoch, Step int // 1-based
	Loss        float32
	Last        string // the last good checkpoint, or ""
}

func (e *NonFiniteError) Error() string {
	kept := "no checkpoint was written yet"
	if e.Last != "" {
		kept = "the last good checkpoint " + e.Last + " is kept"
	}
	return fmt.Sprintf("loss is %v at epoch %d, step %d: training stopped (try a lower --lr); %s, nothing was overwritten", e.Loss, e.Epoch, e.Step, kept)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// checkOut makes sure dir is (or can become) a directory.
func checkOut(dir string) error {
	if dir == "" {
		return errors.New("--out is required")
	}
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		return fmt.Errorf("--out %s is a file, not a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// Run trains the network of spec as cfg says: per epoch, a pass over the
// (shuffled, augmented) training set with TrainStep, an evaluation on the
// test set, the schedule (EndEpoch), a line in log.jsonl, the plot, and the
// checkpoints last.safetensors (always) and best.safetensors (when the test
// accuracy is the best so far).
func Run(spec *Spec, cfg Config) (*Result, error) {
	start := time.Now()
	if err := spec.check(); err != nil {
		return nil, err
	}
	stdout, stderr := orDiscard(cfg.Stdout), orDiscard(cfg.Stderr)
	write := cfg.write
	if write == nil {
		write = safetensors.WriteFileAtomic
	}
	if cfg.Data == "" {
		cfg.Data = "mnist"
	}
	rc := spec.Recipe
	epochs, batch, seed, aug := rc.Epochs, rc.Batch, rc.Seed, rc.Augment
	if cfg.Epochs != 0 {
		epochs = cfg.Epochs
	}
	if cfg.Batch != 0 {
		batch = cfg.Batch
	}
	if cfg.Seed != 0 {
		seed = cfg.Seed
	}
	if cfg.Augment != nil {
		aug = *cfg.Augment
	}
	switch {
	case epochs < 1:
		return nil, fmt.Errorf("--epochs %d: want at least 1", epochs)
	case batch < 1:
		return nil, fmt.Errorf("--batch %d: want at least 1", batch)
	case cfg.Subset < 0 || cfg.TestSubset < 0 || cfg.MaxBatches < 0 || cfg.Val < 0:
		return nil, errors.New("--subset, --test-subset, --max-batches and --val must not be negative")
	}
	la, err := aug.loaderAugment(spec.InputH, spec.InputW)
	if err != nil {
		return nil, err
	}
	if err := checkOut(cfg.Out); err != nil {
		return nil, err
	}
	run := runInfo{Data: cfg.Data, Batch: batch, Seed: seed, Augment: aug, Subset: cfg.Subset, MaxBatches: cfg.MaxBatches, Val: cfg.Val}

	// The checkpoint to resume, read and checked before the data are loaded.
	var ck *Checkpoint
	var hist []EpochLog
	if cfg.Resume != "" {
		if ck, err = ReadCheckpoint(cfg.Resume); err != nil {
			return nil, fmt.Errorf("--resume: %w", err)
		}
		if !ck.IsCheckpoint() {
			return nil, fmt.Errorf("--resume %s: a weights file, not a checkpoint", cfg.Resume)
		}
		if src, _, ov := ck.Source(); src != spec.Source || ov != spec.Overrides {
			return nil, fmt.Errorf("--resume %s: trained from another .cnn source or other --lr/--momentum/--decay than this network's", cfg.Resume)
		}
		prev, err := ck.runInfo()
		if err != nil {
			return nil, err
		}
		if prev != run {
			a, _ := json.Marshal(prev)
			b, _ := json.Marshal(run)
			return nil, fmt.Errorf("--resume %s: the checkpoint was trained with %s, this run has %s: resume with the same data, batch, seed, augment, subset, max-batches and val", cfg.Resume, a, b)
		}
		if hist, err = ck.history(); err != nil {
			return nil, err
		}
		if ck.Epoch >= epochs {
			return nil, fmt.Errorf("--resume %s: the checkpoint has %d epochs already, --epochs is %d", cfg.Resume, ck.Epoch, epochs)
		}
	}

	trainSet, testSet := cfg.TrainSet, cfg.TestSet
	if trainSet == nil {
		if trainSet, testSet, err = LoadData(cfg.Data, spec.InputH, spec.InputW, spec.InputC, spec.Classes); err != nil {
			return nil, err
		}
	}
	if err := checkSet("training", trainSet, spec); err != nil {
		return nil, err
	}
	if cfg.Subset > 0 && cfg.Subset < trainSet.N {
		trainSet, _, _ = trainSet.Split(cfg.Subset)
	}
	valSet := testSet
	if cfg.Val > 0 {
		if cfg.Val >= trainSet.N {
			return nil, fmt.Errorf("--val %d: the training set has only %d images", cfg.Val, trainSet.N)
		}
		trainSet, valSet, _ = trainSet.Split(trainSet.N - cfg.Val)
	}
	if testSet == nil {
		return nil, fmt.Errorf("--data %s has no test set: give idx:IMAGES,LABELS,TESTIMAGES,TESTLABELS", cfg.Data)
	}
	if err := checkSet("test", testSet, spec); err != nil {
		return nil, err
	}
	if cfg.TestSubset > 0 && cfg.TestSubset < testSet.N {
		testSet, _, _ = testSet.Split(cfg.TestSubset)
		if cfg.Val == 0 {
			valSet = testSet
		}
	}

	if cfg.Deterministic {
		defer rt.SetWorkers(rt.SetWorkers(1))
	}
	m := spec.New(batch, seed)
	// The dropout stream follows the run's seed, not only the .cnn's.
	rng, _ := rt.NewRNG(rt.SeedFor(seed, "dropout")).MarshalBinary()
	if err := m.SetDropoutRNGState(rng); err != nil {
		return nil, err
	}
	loader, err := trainSet.Loader(data.LoaderConfig{BatchSize: batch, Seed: seed, Shuffle: true, Augment: la})
	if err != nil {
		return nil, err
	}
	startEpoch := 0
	lastPath, bestPath := filepath.Join(cfg.Out, LastName), filepath.Join(cfg.Out, BestName)
	best := math.Inf(-1)
	if ck != nil {
		if err := ck.restore(m, loader); err != nil {
			return nil, err
		}
		startEpoch = ck.Epoch
		if len(hist) > startEpoch {
			hist = hist[:startEpoch]
		}
		for _, h := range hist {
			best = max(best, h.TestAcc)
		}
	}
	res := &Result{Model: m, LastPath: lastPath}
	lastGood := ""
	if ck != nil {
		lastGood = cfg.Resume
	}
	if _, err := os.Stat(lastPath); err == nil && lastGood == "" {
		lastGood = lastPath
	}

	x := make([]float32, batch*trainSet.Size())
	y := make([]int32, batch)
	pred := make([]int32, 0, batch)
	for epoch := startEpoch; epoch < epochs; epoch++ {
		batches := (trainSet.N + batch - 1) / batch
		if cfg.MaxBatches > 0 {
			batches = min(batches, cfg.MaxBatches)
		}
		var bar *progressbar.ProgressBar
		if cfg.Progress {
			bar = progressbar.NewOptions(batches,
				progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch+1, epochs)),
				progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(),
				progressbar.OptionThrottle(200*time.Millisecond),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionSetPredictTime(true),
			)
		}
		lr := m.LR()
		t0 := time.Now()
		var lossSum float64
		var images, seen, correct, step int
		atEnd := false
		for step < batches {
			n, err := loader.Next(x, y)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				if images == 0 && !atEnd {
					atEnd = true
					continue // the previous epoch ended exactly at the end of a pass
				}
				break
			}
			step++
			loss, err := m.TrainStep(x[:n*trainSet.Size()], y[:n])
			if err != nil {
				if bar != nil {
					bar.Exit()
					fmt.Fprintln(stderr)
				}
				if spec.ErrNonFinite != nil && errors.Is(err, spec.ErrNonFinite) || isNonFinite(loss) {
					return res, &NonFiniteError{Epoch: epoch + 1, Step: step, Loss: loss, Last: lastGood}
				}
				return res, fmt.Errorf("epoch %d, step %d: %w", epoch+1, step, err)
			}
			lossSum += float64(loss) * float64(n)
			images += n
			if step%8 == 1 {
				if pred, err = predict(m, x[:n*trainSet.Size()], n, pred); err != nil {
					return res, err
				}
				for i, p := range pred {
					if p == y[i] {
						correct++
					}
				}
				seen += n
			}
			if bar != nil {
				el := time.Since(t0).Seconds()
				bar.Describe(fmt.Sprintf("epoch %d/%d  loss %.4f  acc %5.2f%%  %5.0f img/s", epoch+1, epochs,
					lossSum/float64(images), 100*float64(correct)/float64(max(seen, 1)), float64(images)/el))
				bar.Add(1)
			}
		}
		trainSecs := time.Since(t0).Seconds()
		if bar != nil {
			bar.Finish()
		}
		if images == 0 {
			return res, errors.New("the training set gave no batch")
		}
		t1 := time.Now()
		testAcc, testLoss, err := Evaluate(m, testSet, batch)
		if err != nil {
			return res, err
		}
		valAcc := testAcc
		if valSet != testSet {
			if valAcc, _, err = Evaluate(m, valSet, batch); err != nil {
				return res, err
			}
		}
		next := m.EndEpoch(valAcc)
		e := EpochLog{Epoch: epoch + 1, Loss: lossSum / float64(images), TrainAcc: float64(correct) / float64(max(seen, 1)),
			ValAcc: valAcc, TestAcc: testAcc, TestLoss: testLoss, LR: lr, NextLR: next,
			Images: images, Seconds: trainSecs, ImagesSec: float64(images) / trainSecs,
			Resumed: ck != nil && epoch == startEpoch, EvalSecs: time.Since(t1).Seconds()}
		e.Best = testAcc > best
		hist = append(hist, e)
		if err := saveCheckpoint(write, lastPath, spec, m, loader, run, hist); err != nil {
			return res, err
		}
		lastGood = lastPath
		if e.Best {
			best = testAcc
			if err := saveCheckpoint(write, bestPath, spec, m, loader, run, hist); err != nil {
				return res, err
			}
		}
		if err := writeLog(write, filepath.Join(cfg.Out, LogName), hist); err != nil {
			return res, err
		}
		if err := writePlot(write, filepath.Join(cfg.Out, PlotName), spec.Name, hist); err != nil {
			return res, err
		}
		fmt.Fprintf(stdout, "epoch %d/%d  loss %.4f  train acc %.2f%%  test acc %.2f%%  test loss %.4f  lr %.4g  %.0f img/s  %.1fs\n",
			e.Epoch, epochs, e.Loss, 100*e.TrainAcc, 100*e.TestAcc, e.TestLoss, e.LR, e.ImagesSec, e.Seconds+e.EvalSecs)
		res.History = hist
	}
	res.History = hist
	res.Wall = time.Since(start)
	last := hist[len(hist)-1]
	res.TestAcc, res.BestAcc = last.TestAcc, best
	var imgs int
	var secs float64
	for _, h := range hist[startEpoch:] {
		imgs += h.Images
		secs += h.Seconds
	}
	fmt.Fprintf(stdout, "test accuracy: %.2f%%  (%s, epoch %d of %d, best %.2f%%, %d test images, %s wall, %.0f img/s, plot %s)\n",
		100*last.TestAcc, spec.Name, last.Epoch, epochs, 100*best, testSet.N, res.Wall.Round(100*time.Millisecond), float64(imgs)/secs,
		filepath.Join(cfg.Out, PlotName))
	return res, nil
}

func isNonFinite(v float32) bool {
	return math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)
}

// checkSet checks that a data set fits the network (the loaders check it
// already; a Dataset given directly may not).
func checkSet(what string, d *data.Dataset, spec *Spec) error {
	if d == nil || d.N == 0 {
		return fmt.Errorf("the %s set is empty", what)
	}
	if d.C != spec.InputC || d.H != spec.InputH || d.W != spec.InputW {
		return fmt.Errorf("the %s set's images are %s, %s wants %dx%dx%d (HxWxC)", what, d.Shape, spec.Name, spec.InputH, spec.InputW, spec.InputC)
	}
	if d.Classes > spec.Classes {
		return fmt.Errorf("the %s set has %d classes, %s has %d outputs", what, d.Classes, spec.Name, spec.Classes)
	}
	return nil
}

// predict writes the arg max of each of the n rows of m.Forward(x) into dst.
func predict(m Net, x []float32, n int, dst []int32) ([]int32, error) {
	out, err := m.Forward(x)
	if err != nil {
		return dst, err
	}
	k := len(out) / n
	dst = dst[:0]
	for j := 0; j < n; j++ {
		dst = append(dst, int32(argmax(out[j*k:(j+1)*k])))
	}
	return dst, nil
}

// Evaluate returns the accuracy and the mean cross-entropy of m on d, in
// batches of up to batch images (Forward: eval mode).
func Evaluate(m Net, d *data.Dataset, batch int) (acc, loss float64, err error) {
	batch = min(batch, m.MaxBatch())
	var correct int
	size := d.Size()
	for i := 0; i < d.N; i += batch {
		n := min(batch, d.N-i)
		out, err := m.Forward(d.X[i*size : (i+n)*size])
		if err != nil {
			return 0, 0, err
		}
		k := len(out) / n
		for j := 0; j < n; j++ {
			row := out[j*k : (j+1)*k]
			y := d.Y[i+j]
			if argmax(row) == int(y) {
				correct++
			}
			loss -= math.Log(max(float64(row[y]), 1e-30))
		}
	}
	return float64(correct) / float64(d.N), loss / float64(d.N), nil
}

func argmax(row []float32) int {
	b := 0
	for i, v := range row {
		if v > row[b] {
			b = i
		}
	}
	return b
}

func writeLog(write writeFunc, path string, hist []EpochLog) error {
	return write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, h := range hist {
			if err := enc.Encode(h); err != nil {
				return err
			}
		}
		return nil
	})
}
