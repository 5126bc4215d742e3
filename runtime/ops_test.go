package runtime

import (
	"fmt"
	"math"
	"testing"
)

func pool(c, h, w, k, s, p int, ceil bool) Pool {
	return Pool{C: c, H: h, W: w, KH: k, KW: k, SH: s, SW: s, PH: p, PW: p, Ceil: ceil,
		OH: PoolOutSize(h, k, s, p, ceil), OW: PoolOutSize(w, k, s, p, ceil)}
}

var poolCases = []Pool{
	pool(2, 7, 7, 3, 2, 0, false),
	pool(2, 7, 7, 3, 2, 1, true),
	pool(3, 6, 6, 3, 2, 1, true), // last window clipped at the padded border
	pool(2, 5, 5, 2, 2, 0, true), // last window holds one column
	pool(2, 5, 5, 3, 3, 1, true), // ceil rule drops a window starting in the right padding
	pool(1, 8, 5, 2, 2, 1, false),
	pool(3, 13, 13, 3, 2, 0, true),
	{C: 2, H: 9, W: 7, KH: 3, KW: 2, SH: 2, SW: 1, PH: 1, PW: 0, Ceil: true, OH: 5, OW: 6},
	pool(2, 12, 12, 2, 2, 0, false), // LeNet's: every window whole
	pool(2, 4, 9, 4, 4, 0, false),   // a wider window than the rows above take
}

func TestPoolOutSize(t *testing.T) {
	// values from torch.nn.functional.max_pool2d
	for _, c := range []struct {
		in, k, s, p int
		ceil        bool
		want        int
	}{
		{55, 3, 2, 0, false, 27}, {56, 3, 2, 0, true, 28}, {5, 3, 3, 1, true, 2},
		{6, 3, 2, 1, true, 4}, {5, 2, 2, 0, true, 3}, {112, 3, 2, 1, false, 56}, {14, 3, 1, 1, true, 14},
	} {
		if got := PoolOutSize(c.in, c.k, c.s, c.p, c.ceil); got != c.want {
			t.Errorf("PoolOutSize(%d,%d,%d,%d,%v) = %d, want %d", c.in, c.k, c.s, c.p, c.ceil, got, c.want)
		}
	}
	bad := pool(2, 7, 7, 3, 2, 2, false)
	if bad.Validate() == nil {
		t.Error("padding > window/2 accepted")
	}
}

// parallelPlanes makes the memory-bound kernels split even tiny tensors
// over 2 workers; call as defer parallelPlanes()().
// parallelConvs lowers convParallelMACs to 0 so that the conv tests' small
// shapes run on the workers as large ones do; call the result to restore.
func parallelConvs() func() {
	old := convParallelMACs
	convParallelMACs = 0
	return func() { convParallelMACs = old }
}

func parallelPlanes() func() {
	old, oldW := minParallelElems, SetWorkers(2)
	minParallelElems = 0
	return func() { minParallelElems = old; SetWorkers(oldW) }
}

func TestPoolFastVsRef(t *testing.T) {
	for _, par := range []bool{false, true} {
		t.Run(fmt.Sprint("parallel=", par), func(t *testing.T) {
			if par {
				defer parallelPlanes()()
			}
			testPoolFastVsRef(t)
		})
	}
}

func testPoolFastVsRef(t *testing.T) {
	r := newRand(10)
	for pi, p := range poolCases {
		n := 2
		x := randSlice(r, n*p.C*p.H*p.W)
		dy := randSlice(r, n*p.C*p.OH*p.OW)
		y, yRef := make([]float32, len(dy)), make([]float32, len(dy))
		a, aRef := make([]int32, len(dy)), make([]int32, len(dy))
		MaxPool(p).ForwardRef(n, x, yRef, aRef)
		MaxPool(p).Forward(n, x, y, a)
		closeRel(t, fmt.Sprintf("max%d.y", pi), y, yRef, 0)
		yInf := make([]float32, len(y))
		MaxPool(p).Forward(n, x, yInf, nil) // inference: no argmax
		closeRel(t, fmt.Sprintf("max%d.y without argmax", pi), yInf, yRef, 0)
		for i := range a {
			if a[i] != aRef[i] {
				t.Fatalf("max%d: argmax[%d] = %d, want %d", pi, i, a[i], aRef[i])
			}
		}
		dx, dxRef := make([]float32, len(x)), make([]float32, len(x))
		MaxPool(p).BackwardRef(n, dy, aRef, dxRef)
		MaxPool(p).Backward(n, dy, a, dx)
		closeRel(t, fmt.Sprintf("max%d.dx", pi), dx, dxRef, 1e-6)

		AvgPool(p).ForwardRef(n, x, yRef)
		AvgPool(p).Forward(n, x, y)
		closeRel(t, fmt.Sprintf("avg%d.y", pi), y, yRef, 1e-6)
		clear(dx)
		clear(dxRef)
		AvgPool(p).BackwardRef(n, dy, dxRef)
		AvgPool(p).Backward(n, dy, dx)
		closeRel(t, fmt.Sprintf("avg%d.dx", pi), dx, dxRef, 1e-6)
	}
}

// TestMaxPoolTies: ties go to the first maximum, NaN to the last NaN, and
// -0/+0 keep the first one's sign, as in PyTorch's max_pool2d.
func TestMaxPoolTies(t *testing.T) {
	nan, negZero := float32(math.NaN()), float32(math.Copysign(0, -1))
	p := MaxPool(pool(1, 2, 3, 2, 1, 0, false)) // windows over columns 0-1 and 1-2
	for _, tc := range []struct {
		x    []float32
		want []int32
	}{
		{[]float32{1, 3, 3, 0, 3, 1}, []int32{1, 1}},
		{[]float32{nan, 1, nan, 2, 1, 0}, []int32{0, 2}},
		{[]float32{negZero, 0, -1, 0, -1, -1}, []int32{0, 1}},
	} {
		y, yr := make([]float32, 2), make([]float32, 2)
		a, ar := make([]int32, 2), make([]int32, 2)
		p.Forward(1, tc.x, y, a)
		p.ForwardRef(1, tc.x, yr, ar)
		for k := range a {
			if a[k] != tc.want[k] || ar[k] != tc.want[k] {
				t.Errorf("x %v: argmax %v (ref %v), want %v", tc.x, a, ar, tc.want)
			}
			if math.Float32bits(y[k]) != math.Float32bits(tc.x[a[k]]) && y[k] == y[k] {
				t.Errorf("x %v: y %v is not x[argmax]", tc.x, y)
			}
		}
		// Without argmax (inference): the same maxima, NaN winning; only the
		// sign of a zero maximum may differ.
		yi := make([]float32, 2)
		p.Forward(1, tc.x, yi, nil)
		for k := range yi {
			if yi[k] != y[k] && !(yi[k] != yi[k] && y[k] != y[k]) {
				t.Errorf("x %v: maxima without argmax %v, with %v", tc.x, yi, y)
			}
		}
	}
}

func TestPoolGrad(t *testing.T) {
	r := newRand(11)
	for pi, p := range poolCases {
		n := 2
		x := randSlice(r, n*p.C*p.H*p.W)
		rr := randSlice(r, n*p.C*p.OH*p.OW)
		y := make([]float32, len(rr))
		a := make([]int32, len(rr))
		dx := make([]float32, len(x))
		MaxPool(p).ForwardRef(n, x, y, a)
		MaxPool(p).BackwardRef(n, rr, a, dx)
		gradCheck(t, fmt.Sprintf("maxpool%d.dx", pi), x, dx, func() float64 {
			MaxPool(p).ForwardRef(n, x, y, a)
			return dot64(y, rr)
		}, 1e-4, 1e-3)
		clear(dx)
		AvgPool(p).BackwardRef(n, rr, dx)
		gradCheck(t, fmt.Sprintf("avgpool%d.dx", pi), x, dx, func() float64 {
			AvgPool(p).ForwardRef(n, x, y)
			return dot64(y, rr)
		}, 1e-2, 1e-3)
	}
	g := GAP{C: 3, H: 5, W: 4}
	n := 2
	x, rr := randSlice(r, n*60), randSlice(r, n*3)
	y, yRef, dx, dxRef := make([]float32, n*3), make([]float32, n*3), make([]float32, n*60), make([]float32, n*60)
	g.ForwardRef(n, x, yRef)
	g.Forward(n, x, y)
	closeRel(t, "gap.y", y, yRef, 1e-6)
	g.BackwardRef(n, rr, dxRef)
	g.Backward(n, rr, dx)
	closeRel(t, "gap.dx", dx, dxRef, 1e-6)
	gradCheck(t, "gap.dx", x, dxRef, func() float64 { g.ForwardRef(n, x, y); return dot64(y, rr) }, 1e-2, 1e-3)
}

func TestLRN(t *testing.T) {
	for _, par := range []bool{false, true} {
		t.Run(fmt.Sprint("parallel=", par), func(t *testing.T) {
			if par {
				defer parallelPlanes()()
			}
			testLRN(t)
		})
	}
}

func testLRN(t *testing.T) {
	r := newRand(12)
	for _, l := range []LRN{
		{C: 7, H: 3, W: 4, Size: 5, Alpha: 0.5, Beta: 0.75, K: 1},
		{C: 3, H: 2, W: 5, Size: 5, Alpha: 0.3, Beta: 0.6, K: 2},
		{C: 6, H: 2, W: 2, Size: 4, Alpha: 1, Beta: 0.75, K: 1.5}, // even size: asymmetric window
		{C: 5, H: 3, W: 3, Size: 1, Alpha: 0.2, Beta: 1, K: 1},
	} {
		name := fmt.Sprintf("lrn%d", l.Size)
		n := 2
		sz := n * l.C * l.H * l.W
		x, rr := randSlice(r, sz), randSlice(r, sz)
		y, s, yRef, sRef := make([]float32, sz), make([]float32, sz), make([]float32, sz), make([]float32, sz)
		sc := make([]float32, l.ScratchSize())
		l.ForwardRef(n, x, yRef, sRef)
		l.Forward(n, x, y, s, sc)
		closeRel(t, name+".y", y, yRef, 1e-6)
		closeRel(t, name+".scale", s, sRef, 1e-6)
		dx, dxRef := make([]float32, sz), make([]float32, sz)
		l.BackwardRef(n, x, yRef, sRef, rr, dxRef)
		l.Backward(n, x, y, s, rr, dx, sc)
		closeRel(t, name+".dx", dx, dxRef, 1e-5)
		gradCheck(t, name+".dx", x, dxRef, func() float64 { l.ForwardRef(n, x, y, s); return dot64(y, rr) }, 1e-3, 1e-3)
	}
}

func TestBN(t *testing.T) {
	for _, par := range []bool{false, true} {
		t.Run(fmt.Sprint("parallel=", par), func(t *testing.T) {
			if par {
				defer parallelPlanes()()
			}
			testBN(t)
		})
	}
}

func testBN(t *testing.T) {
	r := newRand(13)
	b := BN{C: 3, H: 4, W: 5, Momentum: 0.1}
	n := 2
	sz := n * b.C * b.H * b.W
	x, rr, gamma, beta := randSlice(r, sz), randSlice(r, sz), randSlice(r, 3), randSlice(r, 3)
	rm, rv := randSlice(r, 3), []float32{0.5, 1, 2}
	rm2, rv2 := append([]float32(nil), rm...), append([]float32(nil), rv...)
	y, yRef := make([]float32, sz), make([]float32, sz)
	mean, inv, meanRef, invRef := make([]float32, 3), make([]float32, 3), make([]float32, 3), make([]float32, 3)
	b.ForwardTrainRef(n, x, yRef, gamma, beta, rm2, rv2, meanRef, invRef)
	b.ForwardTrain(n, x, y, gamma, beta, rm, rv, mean, inv)
	closeRel(t, "bn.y", y, yRef, 1e-6)
	closeRel(t, "bn.running_mean", rm, rm2, 1e-6)
	closeRel(t, "bn.running_var", rv, rv2, 1e-6)
	dx, dg, db := make([]float32, sz), make([]float32, 3), make([]float32, 3)
	dxRef, dgRef, dbRef := make([]float32, sz), make([]float32, 3), make([]float32, 3)
	b.BackwardRef(n, x, rr, gamma, meanRef, invRef, dxRef, dgRef, dbRef)
	b.Backward(n, x, rr, gamma, mean, inv, dx, dg, db)
	closeRel(t, "bn.dx", dx, dxRef, 1e-5)
	closeRel(t, "bn.dgamma", dg, dgRef, 1e-5)
	closeRel(t, "bn.dbeta", db, dbRef, 1e-5)
	loss := func() float64 {
		b.ForwardTrainRef(n, x, y, gamma, beta, rm2, rv2, meanRef, invRef)
		return dot64(y, rr)
	}
	gradCheck(t, "bn.dx", x, dxRef, loss, 1e-3, 2e-3)
	gradCheck(t, "bn.dgamma", gamma, dgRef, loss, 1e-3, 1e-3)
	gradCheck(t, "bn.dbeta", beta, dbRef, loss, 1e-3, 1e-3)

	// inference: with running stats equal to the batch statistics
	// (biased variance), eval equals train.
	b.ForwardTrain(n, x, y, gamma, beta, rm, rv, mean, inv)
	for c := 0; c < 3; c++ {
		rm[c] = mean[c]
		rv[c] = 1/(inv[c]*inv[c]) - 1e-5
	}
	b.ForwardInfer(n, x, yRef, gamma, beta, rm, rv)
	closeRel(t, "bn.eval", yRef, y, 1e-4)
}

func TestFoldBN(t *testing.T) {
	r := newRand(14)
	c := conv(3, 6, 6, 4, 3, 3, 1, 1, 1, 1, false)
	b := BN{C: 4, H: c.OH, W: c.OW}
	x, w, bias := randSlice(r, c.inSize()), randSlice(r, c.wSize()), randSlice(r, 4)
	gamma, beta, rm := randSlice(r, 4), randSlice(r, 4), randSlice(r, 4)
	rv := []float32{0.3, 1, 2, 0.7}
	y, want := make([]float32, c.outSize()), make([]float32, c.outSize())
	c.ForwardRef(1, x, w, bias, y)
	b.ForwardInfer(1, y, want, gamma, beta, rm, rv)
	FoldBN(w, bias, gamma, beta, rm, rv, 0)
	c.ForwardRef(1, x, w, bias, y)
	closeRel(t, "folded", y, want, 1e-5)
}

func TestFC(t *testing.T) {
	r := newRand(15)
	for _, f := range []FC{{In: 7, Out: 5}, {In: 3, Out: 9, ReLU: true}, {In: 70, Out: 130}, {In: 37, Out: 11, ReLU: true}, {In: 600, Out: 500}} {
		// One image: the matrix-vector product (rows in fours, a tail of
		// rows and of columns, on 1 and 2 workers, parallel from any size).
		for _, workers := range []int{1, 2} {
			func() {
				defer SetWorkers(SetWorkers(workers))
				defer parallelConvs()()
				x, w, b := randSlice(r, f.In), randSlice(r, f.In*f.Out), randSlice(r, f.Out)
				y, yRef := make([]float32, f.Out), make([]float32, f.Out)
				f.ForwardRef(1, x, w, b, yRef)
				f.Forward(1, x, w, b, y)
				closeRel(t, fmt.Sprintf("fc %d-%d one image, %d workers", f.In, f.Out, workers), y, yRef, 1e-5)
			}()
		}
		n := 3
		x, w, b, dy := randSlice(r, n*f.In), randSlice(r, f.In*f.Out), randSlice(r, f.Out), randSlice(r, n*f.Out)
		y, yRef := make([]float32, n*f.Out), make([]float32, n*f.Out)
		f.ForwardRef(n, x, w, b, yRef)
		f.Forward(n, x, w, b, y)
		closeRel(t, "fc.y", y, yRef, 1e-5)
		dx, dxRef := randSlice(r, n*f.In), make([]float32, n*f.In)
		copy(dxRef, dx)
		f.BackwardDataRef(n, dy, w, dxRef)
		f.BackwardData(n, dy, w, dx)
		closeRel(t, "fc.dx", dx, dxRef, 1e-5)
		dw, db := randSlice(r, f.In*f.Out), randSlice(r, f.Out)
		dwRef, dbRef := append([]float32(nil), dw...), append([]float32(nil), db...)
		f.BackwardFilterRef(n, x, dy, dwRef, dbRef)
		f.BackwardFilter(n, x, dy, dw, db)
		closeRel(t, "fc.dw", dw, dwRef, 1e-5)
		closeRel(t, "fc.db", db, dbRef, 1e-5)
		if f.ReLU {
			continue
		}
		clear(dxRef)
		clear(dwRef)
		clear(dbRef)
		f.BackwardDataRef(n, dy, w, dxRef)
		f.BackwardFilterRef(n, x, dy, dwRef, dbRef)
		loss := func() float64 { f.ForwardRef(n, x, w, b, y); return dot64(y, dy) }
		gradCheck(t, "fc.dx", x, dxRef, loss, 1e-2, 1e-3)
		gradCheck(t, "fc.dw", w, dwRef, loss, 1e-2, 1e-3)
		gradCheck(t, "fc.db", b, dbRef, loss, 1e-2, 1e-3)
	}
}

func TestSoftmax(t *testing.T) {
	r := newRand(16)
	s := Softmax{Classes: 7}
	n := 4
	x := randSlice(r, n*7)
	for i := range x {
		x[i] *= 5
	}
	x[3] = 80 // large logits must not overflow
	labels := []int32{3, 0, 6, 2}
	y, yRef, p := make([]float32, n*7), make([]float32, n*7), make([]float32, n*7)
	s.ForwardRef(n, x, yRef)
	s.Forward(n, x, y)
	closeRel(t, "softmax", y, yRef, 1e-6)
	loss := s.Loss(n, x, labels, p)
	closeRel(t, "loss probs", p, yRef, 1e-6)
	var want float64
	for i, l := range labels {
		want -= math.Log(float64(yRef[i*7+int(l)])) / float64(n)
	}
	if math.Abs(float64(loss)-want) > 1e-5*max(1, want) {
		t.Errorf("loss %v, want %v", loss, want)
	}
	dx := make([]float32, n*7)
	const weight = 0.3
	s.LossBackward(n, p, labels, weight, dx)
	gradCheck(t, "xent.dx", x, dx, func() float64 { return weight * float64(s.Loss(n, x, labels, p)) }, 1e-2, 2e-3)
	if s.Accuracy(n, x, labels) < 1 {
		t.Error("accuracy: the row with logit 80 at its label is not counted")
	}
}

func TestDropout(t *testing.T) {
	d := Dropout{P: 0.3}
	x := make([]float32, 100000)
	Fill(x, 2)
	mask := make([]float32, len(x))
	d.Forward(x, mask, NewRNG(1), true)
	zeros := 0
	for i, v := range x {
		switch {
		case v == 0 && mask[i] == 0:
			zeros++
		case math.Abs(float64(v)-2/0.7) < 1e-6 && math.Abs(float64(mask[i])-1/0.7) < 1e-6:
		default:
			t.Fatalf("x[%d] = %v, mask %v: want 0 or 2/(1-p)", i, v, mask[i])
		}
	}
	if frac := float64(zeros) / float64(len(x)); math.Abs(frac-0.3) > 0.01 {
		t.Errorf("dropped fraction %.4f, want 0.3", frac)
	}
	dy := make([]float32, len(x))
	Fill(dy, 1)
	d.Backward(dy, mask)
	for i := range dy {
		if dy[i] != mask[i] {
			t.Fatal("backward is not dy*mask")
		}
	}
	// evaluation: identity; same seed: same mask
	y := []float32{1, 2, 3}
	d.Forward(y, nil, nil, false)
	if y[0] != 1 || y[2] != 3 {
		t.Error("eval dropout changed x")
	}
	m2 := make([]float32, len(x))
	Fill(x, 2)
	d.Forward(x, m2, NewRNG(1), true)
	if maxDiff(t, m2, mask) != 0 {
		t.Error("same seed gave a different mask")
	}
}

func TestReLUAddConcat(t *testing.T) {
	x := []float32{-1, 2, 0, -3, 4}
	ReLUForward(x)
	if x[0] != 0 || x[1] != 2 || x[3] != 0 || x[4] != 4 {
		t.Errorf("relu: %v", x)
	}
	dy := []float32{1, 1, 1, 1, 1}
	ReLUBackward(x, dy)
	if dy[0] != 0 || dy[1] != 1 || dy[2] != 0 || dy[4] != 1 {
		t.Errorf("relu backward: %v", dy)
	}
	a, b, y := []float32{1, 2}, []float32{10, 20}, make([]float32, 2)
	AddForward(a, b, y)
	da, db := []float32{1, 1}, []float32{0, 0}
	AddBackward([]float32{5, 6}, da, db)
	if y[1] != 22 || da[1] != 7 || db[0] != 5 {
		t.Errorf("add: y %v da %v db %v", y, da, db)
	}
	// concat of (2,1,2) and (2,2,2) into (2,3,2), then the split
	n := 2
	c1, c2 := Concat{C: 1, Total: 3, Off: 0, HW: 2}, Concat{C: 2, Total: 3, Off: 1, HW: 2}
	x1, x2 := []float32{1, 2, 3, 4}, []float32{5, 6, 7, 8, 9, 10, 11, 12}
	out := make([]float32, 12)
	c1.Forward(n, x1, out)
	c2.Forward(n, x2, out)
	want := []float32{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}
	if maxDiff(t, out, want) != 0 {
		t.Errorf("concat: %v, want %v", out, want)
	}
	g1, g2 := make([]float32, 4), make([]float32, 8)
	c1.Backward(n, want, g1)
	c2.Backward(n, want, g2)
	if maxDiff(t, g1, x1) != 0 || maxDiff(t, g2, x2) != 0 {
		t.Errorf("split: %v %v", g1, g2)
	}
}

func TestPanicsOnWrongSizes(t *testing.T) {
	c := convCases[0]
	for name, f := range map[string]func(){
		"conv": func() {
			c.Forward(1, make([]float32, 3), make([]float32, c.wSize()), nil, make([]float32, c.outSize()), nil)
		},
		"maxpool": func() { MaxPool(poolCases[0]).Forward(1, nil, nil, nil) },
		"fc":      func() { FC{In: 2, Out: 3}.Forward(1, make([]float32, 2), make([]float32, 5), nil, make([]float32, 3)) },
		"labels":  func() { Softmax{Classes: 3}.Loss(1, make([]float32, 3), []int32{3}, make([]float32, 3)) },
		"concat":  func() { Concat{C: 2, Total: 3, Off: 2, HW: 1}.Forward(1, make([]float32, 2), make([]float32, 3)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestAllocs(t *testing.T) {
	for _, par := range []bool{false, true} {
		t.Run(fmt.Sprint("parallel=", par), func(t *testing.T) {
			if par {
				defer parallelPlanes()()
			}
			testAllocs(t)
		})
	}
}

func testAllocs(t *testing.T) {
	r := newRand(17)
	p := poolCases[2]
	n := 2
	x := randSlice(r, n*p.C*p.H*p.W)
	y, a, dx := make([]float32, n*p.C*p.OH*p.OW), make([]int32, n*p.C*p.OH*p.OW), make([]float32, len(x))
	l := LRN{C: p.C, H: p.H, W: p.W, Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2}
	ly, ls, lsc := make([]float32, len(x)), make([]float32, len(x)), make([]float32, l.ScratchSize())
	b := BN{C: p.C, H: p.H, W: p.W}
	g, gb, rm, rv, mean, inv := make([]float32, p.C), make([]float32, p.C), make([]float32, p.C), make([]float32, p.C), make([]float32, p.C), make([]float32, p.C)
	f := FC{In: 12, Out: 6}
	fw, fy := randSlice(r, 72), make([]float32, 6*n)
	s := Softmax{Classes: 6}
	labels := []int32{1, 5}
	mask := make([]float32, len(x))
	rng := NewRNG(3)
	cc := Concat{C: p.C, Total: 2 * p.C, Off: p.C, HW: p.H * p.W}
	cy := make([]float32, 2*len(x))
	params := []Param{{"w", fw, make([]float32, 72)}}
	sgd, adam := NewSGD(params, 0.1, 0.9, 1e-4, true), NewAdam(params, 1e-3, 0)
	allocs := testing.AllocsPerRun(20, func() {
		MaxPool(p).Forward(n, x, y, a)
		MaxPool(p).Backward(n, y, a, dx)
		AvgPool(p).Forward(n, x, y)
		AvgPool(p).Backward(n, y, dx)
		GAP{C: p.C, H: p.H, W: p.W}.Forward(n, x, y[:n*p.C])
		GAP{C: p.C, H: p.H, W: p.W}.Backward(n, y[:n*p.C], dx)
		l.Forward(n, x, ly, ls, lsc)
		l.Backward(n, x, ly, ls, ly, dx, lsc)
		b.ForwardTrain(n, x, ly, g, gb, rm, rv, mean, inv)
		b.ForwardInfer(n, x, ly, g, gb, rm, rv)
		b.Backward(n, x, ly, g, mean, inv, dx, rm, rv)
		f.Forward(n, x[:24], fw, fy[:6], fy)
		f.BackwardData(n, fy, fw, dx[:24])
		f.BackwardFilter(n, x[:24], fy, params[0].G, nil)
		s.Forward(n, fy, fy)
		s.Loss(n, fy, labels, fy)
		s.LossBackward(n, fy, labels, 1, fy)
		ReLUForward(ly)
		ReLUBackward(ly, dx)
		Dropout{P: 0.5}.Forward(ly, mask, rng, true)
		Dropout{P: 0.5}.Backward(dx, mask)
		AddForward(x, ly, ly)
		AddBackward(x, ly, dx)
		cc.Forward(n, x, cy)
		cc.Backward(n, cy, dx)
		sgd.Step()
		adam.Step()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run", allocs)
	}
}

// TestElementwiseParallel: relu and add on tensors of several chunks, with
// 2 workers, against plain loops.
func TestElementwiseParallel(t *testing.T) {
	defer parallelPlanes()()
	r := newRand(18)
	n := 3*chunk + 17
	x, a, dy := randSlice(r, n), randSlice(r, n), randSlice(r, n)
	want := make([]float32, n)
	for i, v := range x {
		want[i] = max(v, 0)
	}
	ReLUForward(x)
	closeRel(t, "relu", x, want, 0)
	for i := range want {
		want[i] = dy[i]
		if x[i] <= 0 {
			want[i] = 0
		}
	}
	ReLUBackward(x, dy)
	closeRel(t, "relu backward", dy, want, 0)
	y := make([]float32, n)
	AddForward(x, a, y)
	for i := range want {
		want[i] = x[i] + a[i]
	}
	closeRel(t, "add", y, want, 0)
	da, db := append([]float32(nil), a...), make([]float32, n)
	AddBackward(y, da, db)
	for i := range want {
		want[i] = a[i] + y[i]
	}
	closeRel(t, "add backward da", da, want, 0)
	closeRel(t, "add backward db", db, y, 0)
}

func TestAllFinite(t *testing.T) {
	x := []float32{0, -1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32}
	if !AllFinite(x) || !AllFinite(nil) {
		t.Error("finite values reported as not finite")
	}
	for _, bad := range []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())} {
		if AllFinite(append(x, bad)) {
			t.Errorf("%v reported as finite", bad)
		}
	}
}

// TestMaxPool3x3Ties: the unrolled 3x3 window against the reference on
// values with many ties, signed zeros and some NaNs.
func TestMaxPool3x3Ties(t *testing.T) {
	r := newRand(12)
	vals := []float32{-1, float32(math.Copysign(0, -1)), 0, 1, 2, float32(math.Inf(-1))}
	for _, p := range []MaxPool{MaxPool(pool(2, 7, 7, 3, 1, 0, false)), MaxPool(pool(2, 9, 9, 3, 2, 1, true))} {
		for trial := range 50 {
			n := 2
			x := make([]float32, n*p.C*p.H*p.W)
			for i := range x {
				x[i] = vals[r.IntN(len(vals))]
				if trial%5 == 0 && r.IntN(40) == 0 {
					x[i] = float32(math.NaN())
				}
			}
			ny := n * p.C * p.OH * p.OW
			y, yr := make([]float32, ny), make([]float32, ny)
			a, ar := make([]int32, ny), make([]int32, ny)
			p.Forward(n, x, y, a)
			p.ForwardRef(n, x, yr, ar)
			for i := range a {
				if a[i] != ar[i] || math.Float32bits(y[i]) != math.Float32bits(yr[i]) {
					t.Fatalf("%+v trial %d: output %d: argmax %d y %v, reference %d %v", p, trial, i, a[i], y[i], ar[i], yr[i])
				}
			}
		}
	}
}

// TestLeakyReLU: forward and backward element by element, the gradient
// against finite differences (away from the kink), and the chunks of a
// large tensor split over the workers.
func TestLeakyReLU(t *testing.T) {
	l := LeakyReLU{Slope: 0.1}
	x := []float32{-1, 2, 0, -3, 4}
	l.Forward(x)
	if want := []float32{-0.1, 2, 0, -0.3, 4}; maxDiff(t, x, want) > 1e-7 {
		t.Errorf("forward: %v, want %v", x, want)
	}
	dy := []float32{1, 1, 1, 1, 1}
	l.Backward(x, dy)
	if want := []float32{0.1, 1, 0.1, 0.1, 1}; maxDiff(t, dy, want) > 1e-7 {
		t.Errorf("backward: %v, want %v", dy, want)
	}
	r := newRand(5)
	n := 3*chunk + 17
	x0, rr := randSlice(r, n), randSlice(r, n)
	for i := range x0 { // keep the finite differences off the kink
		if math.Abs(float64(x0[i])) < 0.05 {
			x0[i] = 0.5
		}
	}
	y := make([]float32, n)
	copy(y, x0)
	l.Forward(y)
	dx := append([]float32(nil), rr...)
	l.Backward(y, dx)
	for i := range x0 {
		want := x0[i]
		if want <= 0 {
			want *= 0.1
		}
		if y[i] != want {
			t.Fatalf("forward[%d] = %v, want %v", i, y[i], want)
		}
	}
	xs := append([]float32(nil), x0[:200]...)
	ys := make([]float32, len(xs))
	gradCheck(t, "leakyrelu.dx", xs, dx[:200], func() float64 {
		copy(ys, xs)
		l.Forward(ys)
		return dot64(ys, rr[:200])
	}, 1e-2, 1e-3)
}
