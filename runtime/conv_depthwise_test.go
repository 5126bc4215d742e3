package runtime

import (
	"fmt"
	"testing"
)

// dwconv is a depthwise geometry: c channels, one filter each.
func dwconv(c, h, w, k, s, p, d int, relu bool) Conv {
	return conv(c, h, w, c, k, k, s, p, d, c, relu)
}

var depthwiseCases = []Conv{
	dwconv(3, 9, 9, 3, 1, 1, 1, false),   // 3x3 s1 p1: the fused stride-1 loop
	dwconv(4, 10, 11, 3, 2, 1, 1, true),  // 3x3 s2 p1: the fused stride-2 loop, relu
	dwconv(2, 9, 8, 3, 2, 0, 1, false),   // s2 unpadded, even width
	dwconv(3, 7, 7, 3, 1, 0, 1, false),   // no padding: every row interior
	dwconv(2, 12, 13, 3, 1, 2, 2, false), // dilation 2
	dwconv(2, 11, 11, 5, 1, 2, 1, true),  // 5x5
	dwconv(2, 13, 12, 5, 2, 2, 1, false), // 5x5 s2
	dwconv(2, 9, 9, 7, 1, 3, 1, false),   // 7x7
	dwconv(2, 4, 5, 3, 1, 1, 1, false),   // maps as narrow as the kernel
	dwconv(3, 3, 3, 3, 1, 1, 1, false),   // 3x3 maps: no interior column
	dwconv(2, 7, 7, 3, 1, 3, 1, false),   // padding beyond the kernel: the input gradient scatters
	dwconv(2, 9, 9, 3, 3, 1, 1, false),   // stride 3
	{C: 3, H: 8, W: 9, K: 3, KH: 3, KW: 5, SH: 2, SW: 1, PH: 1, PW: 2, DH: 1, DW: 2, G: 3, OH: 4, OW: 5}, // rectangular
	{C: 2, H: 9, W: 10, K: 2, KH: 3, KW: 3, SH: 1, SW: 2, PH: 0, PW: 1, DH: 2, DW: 1, G: 2, OH: 5, OW: 5},
	dwconv(1, 6, 6, 3, 1, 1, 1, false),   // one channel (G == C == K == 1)
	dwconv(3, 21, 37, 3, 1, 1, 1, true),  // rows of 16 + 16 + 5 and 16 + 8 + 5 (the vector loops and their tails)
	dwconv(2, 33, 34, 3, 1, 0, 1, false), // rows of 32, unpadded; padded plane > dwPadMax
	dwconv(2, 40, 40, 3, 1, 1, 1, false), // padded plane 42x42 > dwPadMax: the row loops
	dwconv(2, 9, 45, 3, 2, 1, 1, true),   // stride 2, rows of 16 + 7 (the vector loop stops a block short)
	dwconv(2, 7, 34, 3, 2, 0, 1, false),  // stride 2, rows of exactly 16: the last block in Go
}

// TestDepthwise compares the depthwise kernels with the reference loops,
// with one and two workers (planes split over workers even when small),
// batches of 1 and 3, bias and no bias, through the padded buffer and
// through the edge loops (dwPadLimit 0), and checks that they run (no
// scratch).
func TestDepthwise(t *testing.T) {
	r := newRand(21)
	for ci, c := range depthwiseCases {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if !c.depthwise() || c.ScratchSize(3) != 0 {
			t.Fatalf("%+v: not run as depthwise", c)
		}
		for _, par := range []bool{false, true} {
			for _, n := range []int{1, 3} {
				for _, limit := range []int{dwPadMax, 0} {
					for _, simd := range []bool{true, false} {
						t.Run(fmt.Sprintf("%d/parallel=%v/n%d/pad%d/simd=%v", ci, par, n, limit, simd), func(t *testing.T) {
							if par {
								defer parallelPlanes()()
							}
							defer func(old int, oldS bool) { dwPadLimit, dwSIMD = old, oldS }(dwPadLimit, dwSIMD)
							dwPadLimit, dwSIMD = limit, simd
							testConvFastVsRef(t, r, c, n)
						})
					}
				}
			}
		}
	}
}

// TestDepthwiseGeneral runs the depthwise cases through the general
// (im2col) paths too, so that a conv with G == C == K is the same either
// way.
func TestDepthwiseGeneral(t *testing.T) {
	defer func(old bool) { convDepthwise = old }(convDepthwise)
	convDepthwise = false
	r := newRand(22)
	for ci, c := range depthwiseCases {
		t.Run(fmt.Sprint(ci), func(t *testing.T) { testConvFastVsRef(t, r, c, 2) })
	}
}

// TestDepthwiseGrad checks the reference kernels on the depthwise cases
// with central differences of L = sum(y * r).
func TestDepthwiseGrad(t *testing.T) {
	r := newRand(23)
	for ci, c := range depthwiseCases {
		c.ReLU = false
		n := 2
		x, w, b := randSlice(r, n*c.inSize()), randSlice(r, c.wSize()), randSlice(r, c.K)
		rr := randSlice(r, n*c.outSize())
		y := make([]float32, n*c.outSize())
		loss := func() float64 { c.ForwardRef(n, x, w, b, y); return dot64(y, rr) }
		dx, dw, db := make([]float32, len(x)), make([]float32, len(w)), make([]float32, len(b))
		c.BackwardDataRef(n, rr, w, dx)
		c.BackwardFilterRef(n, x, rr, dw, db)
		gradCheck(t, fmt.Sprintf("dw%d.dx", ci), x, dx, loss, 1e-2, 1e-3)
		gradCheck(t, fmt.Sprintf("dw%d.dw", ci), w, dw, loss, 1e-2, 1e-3)
		gradCheck(t, fmt.Sprintf("dw%d.db", ci), b, db, loss, 1e-2, 1e-3)
		// The fast kernels' gradients, against the same differences.
		clear(dx)
		clear(dw)
		clear(db)
		c.BackwardData(n, rr, w, dx, nil)
		c.BackwardFilter(n, x, rr, dw, db, nil)
		gradCheck(t, fmt.Sprintf("dw%d.dx (fast)", ci), x, dx, loss, 1e-2, 1e-3)
		gradCheck(t, fmt.Sprintf("dw%d.dw (fast)", ci), w, dw, loss, 1e-2, 1e-3)
	}
}

// TestDepthwiseAllocs: no allocation in steady state, serial or parallel.
func TestDepthwiseAllocs(t *testing.T) {
	defer parallelPlanes()()
	r := newRand(24)
	for _, c := range []Conv{depthwiseCases[0], depthwiseCases[1], depthwiseCases[4], depthwiseCases[10]} {
		n := 2
		x, w, b, dy := randSlice(r, n*c.inSize()), randSlice(r, c.wSize()), randSlice(r, c.K), randSlice(r, n*c.outSize())
		y, dx, dw, db := make([]float32, n*c.outSize()), make([]float32, n*c.inSize()), make([]float32, c.wSize()), make([]float32, c.K)
		a := testing.AllocsPerRun(50, func() {
			c.Forward(n, x, w, b, y, nil)
			c.BackwardData(n, dy, w, dx, nil)
			c.BackwardFilter(n, x, dy, dw, db, nil)
		})
		if a != 0 {
			t.Errorf("%+v: %v allocations per call", c, a)
		}
	}
}

// TestGAPAdaptive compares the adaptive average pooling (gap HxW) with its
// reference, and the reference's gradient with central differences, on
// even and uneven bins and an output larger than the input.
func TestGAPAdaptive(t *testing.T) {
	r := newRand(25)
	for _, g := range []GAP{{C: 3, H: 6, W: 4, OH: 2, OW: 2}, {C: 2, H: 7, W: 5, OH: 3, OW: 2}, {C: 2, H: 5, W: 5, OH: 4, OW: 4},
		{C: 1, H: 3, W: 2, OH: 5, OW: 3}, {C: 2, H: 4, W: 6, OH: 1, OW: 1}, {C: 2, H: 4, W: 6, OH: 1, OW: 3}} {
		n := 2
		oh, ow := g.out()
		in, out := n*g.C*g.H*g.W, n*g.C*oh*ow
		x, rr := randSlice(r, in), randSlice(r, out)
		y, yRef := make([]float32, out), make([]float32, out)
		g.ForwardRef(n, x, yRef)
		g.Forward(n, x, y)
		closeRel(t, fmt.Sprintf("%+v y", g), y, yRef, 1e-6)
		dx, dxRef := randSlice(r, in), make([]float32, in)
		copy(dxRef, dx)
		g.BackwardRef(n, rr, dxRef)
		g.Backward(n, rr, dx)
		closeRel(t, fmt.Sprintf("%+v dx", g), dx, dxRef, 1e-6)
		clear(dxRef)
		g.BackwardRef(n, rr, dxRef)
		gradCheck(t, fmt.Sprintf("%+v dx", g), x, dxRef, func() float64 { g.ForwardRef(n, x, y); return dot64(y, rr) }, 1e-2, 1e-3)
	}
	// Bins by hand: 7 over 3 are [0,3) [2,5) [4,7).
	g := GAP{C: 1, H: 1, W: 7, OH: 1, OW: 3}
	y := make([]float32, 3)
	g.Forward(1, []float32{1, 2, 3, 4, 5, 6, 7}, y)
	if fmt.Sprint(y) != "[2 4 6]" {
		t.Errorf("gap 1x3 of 1..7: %v, want [2 4 6]", y)
	}
}

// TestFCNoBias: fc without a bias (nil), against the reference and finite
// differences.
func TestFCNoBias(t *testing.T) {
	r := newRand(26)
	f := FC{In: 11, Out: 6}
	n := 3
	x, w, dy := randSlice(r, n*f.In), randSlice(r, f.In*f.Out), randSlice(r, n*f.Out)
	y, yRef := make([]float32, n*f.Out), make([]float32, n*f.Out)
	f.ForwardRef(n, x, w, nil, yRef)
	f.Forward(n, x, w, nil, y)
	closeRel(t, "y", y, yRef, 1e-5)
	dw, dwRef := make([]float32, f.In*f.Out), make([]float32, f.In*f.Out)
	f.BackwardFilterRef(n, x, dy, dwRef, nil)
	f.BackwardFilter(n, x, dy, dw, nil)
	closeRel(t, "dw", dw, dwRef, 1e-5)
	gradCheck(t, "fc.dw", w, dwRef, func() float64 { f.ForwardRef(n, x, w, nil, y); return dot64(y, dy) }, 1e-2, 1e-3)
}

// TestGoldenDepthwise: the depthwise kernels and their references against
// PyTorch's Conv2d(C, C, k, groups=C), adaptive_avg_pool2d against gap HxW,
// and linear without bias against fc nobias.
func TestGoldenDepthwise(t *testing.T) {
	g := loadGolden(t)
	for _, tc := range []struct {
		name             string
		stride, pad, dil int
	}{
		{"dws1", 1, 1, 1},
		{"dws2", 2, 1, 1},
		{"dwd2", 1, 2, 2},
		{"dw5", 2, 2, 1},
	} {
		xs, ws, ys := g.shape(tc.name+".x"), g.shape(tc.name+".w"), g.shape(tc.name+".y")
		n := xs[0]
		c := Conv{C: xs[1], H: xs[2], W: xs[3], K: ws[0], KH: ws[2], KW: ws[3], SH: tc.stride, SW: tc.stride,
			PH: tc.pad, PW: tc.pad, DH: tc.dil, DW: tc.dil, G: xs[1], OH: ys[2], OW: ys[3]}
		if !c.depthwise() || ws[1] != 1 {
			t.Fatalf("%s: %+v is not depthwise", tc.name, c)
		}
		x, w, dy := g.get(tc.name+".x"), g.get(tc.name+".w"), g.get(tc.name+".dy")
		var b, db []float32
		if _, ok := g.tensors[tc.name+".b"]; ok {
			b, db = g.get(tc.name+".b"), make([]float32, c.K)
		}
		y, dx, dw := make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w))
		c.Forward(n, x, w, b, y, nil)
		c.BackwardData(n, dy, w, dx, nil)
		c.BackwardFilter(n, x, dy, dw, db, nil)
		g.cmp(tc.name+".y", y)
		g.cmp(tc.name+".dx", dx)
		g.cmp(tc.name+".dw", dw)
		if b != nil {
			g.cmp(tc.name+".db", db)
		}
		clear(dx)
		clear(dw)
		c.ForwardRef(n, x, w, b, y)
		c.BackwardDataRef(n, dy, w, dx)
		c.BackwardFilterRef(n, x, dy, dw, nil)
		g.cmp(tc.name+".y", y)
		g.cmp(tc.name+".dx", dx)
		g.cmp(tc.name+".dw", dw)
	}
	for _, name := range []string{"adapt32", "adapt44", "adapt22"} {
		xs, ys := g.shape(name+".x"), g.shape(name+".y")
		p := GAP{C: xs[1], H: xs[2], W: xs[3], OH: ys[2], OW: ys[3]}
		n := xs[0]
		x, dy := g.get(name+".x"), g.get(name+".dy")
		y, dx := make([]float32, len(dy)), make([]float32, len(x))
		p.Forward(n, x, y)
		p.Backward(n, dy, dx)
		g.cmp(name+".y", y)
		g.cmp(name+".dx", dx)
		clear(dx)
		p.ForwardRef(n, x, y)
		p.BackwardRef(n, dy, dx)
		g.cmp(name+".y", y)
		g.cmp(name+".dx", dx)
	}
	f := FC{In: 10, Out: 5}
	x, w, dy := g.get("fcnobias.x"), g.get("fcnobias.w"), g.get("fcnobias.dy")
	y, dx, dw := make([]float32, 15), make([]float32, 30), make([]float32, 50)
	f.Forward(3, x, w, nil, y)
	f.BackwardData(3, dy, w, dx)
	f.BackwardFilter(3, x, dy, dw, nil)
	g.cmp("fcnobias.y", y)
	g.cmp("fcnobias.dx", dx)
	g.cmp("fcnobias.dw", dw)
}
