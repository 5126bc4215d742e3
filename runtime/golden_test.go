package runtime

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"testing"
)

// Golden data from PyTorch (testdata/torch/gen.py; see its doc string for
// the format). Tolerance: max |got - torch| <= goldenTol * max |torch| for
// every tensor, unless stated otherwise at the call.
const goldenTol = 1e-4

type golden struct {
	t       *testing.T
	tensors map[string][]float32
	shapes  map[string][]int
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	var m struct {
		Torch   string
		Tensors []struct {
			Name   string
			Shape  []int
			Offset int
		}
	}
	js, err := os.ReadFile("testdata/torch/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/torch/data.bin")
	if err != nil {
		t.Fatal(err)
	}
	g := &golden{t: t, tensors: map[string][]float32{}, shapes: map[string][]int{}}
	for _, e := range m.Tensors {
		n := 1
		for _, d := range e.Shape {
			n *= d
		}
		if (e.Offset+n)*4 > len(raw) {
			t.Fatalf("golden %s: past the end of data.bin", e.Name)
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[(e.Offset+i)*4:]))
		}
		g.tensors[e.Name], g.shapes[e.Name] = v, e.Shape
	}
	return g
}

// get returns a copy of a tensor.
func (g *golden) get(name string) []float32 {
	v, ok := g.tensors[name]
	if !ok {
		g.t.Fatalf("golden tensor %q missing", name)
	}
	return append([]float32(nil), v...)
}

func (g *golden) shape(name string) []int { g.get(name); return g.shapes[name] }

// cmp compares got with the golden tensor and logs the difference.
func (g *golden) cmp(name string, got []float32) {
	g.t.Helper()
	want := g.get(name)
	rel := closeRel(g.t, name, got, want, goldenTol)
	g.t.Logf("%-22s max|diff| = %.2e * max|torch| (%.3g)", name, rel, maxAbs(want))
}

func (g *golden) labels(name string) []int32 {
	v := g.get(name)
	l := make([]int32, len(v))
	for i, f := range v {
		l[i] = int32(f)
	}
	return l
}

func TestGoldenConv(t *testing.T) {
	g := loadGolden(t)
	for _, tc := range []struct {
		name                string
		stride, pad, dil, g int
		dyIsY, ref          bool
	}{
		{"conv1", 4, 0, 1, 1, true, false},
		{"convg", 2, 1, 1, 2, false, true},
		{"convd", 1, 2, 2, 1, false, true},
		{"conv1x1", 1, 0, 1, 1, false, true},
		{"conv2", 1, 2, 1, 2, false, true},
	} {
		xs, ws, ys := g.shape(tc.name+".x"), g.shape(tc.name+".w"), g.shape(tc.name+".y")
		n := xs[0]
		c := Conv{C: xs[1], H: xs[2], W: xs[3], K: ws[0], KH: ws[2], KW: ws[3], SH: tc.stride, SW: tc.stride,
			PH: tc.pad, PW: tc.pad, DH: tc.dil, DW: tc.dil, G: tc.g, OH: ys[2], OW: ys[3]}
		x, w := g.get(tc.name+".x"), g.get(tc.name+".w")
		var b, db []float32
		if _, ok := g.tensors[tc.name+".b"]; ok {
			b, db = g.get(tc.name+".b"), make([]float32, c.K)
		}
		var dy []float32
		if tc.dyIsY {
			dy = g.get(tc.name + ".y")
		} else {
			dy = g.get(tc.name + ".dy")
		}
		sc := make([]float32, c.ScratchSize(n))
		y, dx, dw := make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w))
		c.Forward(n, x, w, b, y, sc)
		c.BackwardData(n, dy, w, dx, sc)
		c.BackwardFilter(n, x, dy, dw, db, sc)
		g.cmp(tc.name+".y", y)
		g.cmp(tc.name+".dx", dx)
		g.cmp(tc.name+".dw", dw)
		if b != nil {
			g.cmp(tc.name+".db", db)
		}
		if tc.ref {
			clear(dx)
			clear(dw)
			c.ForwardRef(n, x, w, b, y)
			c.BackwardDataRef(n, dy, w, dx)
			c.BackwardFilterRef(n, x, dy, dw, nil)
			g.cmp(tc.name+".y", y)
			g.cmp(tc.name+".dx", dx)
			g.cmp(tc.name+".dw", dw)
		}
	}
}

func TestGoldenPool(t *testing.T) {
	g := loadGolden(t)
	for _, tc := range []struct {
		name      string
		max, ceil bool
		k, s, p   int
	}{
		{"maxceil", true, true, 3, 2, 1},
		{"maxalex", true, false, 3, 2, 0},
		{"maxceil2", true, true, 3, 2, 0},
		{"avgceil", false, true, 3, 2, 1},
		{"avgceil2", false, true, 2, 2, 1},
		{"avgceil3", false, true, 3, 2, 1},
		{"avgfloor", false, false, 5, 3, 0},
	} {
		xs, ys := g.shape(tc.name+".x"), g.shape(tc.name+".y")
		n := xs[0]
		p := Pool{C: xs[1], H: xs[2], W: xs[3], KH: tc.k, KW: tc.k, SH: tc.s, SW: tc.s, PH: tc.p, PW: tc.p, Ceil: tc.ceil,
			OH: PoolOutSize(xs[2], tc.k, tc.s, tc.p, tc.ceil), OW: PoolOutSize(xs[3], tc.k, tc.s, tc.p, tc.ceil)}
		if p.OH != ys[2] || p.OW != ys[3] {
			t.Fatalf("%s: PoolOutSize gives %dx%d, torch %dx%d", tc.name, p.OH, p.OW, ys[2], ys[3])
		}
		x, dy := g.get(tc.name+".x"), g.get(tc.name+".dy")
		y, dx := make([]float32, len(dy)), make([]float32, len(x))
		yr, dxr := make([]float32, len(dy)), make([]float32, len(x))
		if tc.max {
			a := make([]int32, len(y))
			MaxPool(p).Forward(n, x, y, a)
			MaxPool(p).Backward(n, dy, a, dx)
			MaxPool(p).ForwardRef(n, x, yr, a)
			MaxPool(p).BackwardRef(n, dy, a, dxr)
		} else {
			AvgPool(p).Forward(n, x, y)
			AvgPool(p).Backward(n, dy, dx)
			AvgPool(p).ForwardRef(n, x, yr)
			AvgPool(p).BackwardRef(n, dy, dxr)
		}
		g.cmp(tc.name+".y", y)
		g.cmp(tc.name+".dx", dx)
		g.cmp(tc.name+".y", yr)
		g.cmp(tc.name+".dx", dxr)
	}
	gp := GAP{C: 3, H: 4, W: 5}
	x, dy := g.get("gap.x"), g.get("gap.dy")
	y, dx := make([]float32, len(dy)), make([]float32, len(x))
	gp.Forward(2, x, y)
	gp.Backward(2, dy, dx)
	g.cmp("gap.y", y)
	g.cmp("gap.dx", dx)
}

func TestGoldenLRN(t *testing.T) {
	g := loadGolden(t)
	for _, tc := range []struct {
		name           string
		size           int
		alpha, beta, k float32
	}{{"lrn", 5, 1e-4, 0.75, 2}, {"lrnbig", 3, 0.5, 0.6, 1}} {
		xs := g.shape(tc.name + ".x")
		n := xs[0]
		l := LRN{C: xs[1], H: xs[2], W: xs[3], Size: tc.size, Alpha: tc.alpha, Beta: tc.beta, K: tc.k}
		x, dy := g.get(tc.name+".x"), g.get(tc.name+".dy")
		y, s, dx, sc := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x)), make([]float32, l.ScratchSize())
		l.Forward(n, x, y, s, sc)
		l.Backward(n, x, y, s, dy, dx, sc)
		g.cmp(tc.name+".y", y)
		g.cmp(tc.name+".dx", dx)
		clear(dx)
		l.ForwardRef(n, x, y, s)
		l.BackwardRef(n, x, y, s, dy, dx)
		g.cmp(tc.name+".y", y)
		g.cmp(tc.name+".dx", dx)
	}
}

func TestGoldenLeakyReLU(t *testing.T) {
	g := loadGolden(t)
	l := LeakyReLU{Slope: 0.1}
	y := append([]float32(nil), g.get("leakyrelu.x")...)
	l.Forward(y)
	g.cmp("leakyrelu.y", y)
	dx := append([]float32(nil), g.get("leakyrelu.dy")...)
	l.Backward(y, dx)
	g.cmp("leakyrelu.dx", dx)
}

func TestGoldenBN(t *testing.T) {
	g := loadGolden(t)
	// PyTorch's defaults; and torchvision GoogLeNet's eps with a small
	// momentum, over variances small enough for eps to matter.
	for _, tc := range []struct {
		name string
		b    BN
		n    int
	}{
		{"bn", BN{C: 3, H: 5, W: 5, Momentum: 0.1}, 4},
		{"bneps", BN{C: 4, H: 3, W: 6, Eps: 1e-3, Momentum: 0.01}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) { goldenBN(t, g, tc.name, tc.b, tc.n) })
	}
}

func goldenBN(t *testing.T, gl *golden, name string, b BN, n int) {
	g := &golden{t: t, tensors: gl.tensors, shapes: gl.shapes}
	c := b.C
	x, dy, gamma, beta := g.get(name+".x"), g.get(name+".dy"), g.get(name+".gamma"), g.get(name+".beta")
	for _, ref := range []bool{false, true} {
		rm, rv := g.get(name+".running_mean0"), g.get(name+".running_var0")
		y, mean, inv := make([]float32, len(x)), make([]float32, c), make([]float32, c)
		dx, dg, db := make([]float32, len(x)), make([]float32, c), make([]float32, c)
		if ref {
			b.ForwardTrainRef(n, x, y, gamma, beta, rm, rv, mean, inv)
			b.BackwardRef(n, x, dy, gamma, mean, inv, dx, dg, db)
		} else {
			b.ForwardTrain(n, x, y, gamma, beta, rm, rv, mean, inv)
			b.Backward(n, x, dy, gamma, mean, inv, dx, dg, db)
		}
		g.cmp(name+".y", y)
		g.cmp(name+".running_mean1", rm)
		g.cmp(name+".running_var1", rv)
		g.cmp(name+".dx", dx)
		g.cmp(name+".dgamma", dg)
		g.cmp(name+".dbeta", db)
		b.ForwardInfer(n, x, y, gamma, beta, rm, rv)
		g.cmp(name+".y_eval", y)
	}
}

func TestGoldenFCSoftmax(t *testing.T) {
	g := loadGolden(t)
	f := FC{In: 10, Out: 5}
	x, w, b, dy := g.get("fc.x"), g.get("fc.w"), g.get("fc.b"), g.get("fc.dy")
	y, dx, dw, db := make([]float32, 15), make([]float32, 30), make([]float32, 50), make([]float32, 5)
	f.Forward(3, x, w, b, y)
	f.BackwardData(3, dy, w, dx)
	f.BackwardFilter(3, x, dy, dw, db)
	g.cmp("fc.y", y)
	g.cmp("fc.dx", dx)
	g.cmp("fc.dw", dw)
	g.cmp("fc.db", db)

	s := Softmax{Classes: 10}
	logits, labels := g.get("xent.logits"), g.labels("xent.labels")
	p := make([]float32, 40)
	s.Forward(4, logits, p)
	g.cmp("xent.probs", p)
	loss := s.Loss(4, logits, labels, p)
	g.cmp("xent.probs", p)
	g.cmp("xent.loss", []float32{loss})
	d := make([]float32, 40)
	s.LossBackward(4, p, labels, 0.3, d)
	g.cmp("xent.dlogits_w03", d)
}

func TestGoldenOptim(t *testing.T) {
	g := loadGolden(t)
	for _, name := range []string{"sgd", "nesterov", "sgdplain", "adam"} {
		w := g.get(name + ".w0")
		grad := make([]float32, len(w))
		ps := []Param{{Name: "w", W: w, G: grad}}
		var step func()
		switch name {
		case "sgd":
			step = NewSGD(ps, 0.1, 0.9, 0.01, false).Step
		case "nesterov":
			step = NewSGD(ps, 0.1, 0.9, 0.01, true).Step
		case "sgdplain":
			step = NewSGD(ps, 0.05, 0, 0.001, false).Step
		case "adam":
			step = NewAdam(ps, 0.01, 0.01).Step
		}
		for i := 0; i < 3; i++ {
			copy(grad, g.get(name+".g"+string(rune('0'+i))))
			step()
			g.cmp(name+".w"+string(rune('1'+i)), w)
		}
	}
}

// TestOptimState: saving and restoring the state mid-run gives the same
// trajectory as an uninterrupted run.
func TestOptimState(t *testing.T) {
	r := newRand(30)
	g1, g2 := randSlice(r, 8), randSlice(r, 8)
	for _, adam := range []bool{false, true} {
		run := func(split bool) []float32 {
			w, grad := make([]float32, 8), make([]float32, 8)
			ps := []Param{{Name: "w", W: w, G: grad}}
			type opt interface {
				Step()
				State() OptimState
				SetState(OptimState) error
			}
			mk := func() opt {
				if adam {
					return NewAdam(ps, 0.01, 0.1)
				}
				return NewSGD(ps, 0.1, 0.9, 0.1, true)
			}
			o := mk()
			copy(grad, g1)
			o.Step()
			if split {
				st := o.State()
				o = mk()
				if err := o.SetState(st); err != nil {
					t.Fatal(err)
				}
			}
			copy(grad, g2)
			o.Step()
			return w
		}
		if d := maxDiff(t, run(false), run(true)); d != 0 {
			t.Errorf("adam=%v: restored run differs by %g", adam, d)
		}
	}
	o := NewSGD([]Param{{Name: "w", W: make([]float32, 2), G: make([]float32, 2)}}, 0.1, 0.9, 0, false)
	if o.SetState(OptimState{Tensors: map[string][]float32{"w.momentum_buffer": {1}}}) == nil {
		t.Error("state of the wrong size accepted")
	}
}

func TestGoldenSchedules(t *testing.T) {
	g := loadGolden(t)
	acc, want := g.get("plateau.acc"), g.get("plateau.lr")
	p := NewPlateau(0.01)
	p.Patience = 2
	got := make([]float32, len(acc))
	for i, a := range acc {
		// torch compares float64 Python numbers: use the value it saw
		got[i] = float32(p.Step(float64(acc64(a))))
	}
	g.cmp("plateau.lr", got)
	// the state survives a JSON round trip mid-run
	q := NewPlateau(0.01)
	q.Patience = 2
	for i, a := range acc {
		js, err := json.Marshal(q)
		if err != nil {
			t.Fatal(err)
		}
		var r Plateau
		if err := json.Unmarshal(js, &r); err != nil {
			t.Fatal(err)
		}
		q = r
		if lr := q.Step(acc64(a)); float32(lr) != got[i] {
			t.Fatalf("epoch %d: restored plateau gives lr %g, want %g", i, lr, got[i])
		}
	}
	if maxDiff(t, got, want) > 1e-9 && t.Failed() {
		t.Logf("plateau: got %v want %v", got, want)
	}
	ms := StepLR{Gamma: 0.1, Milestones: []int{3, 5}}
	st := StepLR{Gamma: 0.5, StepSize: 3}
	gm, gs := make([]float32, 8), make([]float32, 8)
	for e := range 8 {
		gm[e], gs[e] = float32(ms.LR(0.1, e)), float32(st.LR(0.1, e))
	}
	g.cmp("multistep.lr", gm)
	g.cmp("steplr.lr", gs)
}

// acc64 recovers the decimal value the Python script used from its float32
// copy (the accuracies in gen.py have at most 5 decimals).
func acc64(a float32) float64 { return math.Round(float64(a)*1e5) / 1e5 }
