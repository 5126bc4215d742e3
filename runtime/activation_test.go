package runtime

import (
	"fmt"
	"math"
	"testing"
)

// actCase is one activation of activation.go behind one interface: fwd
// writes y = f(x) (the in-place ones copy x to y first), bwd adds f'(x)*dy
// to dx (the in-place ones scale a copy of dy, then accumulate it), from
// the fast kernels and from the reference ones.
type actCase struct {
	name        string
	fwd, fwdRef func(x, y []float32)
	bwd, bwdRef func(x, y, dy, dx []float32)
	kinks       []float32 // where the derivative jumps: finite differences stay away
}

// inPlace wraps an in-place kernel pair.
func inPlace(f func(x []float32), b func(y, dy []float32)) (func(x, y []float32), func(x, y, dy, dx []float32)) {
	return func(x, y []float32) { copy(y, x); f(y) }, func(_, y, dy, dx []float32) {
		g := append([]float32(nil), dy...)
		b(y, g)
		Accumulate(dx, g)
	}
}

func actCases() []actCase {
	relu6F, relu6B := inPlace(ReLU6Forward, ReLU6Backward)
	tanhF, tanhB := inPlace(TanhForward, TanhBackward)
	tanhRef, _ := inPlace(TanhForwardRef, TanhBackward)
	fromY := func(b func(y, dy, dx []float32)) func(x, y, dy, dx []float32) {
		return func(_, y, dy, dx []float32) { b(y, dy, dx) }
	}
	fromX := func(b func(x, dy, dx []float32)) func(x, y, dy, dx []float32) {
		return func(x, _, dy, dx []float32) { b(x, dy, dx) }
	}
	g, gt := GELU{}, GELU{Tanh: true}
	return []actCase{
		{"relu6", relu6F, relu6F, relu6B, relu6B, []float32{0, 6}},
		{"sigmoid", SigmoidForward, SigmoidForwardRef, fromY(SigmoidBackward), fromY(SigmoidBackward), nil},
		{"tanh", tanhF, tanhRef, tanhB, tanhB, nil},
		{"silu", SiLUForward, SiLUForwardRef, fromX(SiLUBackward), fromX(SiLUBackwardRef), nil},
		{"gelu", g.Forward, g.ForwardRef, fromX(g.Backward), fromX(g.BackwardRef), nil},
		{"gelu_tanh", gt.Forward, gt.ForwardRef, fromX(gt.Backward), fromX(gt.BackwardRef), nil},
		{"hardswish", HardswishForward, HardswishForward, fromX(HardswishBackward), fromX(HardswishBackward), []float32{-3, 3}},
		{"hardsigmoid", HardsigmoidForward, HardsigmoidForward, fromX(HardsigmoidBackward), fromX(HardsigmoidBackward), []float32{-3, 3}},
	}
}

// TestActivationMath bounds the float32 functions against package math:
// exp (of x <= 0) within 2 ulp, tanh and sigmoid within 3e-7 relative (sigmoid down
// to -87, where e^x leaves the normal floats), Phi within 3e-7 absolute, on a fine grid and at the ends of their ranges.
func TestActivationMath(t *testing.T) {
	var ex, th, sg, cdf, pdf float64
	for i := -200000; i <= 200000; i++ {
		x := float32(i) * 4.4e-4 // [-88, 88]
		e := math.Exp(float64(x))
		if x >= -87 && x <= 0 {
			ex = max(ex, math.Abs(float64(expf(x))-e)/e)
		}
		if x >= -87 {
			sg = max(sg, relErr(sigmoidf(x), sigmoid64(float64(x))))
		}
		th = max(th, relErr(tanhf(x/4), math.Tanh(float64(x/4))))
		z := float64(x / 8)
		cdf = max(cdf, math.Abs(float64(ncdff(x/8))-0.5*math.Erfc(-z/math.Sqrt2)))
		pdf = max(pdf, math.Abs(float64(npdff(x/8))-math.Exp(-z*z/2)/math.Sqrt(2*math.Pi)))
	}
	t.Logf("max relative error: exp %.2g, tanh %.2g, sigmoid %.2g; absolute: Phi %.2g, phi %.2g", ex, th, sg, cdf, pdf)
	if ex > 2.4e-7 || th > 3e-7 || sg > 3e-7 || cdf > 3e-7 || pdf > 1e-7 {
		t.Errorf("float32 functions too far from package math")
	}
	for _, c := range []struct {
		got, want float32
	}{
		{expf(-1000), float32(math.Exp(-87))}, {expf(0), 1}, {tanhf(100), 1}, {tanhf(-100), -1},
		{sigmoidf(100), 1}, {sigmoidf(0), 0.5}, {ncdff(0), 0.5}, {ncdff(40), 1},
	} {
		if math.Abs(float64(c.got-c.want)) > 1e-7*math.Abs(float64(c.want)) {
			t.Errorf("got %g, want %g", c.got, c.want)
		}
	}
	if v := ncdff(-40); v > 1e-37 || v < 0 {
		t.Errorf("Phi(-40) = %g, want 0 (within the smallest normal floats)", v)
	}
	if v := expf(float32(math.NaN())); !math.IsNaN(float64(v)) {
		t.Errorf("expf(NaN) = %v", v)
	}
}

// The scalar forms of activation_math.go's functions.
func expf(x float32) float32 { e := []float32{x}; expInPlace(e); return e[0] }

func sigmoidf(x float32) float32 { s := []float32{0}; sigmoids([]float32{x}, s); return s[0] }

func tanhf(x float32) float32 { t := []float32{x}; tanhs(t, t, make([]float32, 1)); return t[0] }

func ncdff(x float32) float32 { c := []float32{0}; ncdfs([]float32{x}, c, nil); return c[0] }

func npdff(x float32) float32 {
	c, p := []float32{0}, []float32{0}
	ncdfs([]float32{x}, c, p)
	return p[0]
}

// TestExpVector: the vector loops of expInPlace, sigmoids, tanhs and ncdfs
// (AVX2 where there is one) and their scalar loops agree within 1e-6
// relative, 1e-37 absolute (bit for bit where Go does not fuse a*b+c;
// GOAMD64=v3 does), NaN and the clamp included, on every length's
// remainder.
func TestExpVector(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no vector loop on this machine")
	}
	x := []float32{0, float32(math.Copysign(0, -1)), -87, -88, -1000, float32(math.Inf(-1)), float32(math.NaN())}
	for i := range 20000 {
		x = append(x, -float32(i)*4.4e-3)
	}
	near := func(v, s float32) bool {
		return math.IsNaN(float64(s)) == math.IsNaN(float64(v)) && !(math.Abs(float64(v-s)) > 1e-6*math.Abs(float64(s))+1e-37)
	}
	for _, n := range []int{len(x), len(x) - 1, 7, 9} {
		v, s := append([]float32(nil), x[:n]...), append([]float32(nil), x[:n]...)
		expInPlace(v)
		expScalar(s)
		for i := range v {
			if !near(v[i], s[i]) {
				t.Fatalf("exp(%g): vector %g, scalar %g", x[i], v[i], s[i])
			}
		}
	}
	// sigmoids: the vector loop on a slice, the scalar one element by element.
	for i := range 20000 {
		x = append(x, float32(i)*4.4e-3, float32(i)*1e-5)
	}
	x = append(x, 87, 88, 1000, float32(math.Inf(1)))
	for i := range 20000 {
		x = append(x, -float32(i)*1e-5)
	}
	v, th, c, p := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	sigmoids(x, v)
	tanhs(x, th, make([]float32, len(x)))
	ncdfs(x, c, p)
	for i := range x {
		if s := sigmoidf(x[i]); !near(v[i], s) {
			t.Fatalf("sigmoid(%g): vector %g, scalar %g", x[i], v[i], s)
		}
		if s := tanhf(x[i]); !near(th[i], s) {
			t.Fatalf("tanh(%g): vector %g, scalar %g", x[i], th[i], s)
		}
		if s, d := ncdff(x[i]), npdff(x[i]); !near(c[i], s) || !near(p[i], d) {
			t.Fatalf("Phi, phi(%g): vector %g %g, scalar %g %g", x[i], c[i], p[i], s, d)
		}
	}
	c2 := make([]float32, len(x))
	ncdfs(x, c2, nil) // without the density
	for i := range x {
		if math.Float32bits(c2[i]) != math.Float32bits(c[i]) && !math.IsNaN(float64(c[i])) {
			t.Fatalf("Phi(%g) without the density: %g, with: %g", x[i], c2[i], c[i])
		}
	}
}

func relErr(got float32, want float64) float64 {
	if want == 0 {
		return math.Abs(float64(got))
	}
	return math.Abs(float64(got)-want) / math.Abs(want)
}

// TestActivations: each kernel against its reference (serially and split
// over workers, on a tensor of several chunks with values in (-10, 10) and
// the kinks), the backward accumulating into dx, and the gradient against
// finite differences away from the kinks.
func TestActivations(t *testing.T) {
	for _, par := range []bool{false, true} {
		for _, c := range actCases() {
			t.Run(fmt.Sprintf("%s/parallel=%v", c.name, par), func(t *testing.T) {
				if par {
					defer parallelPlanes()()
				}
				r := newRand(12)
				n := 3*chunk + 17
				x, dy, dx0 := randSlice(r, n), randSlice(r, n), randSlice(r, n)
				for i := range x {
					x[i] *= 10
				}
				copy(x, []float32{0, -3, 3, 6, -6, -87, 88, -1000, 1000, 0.625, -0.625})
				y, yr := make([]float32, n), make([]float32, n)
				c.fwd(x, y)
				c.fwdRef(x, yr)
				if d := maxDiff(t, y, yr); d > 1e-6 {
					t.Errorf("forward: max |fast - reference| = %.3g", d)
				}
				dx, dxr := append([]float32(nil), dx0...), append([]float32(nil), dx0...)
				c.bwd(x, y, dy, dx)
				c.bwdRef(x, yr, dy, dxr)
				if d := maxDiff(t, dx, dxr); d > 2e-6 {
					t.Errorf("backward: max |fast - reference| = %.3g", d)
				}
				// finite differences of L = sum y*r on 200 values off the kinks
				xs := append([]float32(nil), x[100:300]...)
				for i := range xs {
					xs[i] /= 2
					for _, k := range c.kinks {
						if math.Abs(float64(xs[i]-k)) < 0.05 {
							xs[i] = k + 0.5
						}
					}
				}
				rr, ys := dy[:200], make([]float32, 200)
				g := make([]float32, 200)
				c.fwd(xs, ys)
				c.bwd(xs, ys, rr, g)
				gradCheck(t, c.name+".dx", xs, g, func() float64 {
					c.fwd(xs, ys)
					return dot64(ys, rr)
				}, 1e-2, 2e-3)
			})
		}
	}
}

// TestGoldenActivations: PyTorch's modules (nn.ReLU6, nn.Sigmoid, nn.Tanh,
// nn.SiLU, nn.GELU with both forms, nn.Hardswish, nn.Hardsigmoid) on
// random values and on the kinks 0, -3, 3, 6 and their neighbours, each
// value within 1e-6 + 1e-5*|torch| (closer than goldenTol), fast and
// reference kernels.
func TestGoldenActivations(t *testing.T) {
	g := loadGolden(t)
	x, dy := g.get("act.x"), g.get("act.dy")
	for _, c := range actCases() {
		for _, ref := range []bool{false, true} {
			fwd, bwd := c.fwd, c.bwd
			if ref {
				fwd, bwd = c.fwdRef, c.bwdRef
			}
			y, dx := make([]float32, len(x)), make([]float32, len(x))
			fwd(x, y)
			bwd(x, y, dy, dx)
			for _, v := range []struct {
				name string
				got  []float32
			}{{"y", y}, {"dx", dx}} {
				name := "act." + c.name + "." + v.name
				want := g.get(name)
				g.cmp(name, v.got)
				for i := range want {
					if d := math.Abs(float64(v.got[i] - want[i])); d > 1e-6+1e-5*math.Abs(float64(want[i])) {
						t.Errorf("%s (reference %v) at x = %g: %g, torch %g", name, ref, x[i], v.got[i], want[i])
					}
				}
			}
		}
	}
}

// TestActivationsAllocs: no allocation, serial and split over workers.
func TestActivationsAllocs(t *testing.T) {
	defer parallelPlanes()()
	r := newRand(3)
	n := 3*chunk + 5
	x, y, dy, dx := randSlice(r, n), make([]float32, n), randSlice(r, n), make([]float32, n)
	g, gt := GELU{}, GELU{Tanh: true}
	allocs := testing.AllocsPerRun(20, func() {
		copy(y, x)
		ReLU6Forward(y)
		ReLU6Backward(y, dy)
		TanhForward(y)
		TanhBackward(y, dy)
		SigmoidForward(x, y)
		SigmoidBackward(y, dy, dx)
		SiLUForward(x, y)
		SiLUBackward(x, dy, dx)
		g.Forward(x, y)
		g.Backward(x, dy, dx)
		gt.Forward(x, y)
		gt.Backward(x, dy, dx)
		HardswishForward(x, y)
		HardswishBackward(x, dy, dx)
		HardsigmoidForward(x, y)
		HardsigmoidBackward(x, dy, dx)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

// TestBiasReLUAndMaxPairs checks biasReLU, ReLU6Forward and maxRow's 2x2
// stride-2 rows
// (vectorised for each 8 outputs where the CPU has AVX2) against their
// definitions, with NaNs and zeros of both signs in the inputs: a NaN
// stays (and wins a window), other values exactly; zeros may change sign.
func TestBiasReLUAndMaxPairs(t *testing.T) {
	r := newRand(11)
	nan, negZero := float32(math.NaN()), float32(math.Copysign(0, -1))
	same := func(a, b float32) bool { return a == b || (a != a && b != b) }
	for n := 1; n <= 41; n++ {
		src := randSlice(r, 2*n)
		for i := 0; i < len(src); i += 5 {
			src[i] = []float32{nan, negZero, 0, -1}[i%4]
		}
		for _, relu := range []bool{false, true} {
			for _, bk := range []float32{0, 0.25} {
				dst := make([]float32, n)
				biasReLU(dst, src[:n], bk, relu)
				for i, v := range src[:n] {
					want := v + bk
					if relu && want < 0 {
						want = 0
					}
					if !same(dst[i], want) {
						t.Fatalf("biasReLU n %d relu %v bk %v: [%d] = %v, want %v", n, relu, bk, i, dst[i], want)
					}
				}
			}
		}
		x6 := append([]float32(nil), src[:n]...)
		for i := range x6 {
			x6[i] *= 8 // beyond 6 too
		}
		want6 := append([]float32(nil), x6...)
		ReLU6Forward(x6)
		for i, v := range want6 {
			if w := min(max(v, 0), 6); !same(x6[i], w) {
				t.Fatalf("ReLU6Forward n %d: [%d] = %v, want %v", n, i, x6[i], w)
			}
		}
		for _, first := range []bool{true, false} {
			y := randSlice(r, n)
			y[n/2] = nan
			want := make([]float32, n)
			for q := range want {
				m := src[2*q]
				if w := src[2*q+1]; w > m || w != w {
					m = w
				}
				if !first && (y[q] > m || y[q] != y[q]) {
					m = y[q]
				}
				if src[2*q] != src[2*q] {
					m = src[2*q]
				}
				want[q] = m
			}
			maxRow(y, src, 2, 2, first)
			for q := range y {
				if !same(y[q], want[q]) {
					t.Fatalf("maxRow n %d first %v: [%d] = %v, want %v", n, first, q, y[q], want[q])
				}
			}
		}
	}
}
