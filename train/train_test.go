package train

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/cnnc-dev/cnnc/gen/lenet5"
	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/data"
	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

var (
	mnistOnce           sync.Once
	mnistTrain, mnistTe *data.Dataset
	mnistErr            error
)

// mnist loads the real MNIST once for all tests.
func mnist(t *testing.T) (*data.Dataset, *data.Dataset) {
	t.Helper()
	mnistOnce.Do(func() { mnistTrain, mnistTe, mnistErr = LoadData("mnist", 28, 28, 1, 10) })
	if mnistErr != nil {
		t.Fatal(mnistErr)
	}
	return mnistTrain, mnistTe
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestLeNetLearnsMNIST is the CI check of the whole loop: one epoch on the
// first 20000 MNIST training images must reach 95% on the 10000 test
// images (an untrained LeNet-5 gets about 10%).
func TestLeNetLearnsMNIST(t *testing.T) {
	tr, te := mnist(t)
	spec := lenetSpec()
	before, _, err := Evaluate(spec.New(64, 1), te, 500)
	if err != nil {
		t.Fatal(err)
	}
	if before > 0.3 {
		t.Fatalf("untrained accuracy %.2f%%: the check below could not fail", 100*before)
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	res, err := Run(spec, Config{Out: out, Epochs: 1, Subset: 20000, TrainSet: tr, TestSet: te, Stdout: &stdout, Stderr: &stderr, Progress: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("untrained %.2f%%, after one epoch on 20000 images %.2f%% (%.0f img/s)", 100*before, 100*res.TestAcc, res.History[0].ImagesSec)
	if res.TestAcc < 0.95 {
		t.Errorf("test accuracy %.2f%% after one epoch on 20000 images, want >= 95%%", 100*res.TestAcc)
	}
	if l := lastLine(stdout.String()); !strings.HasPrefix(l, "test accuracy: ") || !strings.Contains(l, "%") {
		t.Errorf("last line %q does not start with \"test accuracy: \"", l)
	}
	if !strings.Contains(stderr.String(), "epoch 1/1") || !strings.Contains(stderr.String(), "img/s") {
		t.Errorf("no progress bar on stderr: %q", stderr.String())
	}
	for _, name := range []string{LastName, BestName, LogName, PlotName} {
		if fi, err := os.Stat(filepath.Join(out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	png, _ := os.ReadFile(filepath.Join(out, PlotName))
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Error("plot.png is not a PNG")
	}
	// The best checkpoint evaluates to the accuracy the run reported.
	ev, err := Eval(spec, []string{filepath.Join(out, BestName)}, EvalConfig{TestSet: te})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Acc[0] != res.TestAcc {
		t.Errorf("eval of best.safetensors: %v, the run reported %v", ev.Acc[0], res.TestAcc)
	}
}

// smallRun is a few short epochs on a small subset with augmentation, so
// that every part of the state (loader position mid-epoch, both loader RNG
// streams, momentum, schedule) matters.
func smallRun(out string, epochs int, resume string) Config {
	tr, te := mnistTrain, mnistTe
	aug := rt.Augment{Pad: 2, Mirror: true}
	return Config{Out: out, Epochs: epochs, Batch: 32, Subset: 640, TestSubset: 300, MaxBatches: 7, Augment: &aug,
		Resume: resume, TrainSet: tr, TestSet: te, Seed: 7, Deterministic: true}
}

func readTensors(t *testing.T, path string) (map[string][]float32, map[string]string) {
	t.Helper()
	f, err := safetensors.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]float32{}
	for _, n := range f.Names() {
		v, err := f.Get(n)
		if err != nil {
			t.Fatal(err)
		}
		m[n] = v.Data
	}
	return m, f.Meta
}

func TestResumeBitExact(t *testing.T) {
	mnist(t)
	spec := lenetSpec()
	a, b := t.TempDir(), t.TempDir()
	if _, err := Run(spec, smallRun(a, 3, "")); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(spec, smallRun(b, 1, "")); err != nil {
		t.Fatal(err)
	}
	// --resume with the checkpoint of --out, twice.
	for _, n := range []int{2, 3} {
		if _, err := Run(spec, smallRun(b, n, filepath.Join(b, LastName))); err != nil {
			t.Fatal(err)
		}
	}
	ta, ma := readTensors(t, filepath.Join(a, LastName))
	tb, mb := readTensors(t, filepath.Join(b, LastName))
	if len(ta) != len(tb) || len(ta) != 20 {
		t.Fatalf("%d and %d tensors, want 20 (10 weights, 10 momentum buffers)", len(ta), len(tb))
	}
	for name, va := range ta {
		vb := tb[name]
		if len(va) != len(vb) {
			t.Fatalf("%s: %d and %d values", name, len(va), len(vb))
		}
		for i := range va {
			if math.Float32bits(va[i]) != math.Float32bits(vb[i]) {
				t.Fatalf("%s[%d]: %v after 3 epochs, %v after 1 + 1 + 1 resumed", name, i, va[i], vb[i])
			}
		}
	}
	for _, k := range []string{metaEpoch, metaSchedule, metaOptimStep, metaLoader, metaDropout, metaRun, metaTestAcc} {
		if ma[k] != mb[k] {
			t.Errorf("metadata %s: %q straight, %q resumed", k, ma[k], mb[k])
		}
	}
	if !strings.Contains(ma[metaLoader], "pad=2 mirror=true") {
		t.Errorf("the augmentation did not reach the loader: %q", ma[metaLoader])
	}
	// The untrained network differs: the comparison above could fail.
	fresh := spec.New(32, 7)
	if fresh.Tensors()[0].Data[0] == ta["conv1.weight"][0] {
		t.Error("training did not change conv1.weight")
	}
	// Resuming with another configuration is refused.
	cfg := smallRun(b, 4, filepath.Join(b, LastName))
	cfg.Batch = 16
	if _, err := Run(spec, cfg); err == nil || !strings.Contains(err.Error(), "trained with") {
		t.Errorf("resume with another batch: %v", err)
	}
	cfg = smallRun(b, 3, filepath.Join(b, LastName))
	if _, err := Run(spec, cfg); err == nil || !strings.Contains(err.Error(), "3 epochs already") {
		t.Errorf("resume of a finished run: %v", err)
	}
}

// TestPlateauSchedule runs LeNet-5 with an inference walk that answers
// every image with the same probabilities, so that the validation accuracy
// is flat and the .cnn's plateau schedule must fire.
func TestPlateauSchedule(t *testing.T) {
	mnist(t)
	spec := lenetSpec()
	p := lenet5.Program()
	p.ForwardInfer = func(m *rt.Memory, n int) {
		out := m.Act[p.InferOut*m.MaxBatch:][:n*10]
		clear(out)
		for i := 0; i < n; i++ {
			out[i*10+3] = 1
		}
	}
	spec.New = func(mb int, seed uint64) *rt.Net { return rt.NewNet(&p, mb, seed) }
	cfg := smallRun(t.TempDir(), 5, "")
	cfg.MaxBatches = 1
	res, err := Run(spec, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// lenet5.cnn: plateau divide 10 patience 1: the best is epoch 1, epochs
	// 2 and 3 are bad, and after the second bad one the LR is divided.
	want := []float64{0.01, 0.01, 0.01, 0.001, 0.001}
	for i, h := range res.History {
		if math.Abs(h.LR-want[i]) > 1e-12 {
			t.Errorf("epoch %d: lr %g, want %g", h.Epoch, h.LR, want[i])
		}
	}
}

// poisoned returns a copy of d whose pixels are NaN, as a corrupt input would be.
func poisoned(d *data.Dataset) *data.Dataset {
	p := *d
	p.X = make([]float32, len(d.X))
	for i := range p.X {
		p.X[i] = float32(math.NaN())
	}
	return &p
}

func TestNonFiniteStops(t *testing.T) {
	mnist(t)
	spec := lenetSpec()
	out := t.TempDir()
	if _, err := Run(spec, smallRun(out, 1, "")); err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, n := range []string{LastName, BestName, LogName, PlotName} {
		before[n], _ = os.ReadFile(filepath.Join(out, n))
	}
	cfg := smallRun(out, 2, filepath.Join(out, LastName))
	cfg.TrainSet = poisoned(mnistTrain)
	_, err := Run(spec, cfg)
	var nf *NonFiniteError
	if !errors.As(err, &nf) {
		t.Fatalf("got %v, want a NonFiniteError", err)
	}
	if nf.Epoch != 2 || nf.Step != 1 || !strings.Contains(err.Error(), "epoch 2, step 1") || !strings.Contains(err.Error(), LastName) {
		t.Errorf("error %q: want epoch 2, step 1 and the kept checkpoint", err)
	}
	for n, b := range before {
		after, _ := os.ReadFile(filepath.Join(out, n))
		if !bytes.Equal(after, b) {
			t.Errorf("%s was changed by the failed run", n)
		}
	}
	// A first epoch that fails at once writes nothing.
	out2 := t.TempDir()
	cfg = smallRun(out2, 1, "")
	cfg.TrainSet = poisoned(mnistTrain)
	if _, err := Run(spec, cfg); !errors.As(err, &nf) || !strings.Contains(err.Error(), "no checkpoint") {
		t.Errorf("got %v", err)
	}
	if ents, _ := os.ReadDir(out2); len(ents) != 0 {
		t.Errorf("the failed run left %d files", len(ents))
	}
}

// fullWriter fails with ENOSPC after limit bytes, like a full disk.
type fullWriter struct {
	w     io.Writer
	limit int
}

func (f *fullWriter) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		n, _ := f.w.Write(p[:f.limit])
		f.limit = 0
		return n, &os.PathError{Op: "write", Path: "checkpoint", Err: syscall.ENOSPC}
	}
	f.limit -= len(p)
	return f.w.Write(p)
}

func TestFullDisk(t *testing.T) {
	mnist(t)
	spec := lenetSpec()
	out := t.TempDir()
	if _, err := Run(spec, smallRun(out, 1, "")); err != nil {
		t.Fatal(err)
	}
	last, _ := os.ReadFile(filepath.Join(out, LastName))
	cfg := smallRun(out, 2, filepath.Join(out, LastName))
	cfg.write = func(path string, write func(io.Writer) error) error {
		return safetensors.WriteFileAtomic(path, func(w io.Writer) error {
			return write(bufio.NewWriter(&fullWriter{w: w, limit: 1000}))
		})
	}
	_, err := Run(spec, cfg)
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), "checkpoint") {
		t.Fatalf("got %v, want a full-disk error about the checkpoint", err)
	}
	after, _ := os.ReadFile(filepath.Join(out, LastName))
	if !bytes.Equal(after, last) {
		t.Error("last.safetensors changed although writing it failed")
	}
	ents, _ := os.ReadDir(out)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestOutIsFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, []byte("x"), 0o644)
	_, err := Run(lenetSpec(), Config{Out: f, TrainSet: &data.Dataset{}})
	if err == nil || !strings.Contains(err.Error(), "is a file, not a directory") {
		t.Errorf("got %v", err)
	}
	if _, err := Run(lenetSpec(), Config{}); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("no --out: got %v", err)
	}
}

// writeIDX writes an idx file of unsigned bytes; gz compresses it.
func writeIDX(t *testing.T, path string, dims []int, body []byte, gz bool) {
	t.Helper()
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(body)
	raw := b.Bytes()
	if gz {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(raw)
		w.Close()
		raw = z.Bytes()
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDataErrors(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	pix := make([]byte, 4*28*28)
	for i := range pix {
		pix[i] = byte(i)
	}
	writeIDX(t, p("img"), []int{4, 28, 28}, pix, false)
	writeIDX(t, p("img.gz"), []int{4, 28, 28}, pix, true)
	writeIDX(t, p("lab"), []int{4}, []byte{1, 2, 3, 4}, false)
	writeIDX(t, p("lab12"), []int{4}, []byte{1, 2, 12, 4}, false)
	writeIDX(t, p("img20"), []int{4, 20, 20}, pix[:4*400], false)
	writeIDX(t, p("short"), []int{4, 28, 28}, pix[:1000], false)
	gz, _ := os.ReadFile(p("img.gz"))
	gz[len(gz)/2] ^= 0xff
	os.WriteFile(p("corrupt.gz"), gz, 0o644)
	ok := "idx:" + p("img") + "," + p("lab")
	for _, tc := range []struct{ data, want string }{
		{"idx:" + p("short") + "," + p("lab"), "truncated"},
		{"idx:" + p("corrupt.gz") + "," + p("lab"), "corrupt.gz"},
		{"idx:" + p("img") + "," + p("lab12"), "label 12 of sample 2 is out of range"},
		{"idx:" + p("img20") + "," + p("lab"), "network wants 28x28x1"},
		{"idx:" + p("img"), "want idx:IMAGES,LABELS"},
		{"idx:" + p("nope") + "," + p("lab"), "no such file"},
		{ok, "no test set"},
		{"mnist:x", "takes no argument"},
		{"folder:" + p("nope"), "nope"},
		{"csv:x", "want mnist"},
	} {
		_, err := Run(lenetSpec(), Config{Out: t.TempDir(), Data: tc.data})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--data %s: got %v, want an error containing %q", tc.data, err, tc.want)
		}
	}
	// The same files with a test set train (the data path works end to end).
	if _, err := Run(lenetSpec(), Config{Out: t.TempDir(), Data: ok + "," + p("img.gz") + "," + p("lab"), Epochs: 1}); err != nil {
		t.Errorf("a valid idx data set: %v", err)
	}
}

func TestAugmentFlags(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want rt.Augment
		err  string
	}{
		{"none", rt.Augment{}, ""},
		{"pad 2 mirror", rt.Augment{Pad: 2, Mirror: true}, ""},
		{"translate=3,mirror", rt.Augment{Translate: 3, Mirror: true}, ""},
		{"crop 28 pad 4", rt.Augment{Crop: 28, Pad: 4}, ""},
		{"pad", rt.Augment{}, "needs a number"},
		{"pad -1", rt.Augment{}, "non-negative"},
		{"rotate 10", rt.Augment{}, "unknown"},
		{"", rt.Augment{}, "want none"},
	} {
		a, err := ParseAugment(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: got %v, want error %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || a != tc.want {
			t.Errorf("%q: got %+v, %v, want %+v", tc.in, a, err, tc.want)
		}
		if back, _ := ParseAugment(augmentString(a)); back != a {
			t.Errorf("%q: String %q does not parse back", tc.in, augmentString(a))
		}
	}
	if la, err := loaderAugment(rt.Augment{Crop: 28, Pad: 4, Mirror: true}, 28, 28); err != nil || la != (data.Augment{Pad: 4, Mirror: true}) {
		t.Errorf("crop 28 pad 4 mirror: %+v, %v", la, err)
	}
	if la, _ := loaderAugment(rt.Augment{Translate: 3}, 28, 28); la.Pad != 3 {
		t.Errorf("translate 3: %+v", la)
	}
	if _, err := loaderAugment(rt.Augment{Crop: 24}, 28, 28); err == nil || !strings.Contains(err.Error(), "never resized") {
		t.Errorf("crop 24 of 28: %v", err)
	}
	// The .cnn's augmentation is the default; the flag overrides it.
	mnist(t)
	spec := lenetSpec()
	spec.Program.Recipe.Augment = rt.Augment{Translate: 1}
	cfg := smallRun(t.TempDir(), 1, "")
	cfg.Augment = nil
	if _, err := Run(spec, cfg); err != nil {
		t.Fatal(err)
	}
	_, meta := readTensors(t, filepath.Join(cfg.Out, LastName))
	if !strings.Contains(meta[metaLoader], "pad=1 mirror=false") {
		t.Errorf("the recipe's translate 1 did not reach the loader: %q", meta[metaLoader])
	}
}

func TestEvalEnsemble(t *testing.T) {
	tr, te := mnist(t)
	spec := lenetSpec()
	var paths []string
	var accs []float64
	for _, seed := range []uint64{1, 2, 3} {
		out := t.TempDir()
		res, err := Run(spec, Config{Out: out, Epochs: 1, Subset: 3000, TestSubset: 2000, Seed: seed, TrainSet: tr, TestSet: te})
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Join(out, LastName))
		accs = append(accs, res.TestAcc)
	}
	var stdout bytes.Buffer
	ev, err := Eval(spec, paths, EvalConfig{TestSet: te, TestSubset: 2000, Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	for i := range paths {
		if ev.Acc[i] != accs[i] {
			t.Errorf("member %d: eval %v, training reported %v", i, ev.Acc[i], accs[i])
		}
	}
	// The ensemble, recomputed here from each member's softmax.
	sum := make([]float64, 2000*10)
	for _, p := range paths {
		m := spec.New(100, 1)
		ck, err := ReadCheckpoint(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := ck.LoadWeights(m); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2000; i += 100 {
			out, _ := m.Forward(te.X[i*784 : (i+100)*784])
			for j, v := range out {
				sum[i*10+j] += float64(v)
			}
		}
	}
	correct := 0
	for i := 0; i < 2000; i++ {
		b := 0
		for c := 1; c < 10; c++ {
			if sum[i*10+c] > sum[i*10+b] {
				b = c
			}
		}
		if b == int(te.Y[i]) {
			correct++
		}
	}
	if want := float64(correct) / 2000; ev.Ensemble != want {
		t.Errorf("ensemble accuracy %v, want %v", ev.Ensemble, want)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[3], "ensemble of 3: test accuracy: ") {
		t.Errorf("eval printed:\n%s", stdout.String())
	}
	t.Logf("members %v, ensemble %v", ev.Acc, ev.Ensemble)

	// A weights file from the generated Save evaluates too.
	n := lenet5.New(8, 1)
	w := filepath.Join(t.TempDir(), "w.safetensors")
	if err := n.Save(w); err != nil {
		t.Fatal(err)
	}
	if _, err := Eval(spec, []string{w}, EvalConfig{TestSet: te, TestSubset: 100}); err != nil {
		t.Errorf("weights file: %v", err)
	}
	// A file of another network is refused, naming the tensors.
	bad := filepath.Join(t.TempDir(), "bad.safetensors")
	safetensors.Save(bad, []safetensors.Tensor{{Name: "conv1.weight", Shape: []int{2}, Data: []float32{1, 2}}}, nil)
	_, err = Eval(spec, []string{bad}, EvalConfig{TestSet: te})
	if err == nil || !strings.Contains(err.Error(), "conv1.weight: shape [2] in the file") || !strings.Contains(err.Error(), "fc3.bias: missing") {
		t.Errorf("wrong network: %v", err)
	}
	// Checkpoints record their training state for resume.
	ck, _ := ReadCheckpoint(paths[0])
	var st rt.TrainState
	if err := json.Unmarshal([]byte(ck.Meta[metaSchedule]), &st); err != nil || st.Epoch != 1 {
		t.Errorf("schedule state %q: %v", ck.Meta[metaSchedule], err)
	}
}
