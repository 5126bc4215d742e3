// Package nettest is the test suite every generated package runs: its
// generated _test.go file is a few lines that hand its constructor to Run
// and to the benchmarks. The checks: shapes and bad inputs, determinism
// (same seed, same bits), zero allocations, refused non-finite steps, the
// schedule after SetLR, a save/load round trip and truncated files, and a
// whole-network directional gradient check against finite differences, of
// the logits and of the training loss.
// Networks above 1 GMAC per image train only with CNNC_LONG=1; networks
// above 4M training activations per image skip the gradient checks without it.
package nettest

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	rt "github.com/cnnc-dev/cnnc/runtime"
)

// New makes a network for batches of up to maxBatch images from seed: a
// generated package's New.
type New func(maxBatch int, seed uint64) *rt.Net

// heavy reports a network above 1 GMAC per image while CNNC_LONG is unset.
func heavy(p *rt.Program) bool { return p.MACs > 1e9 && os.Getenv("CNNC_LONG") == "" }

// rough reports, while CNNC_LONG is unset, a network above 4M training
// activations per image (MobileNet-v2 and -v3 at 224x224: 13.7M and 11.5M;
// AlexNet, the largest checked, 1.0M). There, a step of the whole-network
// finite difference moves so many units across a kink (relu, relu6,
// hard-swish at -3 and 3) that the difference is off by several percent at
// every step float32 allows, though the backward is right: MobileNet-v3's
// gradients match PyTorch's float64 ones as well as PyTorch float32's do
// (scripts/parity.sh --train), and ResNet-18's check, with CNNC_LONG=1, is
// 1.6% off at best too. Its blocks are checked on small maps instead
// (testdata/nets).
func rough(p *rt.Program) bool { return p.Train > 4e6 && os.Getenv("CNNC_LONG") == "" }

// Input is n images of N(0, 1) values from seed.
func Input(p *rt.Program, n int, seed uint64) []float32 {
	r := rt.NewRNG(seed)
	x := make([]float32, n*p.InputH*p.InputW*p.InputC)
	for i := range x {
		x[i] = float32(r.Normal())
	}
	return x
}

// Labels is n labels spread over the classes.
func Labels(p *rt.Program, n int) []int32 {
	l := make([]int32, n)
	for i := range l {
		l[i] = int32((i * 7) % p.OutputSize)
	}
	return l
}

func same(x, y []float32) bool {
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			return false
		}
	}
	return len(x) == len(y)
}

// Run runs every check of the suite as a subtest.
func Run(t *testing.T, newNet New) {
	t.Run("Shapes", func(t *testing.T) { Shapes(t, newNet) })
	t.Run("Determinism", func(t *testing.T) { Determinism(t, newNet) })
	t.Run("ZeroAllocs", func(t *testing.T) { ZeroAllocs(t, newNet) })
	t.Run("NonFinite", func(t *testing.T) { NonFinite(t, newNet) })
	t.Run("SetLR", func(t *testing.T) { SetLR(t, newNet) })
	t.Run("SaveLoad", func(t *testing.T) { SaveLoad(t, newNet) })
	t.Run("Gradient", func(t *testing.T) { Gradient(t, newNet) })
	t.Run("LossGradient", func(t *testing.T) { LossGradient(t, newNet) })
}

// Shapes: outputs of the right size and finite, bad batches refused, the
// tensors consistent with the program.
func Shapes(t *testing.T, newNet New) {
	m := newNet(2, 1)
	p := m.Program()
	out, err := m.Forward(Input(p, 2, 7))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2*p.OutputSize {
		t.Fatalf("output has %d floats, want %d", len(out), 2*p.OutputSize)
	}
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("output[%d] = %v", i, v)
		}
	}
	// The logits: the final softmax's input, whose softmax is the output
	// (the output itself without a softmax).
	probs := append([]float32(nil), out...)
	logits, err := m.Logits(Input(p, 2, 7))
	if err != nil || len(logits) != len(probs) {
		t.Fatalf("Logits: %d floats, %v; want %d", len(logits), err, len(probs))
	}
	want := logits
	if p.InferLogits != p.InferOut {
		if same(logits, probs) {
			t.Error("Logits returns the probabilities")
		}
		want = make([]float32, len(logits))
		rt.Softmax{Classes: p.OutputSize}.Forward(2, logits, want)
	}
	for i := range probs {
		if d := math.Abs(float64(want[i] - probs[i])); d > 1e-6 {
			t.Fatalf("output[%d] = %v, but the logits give %v", i, probs[i], want[i])
		}
	}
	if _, err := m.Forward(make([]float32, p.InputH*p.InputW*p.InputC+1)); err == nil {
		t.Error("Forward took an input that is not a whole number of images")
	}
	if _, err := m.Forward(Input(p, 3, 1)); err == nil {
		t.Error("Forward took more images than MaxBatch")
	}
	var params, buffers int
	names := map[string]bool{}
	for _, ts := range m.Tensors() {
		size := 1
		for _, d := range ts.Shape {
			size *= d
		}
		if size != len(ts.Data) || names[ts.Name] {
			t.Errorf("tensor %s: shape %v, %d values, seen before: %v", ts.Name, ts.Shape, len(ts.Data), names[ts.Name])
		}
		names[ts.Name] = true
		if ts.Buffer {
			buffers += size
		} else {
			params += size
		}
	}
	if params != p.Params || buffers != p.Buffers {
		t.Errorf("tensors hold %d parameters and %d buffer values, want %d and %d", params, buffers, p.Params, p.Buffers)
	}
}

// Determinism: the same seed gives the same bits, another seed other
// parameters; training steps are deterministic too.
func Determinism(t *testing.T, newNet New) {
	a, b, c := newNet(2, 42), newNet(2, 42), newNet(2, 43)
	p := a.Program()
	differ := false
	for i, ta := range a.Tensors() {
		if !same(ta.Data, b.Tensors()[i].Data) {
			t.Fatalf("%s differs between two networks of the same seed", ta.Name)
		}
		differ = differ || !same(ta.Data, c.Tensors()[i].Data)
	}
	if !differ && len(a.Tensors()) > 0 {
		t.Error("seeds 42 and 43 give the same parameters")
	}
	x := Input(p, 2, 5)
	ya, _ := a.Forward(x)
	ya = append([]float32(nil), ya...)
	yb, _ := b.Forward(x)
	if !same(ya, yb) {
		t.Error("same seed, same input, different outputs")
	}
	if !p.Classifier || heavy(p) {
		return
	}
	la, err := a.TrainStep(x, Labels(p, 2))
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := b.TrainStep(x, Labels(p, 2))
	if math.Float32bits(la) != math.Float32bits(lb) {
		t.Errorf("training losses %v and %v differ", la, lb)
	}
	for i, ta := range a.Tensors() {
		if !same(ta.Data, b.Tensors()[i].Data) {
			t.Fatalf("%s differs after one training step", ta.Name)
		}
	}
}

// ZeroAllocs: Forward and TrainStep allocate nothing after their first
// call.
func ZeroAllocs(t *testing.T, newNet New) {
	m := newNet(2, 1)
	p := m.Program()
	x := Input(p, 2, 3)
	if _, err := m.Forward(x); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(2, func() { m.Forward(x) }); n != 0 {
		t.Errorf("Forward allocates %v times per call", n)
	}
	if !p.Classifier || heavy(p) {
		return
	}
	labels := Labels(p, 2)
	if _, err := m.TrainStep(x, labels); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(2, func() { m.TrainStep(x, labels) }); n != 0 {
		t.Errorf("TrainStep allocates %v times per call", n)
	}
}

// NonFinite: a batch that overflows float32 is refused and leaves the
// parameters as they were.
func NonFinite(t *testing.T, newNet New) {
	m := newNet(2, 1)
	p := m.Program()
	if !p.Classifier {
		t.Skip("not a classifier: no TrainStep")
	}
	if heavy(p) {
		t.Skip("heavy network: CNNC_LONG=1 runs it")
	}
	x := Input(p, 2, 3)
	for i := range x {
		x[i] *= 3e38
	}
	params := func() []float32 { // bn's running statistics are updated by the forward pass
		var all []float32
		for _, p := range trainable(m) {
			all = append(all, p...)
		}
		return all
	}
	before := params()
	if _, err := m.TrainStep(x, Labels(p, 2)); err != rt.ErrNonFinite {
		t.Fatalf("TrainStep on overflowing input: %v, want ErrNonFinite", err)
	}
	if !same(before, params()) {
		t.Fatal("a refused step changed the parameters")
	}
}

// SetLR: the schedule continues from a rate set by SetLR, not from the
// recipe's.
func SetLR(t *testing.T, newNet New) {
	m := newNet(1, 1)
	lr0 := m.Program().Recipe.LR
	m.SetLR(7 * lr0)
	if lr := m.EndEpoch(1); lr <= 0 || lr > 7*lr0 || math.Abs(lr-lr0) < 1e-12 {
		t.Errorf("after SetLR(%g) and one epoch the rate is %g", 7*lr0, lr)
	}
}

// SaveLoad: a round trip keeps every bit; a truncated file is an error and
// leaves the network as it was.
func SaveLoad(t *testing.T, newNet New) {
	a, b := newNet(1, 1), newNet(1, 2)
	p := a.Program()
	path := filepath.Join(t.TempDir(), p.Package+".safetensors")
	if err := a.Save(path); err != nil {
		t.Fatal(err)
	}
	if err := b.Load(path); err != nil {
		t.Fatal(err)
	}
	x := Input(p, 1, 9)
	ya, _ := a.Forward(x)
	ya = append([]float32(nil), ya...)
	yb, _ := b.Forward(x)
	if !same(ya, yb) {
		t.Fatalf("outputs differ after a save/load round trip: %v, want %v", yb, ya)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	c := newNet(1, 3)
	before, _ := c.Forward(x)
	before = append([]float32(nil), before...)
	if err := c.Load(path); err == nil {
		t.Fatal("Load took a truncated file")
	}
	after, _ := c.Forward(x)
	if !same(before, after) {
		t.Fatal("a failed Load changed the network")
	}
}

// Gradient checks backward against a central finite difference of
// L = sum(logits * r) along a random direction v of all parameters, with
// the dropout masks frozen.
func Gradient(t *testing.T, newNet New) {
	m := newNet(2, 1)
	p := m.Program()
	if heavy(p) {
		t.Skip("heavy network: CNNC_LONG=1 runs it")
	}
	if rough(p) {
		t.Skip("more than 4M activations per image: too many kinks for finite differences; CNNC_LONG=1 runs it")
	}
	x := Input(p, 2, 11)
	logits, err := m.TrainForward(x)
	if err != nil {
		t.Fatal(err)
	}
	m.FreezeDropoutMasks(true)
	r := rt.NewRNG(12)
	dl := make([]float32, len(logits))
	for i := range dl {
		dl[i] = float32(r.Normal())
	}
	loss := func() float64 {
		y, err := m.TrainForward(x)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for i, v := range y {
			s += float64(v) * float64(dl[i])
		}
		return s
	}
	loss()
	if err := m.Backward(dl); err != nil {
		t.Fatal(err)
	}
	newDirection(m, r).check(t, loss)
}

// LossGradient checks the gradients of the training loss (softmax
// cross-entropy of the main output and the auxiliary heads, LossGradients)
// against a central finite difference of the loss along a random
// direction, with the dropout masks frozen.
func LossGradient(t *testing.T, newNet New) {
	m := newNet(2, 1)
	p := m.Program()
	if !p.Classifier {
		t.Skip("not a classifier: no loss")
	}
	if heavy(p) {
		t.Skip("heavy network: CNNC_LONG=1 runs it")
	}
	if rough(p) {
		t.Skip("more than 4M activations per image: too many kinks for finite differences; CNNC_LONG=1 runs it")
	}
	x, labels := Input(p, 2, 13), Labels(p, 2)
	if _, err := m.TrainForward(x); err != nil {
		t.Fatal(err)
	}
	m.FreezeDropoutMasks(true)
	l0, err := m.LossGradients(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	d := newDirection(m, rt.NewRNG(14))
	// The loss is a float32 near log(classes), good to about 6e-8 of
	// itself: a change along the direction below 2e-5 of it at the largest
	// step (1e-3) would be judged through its rounding (AlexNet's 1000
	// nearly uniform classes), and only the logit check (Gradient) can
	// judge that network's backward.
	if change := math.Abs(d.analytic) * 1e-3; change < 2e-5*math.Max(math.Abs(float64(l0)), 1) {
		t.Skipf("the loss changes by %.2g along the direction at the largest step, below float32's resolution of a loss of %.3g", change, l0)
	}
	d.check(t, func() float64 {
		l, err := m.LossGradients(x, labels)
		if err != nil {
			t.Fatal(err)
		}
		return float64(l)
	})
}

// trainable lists the data of the network's trainable tensors (not the
// buffers), in the order of Gradients.
func trainable(m *rt.Net) [][]float32 {
	var params [][]float32
	for _, ts := range m.Tensors() {
		if !ts.Buffer {
			params = append(params, ts.Data)
		}
	}
	return params
}

// direction is a random direction v of all parameters, each value scaled
// by its parameter's size, and the derivative along it that the gradients
// in Gradients give.
type direction struct {
	params, v [][]float32
	analytic  float64
}

func newDirection(m *rt.Net, r *rt.RNG) direction {
	d := direction{params: trainable(m)}
	for i, g := range m.Gradients() {
		v := make([]float32, len(g.Data))
		for j := range v {
			v[j] = float32(r.Normal()) * (1e-2 + float32(math.Abs(float64(d.params[i][j]))))
			d.analytic += float64(v[j]) * float64(g.Data[j])
		}
		d.v = append(d.v, v)
	}
	return d
}

// check compares the derivative along d with a central finite difference
// of loss.
func (d direction) check(t *testing.T, loss func() float64) {
	t.Helper()
	move := func(k float32) {
		for i, p := range d.params {
			for j := range p {
				p[j] += k * d.v[i][j]
			}
		}
	}
	// Kinks (relu, max pool) and batch statistics bend the loss, so the
	// difference is taken at six step sizes: a wrong backward is off at
	// every one, a right one converges as the step shrinks (until float32
	// rounding takes over, near 1e-5; a network with more relus needs the
	// smaller steps: mini_resnet's is off by 2.4% at 5e-5, 0.016% at 2e-5).
	best := math.Inf(1)
	var numerics []float64
	for _, eps := range []float32{1e-3, 3e-4, 1e-4, 5e-5, 2e-5, 1e-5} {
		move(eps)
		lp := loss()
		move(-2 * eps)
		lm := loss()
		move(eps)
		numeric := (lp - lm) / (2 * float64(eps))
		rel := math.Abs(numeric-d.analytic) / (math.Max(math.Abs(numeric), math.Abs(d.analytic)) + 1e-3)
		t.Logf("step %g: backward %.6g, finite difference %.6g, relative difference %.2g", eps, d.analytic, numeric, rel)
		best = math.Min(best, rel)
		numerics = append(numerics, numeric)
	}
	if best <= 1e-2 {
		return
	}
	// A deep network of relus and batch statistics at two images (ShuffleNet-v2)
	// can bend the loss so much that the finite differences have not settled by
	// the step where float32 rounding takes over: the three smallest steps then
	// disagree among themselves, and they cannot judge the backward unless it
	// lies far outside their spread.
	last := append([]float64(nil), numerics[len(numerics)-3:]...)
	slices.Sort(last)
	spread := last[2] - last[0]
	if spread/(math.Max(math.Abs(last[0]), math.Abs(last[2]))+1e-3) > 1e-2 && math.Abs(d.analytic-last[1]) <= 3*spread {
		t.Skipf("inconclusive: the finite differences at the three smallest steps spread over %.2g (relative %.2g) and have not settled; the backward, %.6g, is within 3 spreads of their median", spread, spread/math.Max(math.Abs(last[0]), math.Abs(last[2])), d.analytic)
	}
	t.Errorf("backward and finite differences differ by %.2g (relative) at best, more than 1e-2", best)
}

// BenchmarkForward measures inference in images per second at batches 1, 8
// and 64 (64 only up to 1 GMAC per image).
func BenchmarkForward(b *testing.B, newNet New) {
	for _, n := range batches(newNet, 1, 8, 64) {
		run(b, newNet, n, false)
	}
}

// BenchmarkTrainStep measures training (forward, loss, backward, update) in
// images per second at batches 8 and 64 (64 only up to 1 GMAC per image).
func BenchmarkTrainStep(b *testing.B, newNet New) {
	if !newNet(1, 1).Program().Classifier {
		b.Skip("not a classifier")
	}
	for _, n := range batches(newNet, 8, 64) {
		run(b, newNet, n, true)
	}
}

// batches drops 64 for a network above 1 GMAC per image.
func batches(newNet New, ns ...int) []int {
	if newNet(1, 1).Program().MACs <= 1e9 {
		return ns
	}
	return ns[:len(ns)-1]
}

func run(b *testing.B, newNet New, n int, train bool) {
	b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
		m := newNet(n, 1)
		p := m.Program()
		x, labels := Input(p, n, 1), Labels(p, n)
		step := func() error {
			if train {
				_, err := m.TrainStep(x, labels)
				return err
			}
			_, err := m.Forward(x)
			return err
		}
		if err := step(); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			step()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
	})
}
