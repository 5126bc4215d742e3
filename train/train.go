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
	Augment *rt.Augment
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
	Model    *rt.Net
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
//
// The steps are the methods of runner, in this order: newRunner (the
// settings), readResume (the checkpoint to continue from, checked before
// any data are loaded), loadData, start (the network, the loader and the
// resumed state), then per epoch trainEpoch, evaluate and endEpoch (files
// and the epoch's line), and finish (the summary line).
func Run(spec *Spec, cfg Config) (*Result, error) {
	start := time.Now()
	r, err := newRunner(spec, cfg)
	if err != nil {
		return nil, err
	}
	if err := r.readResume(); err != nil {
		return nil, err
	}
	if err := r.loadData(); err != nil {
		return nil, err
	}
	if cfg.Deterministic {
		defer rt.SetWorkers(rt.SetWorkers(1))
	}
	if err := r.start(); err != nil {
		return nil, err
	}
	for epoch := r.startEpoch; epoch < r.epochs; epoch++ {
		st, err := r.trainEpoch(epoch)
		if err != nil {
			return r.res, err
		}
		e, err := r.evaluate(epoch, st)
		if err != nil {
			return r.res, err
		}
		if err := r.endEpoch(e); err != nil {
			return r.res, err
		}
	}
	return r.finish(start), nil
}

// runner is one call of Run: its settings, data, network and loader, and
// what carries over from epoch to epoch.
type runner struct {
	spec           *Spec
	cfg            Config // Data defaults to "mnist"
	stdout, stderr io.Writer
	write          writeFunc

	// The run's settings: the recipe's unless cfg overrides them.
	epochs, batch int
	seed          uint64
	augment       data.Augment // the loader's form of the Augment
	info          runInfo      // what a resume must match

	ck   *Checkpoint // the checkpoint resumed from, or nil
	hist []EpochLog  // one per finished epoch, the resumed ones first

	trainSet, valSet, testSet *data.Dataset // valSet is testSet unless cfg.Val

	m                  *rt.Net
	loader             *data.Loader
	startEpoch         int     // the epochs finished before this run
	lastPath, bestPath string  // in cfg.Out
	best               float64 // the best test accuracy so far (-Inf)
	lastGood           string  // the last good checkpoint (NonFiniteError), or ""
	res                *Result

	// One batch of training images and labels, and its predictions.
	x    []float32
	y    []int32
	pred []int32
}

// newRunner fills in the recipe's settings where cfg leaves them zero,
// checks them, and makes sure that cfg.Out is a directory.
func newRunner(spec *Spec, cfg Config) (*runner, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	r := &runner{spec: spec, stdout: orDiscard(cfg.Stdout), stderr: orDiscard(cfg.Stderr), write: cfg.write}
	if r.write == nil {
		r.write = safetensors.WriteFileAtomic
	}
	if cfg.Data == "" {
		cfg.Data = "mnist"
	}
	r.cfg = cfg
	rc := spec.Program.Recipe
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
	la, err := loaderAugment(aug, spec.Program.InputH, spec.Program.InputW)
	if err != nil {
		return nil, err
	}
	if err := checkOut(cfg.Out); err != nil {
		return nil, err
	}
	r.epochs, r.batch, r.seed, r.augment = epochs, batch, seed, la
	r.info = runInfo{Data: cfg.Data, Batch: batch, Seed: seed, Augment: aug, Subset: cfg.Subset, MaxBatches: cfg.MaxBatches, Val: cfg.Val}
	return r, nil
}

// readResume reads the checkpoint of cfg.Resume, if any, and checks that
// this run can continue it: a checkpoint (not a weights file) of the same
// source, overrides and run settings, with fewer epochs than this run's.
func (r *runner) readResume() error {
	resume := r.cfg.Resume
	if resume == "" {
		return nil
	}
	ck, err := ReadCheckpoint(resume)
	if err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	if !ck.IsCheckpoint() {
		return fmt.Errorf("--resume %s: a weights file, not a checkpoint", resume)
	}
	if src, _, ov := ck.Source(); src != r.spec.Source || ov != r.spec.Overrides {
		return fmt.Errorf("--resume %s: trained from another .cnn source or other --lr/--momentum/--decay than this network's", resume)
	}
	prev, err := ck.runInfo()
	if err != nil {
		return err
	}
	if prev != r.info {
		a, _ := json.Marshal(prev)
		b, _ := json.Marshal(r.info)
		return fmt.Errorf("--resume %s: the checkpoint was trained with %s, this run has %s: resume with the same data, batch, seed, augment, subset, max-batches and val", resume, a, b)
	}
	if r.hist, err = ck.history(); err != nil {
		return err
	}
	if ck.Epoch >= r.epochs {
		return fmt.Errorf("--resume %s: the checkpoint has %d epochs already, --epochs is %d", resume, ck.Epoch, r.epochs)
	}
	r.ck = ck
	return nil
}

// loadData loads (or takes from cfg) the training and test sets, checks
// them against the network, and cuts the subsets and the validation set.
func (r *runner) loadData() error {
	cfg, spec := &r.cfg, r.spec
	trainSet, testSet := cfg.TrainSet, cfg.TestSet
	if trainSet == nil {
		var err error
		if trainSet, testSet, err = LoadData(cfg.Data, spec.Program.InputH, spec.Program.InputW, spec.Program.InputC, spec.Program.OutputSize); err != nil {
			return err
		}
	}
	if err := checkSet("training", trainSet, spec); err != nil {
		return err
	}
	if cfg.Subset > 0 && cfg.Subset < trainSet.N {
		trainSet, _, _ = trainSet.Split(cfg.Subset)
	}
	valSet := testSet
	if cfg.Val > 0 {
		if cfg.Val >= trainSet.N {
			return fmt.Errorf("--val %d: the training set has only %d images", cfg.Val, trainSet.N)
		}
		trainSet, valSet, _ = trainSet.Split(trainSet.N - cfg.Val)
	}
	if testSet == nil {
		return fmt.Errorf("--data %s has no test set: give idx:IMAGES,LABELS,TESTIMAGES,TESTLABELS", cfg.Data)
	}
	if err := checkSet("test", testSet, spec); err != nil {
		return err
	}
	if cfg.TestSubset > 0 && cfg.TestSubset < testSet.N {
		testSet, _, _ = testSet.Split(cfg.TestSubset)
		if cfg.Val == 0 {
			valSet = testSet
		}
	}
	r.trainSet, r.valSet, r.testSet = trainSet, valSet, testSet
	return nil
}

// start makes the network and the loader, seeded from the run's seed, and
// restores the resumed checkpoint's state into them.
func (r *runner) start() error {
	m := r.spec.New(r.batch, r.seed)
	// The dropout stream follows the run's seed, not only the .cnn's.
	rng, _ := rt.NewRNG(rt.SeedFor(r.seed, "dropout")).MarshalBinary()
	if err := m.SetDropoutRNGState(rng); err != nil {
		return err
	}
	loader, err := r.trainSet.Loader(data.LoaderConfig{BatchSize: r.batch, Seed: r.seed, Shuffle: true, Augment: r.augment})
	if err != nil {
		return err
	}
	r.m, r.loader = m, loader
	r.lastPath, r.bestPath = filepath.Join(r.cfg.Out, LastName), filepath.Join(r.cfg.Out, BestName)
	r.best = math.Inf(-1)
	if r.ck != nil {
		if err := r.ck.restore(m, loader); err != nil {
			return err
		}
		r.startEpoch = r.ck.Epoch
		if len(r.hist) > r.startEpoch {
			r.hist = r.hist[:r.startEpoch]
		}
		for _, h := range r.hist {
			r.best = max(r.best, h.TestAcc)
		}
	}
	r.res = &Result{Model: m, LastPath: r.lastPath}
	if r.ck != nil {
		r.lastGood = r.cfg.Resume
	}
	if _, err := os.Stat(r.lastPath); err == nil && r.lastGood == "" {
		r.lastGood = r.lastPath
	}
	r.x = make([]float32, r.batch*r.trainSet.Size())
	r.y = make([]int32, r.batch)
	r.pred = make([]int32, 0, r.batch)
	return nil
}

// epochStats is what one pass over the training set measured.
type epochStats struct {
	lr            float64 // the learning rate of the pass
	lossSum       float64 // the loss summed over the images
	images        int
	seen, correct int     // images of every 8th batch, and how many were right
	secs          float64 // wall time
}

// trainEpoch is one pass over the training set (or cfg.MaxBatches
// batches), with a TrainStep per batch and the accuracy of every 8th batch
// measured after its step. epoch is 0-based.
func (r *runner) trainEpoch(epoch int) (epochStats, error) {
	size := r.trainSet.Size()
	batches := (r.trainSet.N + r.batch - 1) / r.batch
	if r.cfg.MaxBatches > 0 {
		batches = min(batches, r.cfg.MaxBatches)
	}
	var bar *progressbar.ProgressBar
	if r.cfg.Progress {
		bar = r.progressBar(epoch, batches)
	}
	st := epochStats{lr: r.m.LR()}
	t0 := time.Now()
	step := 0
	atEnd := false
	for step < batches {
		n, err := r.loader.Next(r.x, r.y)
		if err != nil {
			return st, err
		}
		if n == 0 {
			if st.images == 0 && !atEnd {
				atEnd = true
				continue // the previous epoch ended exactly at the end of a pass
			}
			break
		}
		step++
		x, y := r.x[:n*size], r.y[:n]
		loss, err := r.m.TrainStep(x, y)
		if err != nil {
			if bar != nil {
				bar.Exit()
				fmt.Fprintln(r.stderr)
			}
			if errors.Is(err, rt.ErrNonFinite) || isNonFinite(loss) {
				return st, &NonFiniteError{Epoch: epoch + 1, Step: step, Loss: loss, Last: r.lastGood}
			}
			return st, fmt.Errorf("epoch %d, step %d: %w", epoch+1, step, err)
		}
		st.lossSum += float64(loss) * float64(n)
		st.images += n
		if step%8 == 1 {
			if r.pred, err = predict(r.m, x, n, r.pred); err != nil {
				return st, err
			}
			for i, p := range r.pred {
				if p == y[i] {
					st.correct++
				}
			}
			st.seen += n
		}
		if bar != nil {
			el := time.Since(t0).Seconds()
			bar.Describe(fmt.Sprintf("epoch %d/%d  loss %.4f  acc %5.2f%%  %5.0f img/s", epoch+1, r.epochs,
				st.lossSum/float64(st.images), 100*float64(st.correct)/float64(max(st.seen, 1)), float64(st.images)/el))
			bar.Add(1)
		}
	}
	st.secs = time.Since(t0).Seconds()
	if bar != nil {
		bar.Finish()
	}
	if st.images == 0 {
		return st, errors.New("the training set gave no batch")
	}
	return st, nil
}

// progressBar is the progress bar of one epoch on stderr.
func (r *runner) progressBar(epoch, batches int) *progressbar.ProgressBar {
	return progressbar.NewOptions(batches,
		progressbar.OptionSetWriter(r.stderr),
		progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch+1, r.epochs)),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true),
	)
}

// evaluate measures the network after the epoch's pass on the test set
// (and the validation set, when it is another), applies the schedule
// (EndEpoch) and returns the epoch's log entry; Best says whether it beats
// the best test accuracy so far.
func (r *runner) evaluate(epoch int, st epochStats) (EpochLog, error) {
	t1 := time.Now()
	testAcc, testLoss, err := Evaluate(r.m, r.testSet, r.batch)
	if err != nil {
		return EpochLog{}, err
	}
	valAcc := testAcc
	if r.valSet != r.testSet {
		if valAcc, _, err = Evaluate(r.m, r.valSet, r.batch); err != nil {
			return EpochLog{}, err
		}
	}
	next := r.m.EndEpoch(valAcc)
	e := EpochLog{Epoch: epoch + 1, Loss: st.lossSum / float64(st.images), TrainAcc: float64(st.correct) / float64(max(st.seen, 1)),
		ValAcc: valAcc, TestAcc: testAcc, TestLoss: testLoss, LR: st.lr, NextLR: next,
		Images: st.images, Seconds: st.secs, ImagesSec: float64(st.images) / st.secs,
		Resumed: r.ck != nil && epoch == r.startEpoch, EvalSecs: time.Since(t1).Seconds()}
	e.Best = testAcc > r.best
	return e, nil
}

// endEpoch records the finished epoch e: the checkpoints (last, and best
// when e.Best), log.jsonl, the plot, and the epoch's line on stdout.
func (r *runner) endEpoch(e EpochLog) error {
	r.hist = append(r.hist, e)
	if err := saveCheckpoint(r.write, r.lastPath, r.spec, r.m, r.loader, r.info, r.hist); err != nil {
		return err
	}
	r.lastGood = r.lastPath
	if e.Best {
		r.best = e.TestAcc
		if err := saveCheckpoint(r.write, r.bestPath, r.spec, r.m, r.loader, r.info, r.hist); err != nil {
			return err
		}
	}
	if err := writeLog(r.write, filepath.Join(r.cfg.Out, LogName), r.hist); err != nil {
		return err
	}
	if err := writePlot(r.write, filepath.Join(r.cfg.Out, PlotName), r.spec.Program.Name, r.hist); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "epoch %d/%d  loss %.4f  train acc %.2f%%  test acc %.2f%%  test loss %.4f  lr %.4g  %.0f img/s  %.1fs\n",
		e.Epoch, r.epochs, e.Loss, 100*e.TrainAcc, 100*e.TestAcc, e.TestLoss, e.LR, e.ImagesSec, e.Seconds+e.EvalSecs)
	r.res.History = r.hist
	return nil
}

// finish completes the Result of a run that began at start and prints the
// final "test accuracy: " line, with the speed of this run's epochs.
func (r *runner) finish(start time.Time) *Result {
	res, hist := r.res, r.hist
	res.History = hist
	res.Wall = time.Since(start)
	last := hist[len(hist)-1]
	res.TestAcc, res.BestAcc = last.TestAcc, r.best
	var imgs int
	var secs float64
	for _, h := range hist[r.startEpoch:] {
		imgs += h.Images
		secs += h.Seconds
	}
	fmt.Fprintf(r.stdout, "test accuracy: %.2f%%  (%s, epoch %d of %d, best %.2f%%, %d test images, %s wall, %.0f img/s, plot %s)\n",
		100*last.TestAcc, r.spec.Program.Name, last.Epoch, r.epochs, 100*r.best, r.testSet.N, res.Wall.Round(100*time.Millisecond), float64(imgs)/secs,
		filepath.Join(r.cfg.Out, PlotName))
	return res
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
	if d.C != spec.Program.InputC || d.H != spec.Program.InputH || d.W != spec.Program.InputW {
		return fmt.Errorf("the %s set's images are %s, %s wants %dx%dx%d (HxWxC)", what, d.Shape, spec.Program.Name, spec.Program.InputH, spec.Program.InputW, spec.Program.InputC)
	}
	if d.Classes > spec.Program.OutputSize {
		return fmt.Errorf("the %s set has %d classes, %s has %d outputs", what, d.Classes, spec.Program.Name, spec.Program.OutputSize)
	}
	return nil
}

// predict writes the arg max of each of the n rows of m.Forward(x) into dst.
func predict(m *rt.Net, x []float32, n int, dst []int32) ([]int32, error) {
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
func Evaluate(m *rt.Net, d *data.Dataset, batch int) (acc, loss float64, err error) {
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
