package runtime

import (
	"fmt"
	"math"
	"testing"
)

// TestLayerNorm: the fast kernels against the reference ones (on one
// worker and on two, with the scratch of one worker and of all), the
// reference against finite differences (x, gamma, beta), and the backward
// accumulating into its gradients.
func TestLayerNorm(t *testing.T) {
	for _, par := range []bool{false, true} {
		t.Run(fmt.Sprint("parallel=", par), func(t *testing.T) {
			if par {
				defer parallelPlanes()()
			}
			testLayerNorm(t)
		})
	}
}

func testLayerNorm(t *testing.T) {
	r := newRand(90)
	for _, l := range []LayerNorm{
		{C: 6, H: 3, W: 4},
		{C: 5, H: 1, W: 1, Eps: 1e-5}, // a vector
		{C: 7, H: 2, W: 3, Eps: 0.5},  // eps dominates
		{C: 1, H: 2, W: 2},            // one channel: y = beta
		{C: 16, H: 5, W: 5},
	} {
		name := fmt.Sprintf("layernorm%dx%dx%d", l.H, l.W, l.C)
		n := 3
		sz := n * l.C * l.H * l.W
		x, rr := randSlice(r, sz), randSlice(r, sz)
		gamma, beta := randSlice(r, l.C), randSlice(r, l.C)
		for i := range x {
			x[i] = 2*x[i] + 0.3
		}
		y, yRef := make([]float32, sz), make([]float32, sz)
		st, stRef := make([]float32, 2*n*l.H*l.W), make([]float32, 2*n*l.H*l.W)
		l.ForwardRef(n, x, yRef, gamma, beta, stRef)
		l.Forward(n, x, y, gamma, beta, st)
		closeRel(t, name+".y", y, yRef, 1e-5)
		closeRel(t, name+".stats", st, stRef, 1e-5)
		dx, dg, db := make([]float32, sz), make([]float32, l.C), make([]float32, l.C)
		dxRef, dgRef, dbRef := make([]float32, sz), make([]float32, l.C), make([]float32, l.C)
		l.BackwardRef(n, x, rr, gamma, stRef, dxRef, dgRef, dbRef)
		// twice into the same buffers: backward accumulates; the second
		// time with the scratch of one worker
		l.Backward(n, x, rr, gamma, st, dx, dg, db, make([]float32, l.ScratchSize(n)))
		l.Backward(n, x, rr, gamma, st, dx, dg, db, make([]float32, 2*l.H*l.W+2*l.C*n))
		for _, s := range [][]float32{dx, dg, db} {
			for i := range s {
				s[i] /= 2
			}
		}
		closeRel(t, name+".dx", dx, dxRef, 1e-4)
		closeRel(t, name+".dgamma", dg, dgRef, 1e-5)
		closeRel(t, name+".dbeta", db, dbRef, 1e-5)
		loss := func() float64 { l.ForwardRef(n, x, y, gamma, beta, st); return dot64(y, rr) }
		gradCheck(t, name+".dx", x, dxRef, loss, 1e-3, 2e-3)
		gradCheck(t, name+".dgamma", gamma, dgRef, loss, 1e-3, 1e-3)
		gradCheck(t, name+".dbeta", beta, dbRef, loss, 1e-3, 1e-3)
	}
}

// TestLayerNormValues: one position by hand, and eps's default 1e-6.
func TestLayerNormValues(t *testing.T) {
	l := LayerNorm{C: 4, H: 1, W: 1}
	x := []float32{1, 2, 3, 6} // mean 3, variance 3.5
	gamma, beta := []float32{1, 2, 1, 1}, []float32{0, 0, 1, 0}
	y, st := make([]float32, 4), make([]float32, 2)
	l.Forward(1, x, y, gamma, beta, st)
	s := 1 / math.Sqrt(3.5+1e-6)
	want := []float32{float32(-2 * s), float32(-2 * s), 1, float32(3 * s)}
	if maxDiff(t, y, want) > 1e-6 || math.Abs(float64(st[0])-3) > 1e-6 || math.Abs(float64(st[1])-s) > 1e-6 {
		t.Errorf("y %v, stats %v; want %v, [3 %v]", y, st, want, s)
	}
}

// TestLayerScale: values, and the gradients against finite differences.
func TestLayerScale(t *testing.T) {
	l := LayerScale{C: 2, HW: 3}
	x := []float32{1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6}
	gamma := []float32{2, -0.5}
	y := make([]float32, len(x))
	l.Forward(2, x, gamma, y)
	want := []float32{2, 4, 6, -2, -2.5, -3, -2, -4, -6, 2, 2.5, 3}
	if maxDiff(t, y, want) != 0 {
		t.Errorf("forward %v, want %v", y, want)
	}
	r := newRand(91)
	l = LayerScale{C: 5, HW: 6}
	n := 3
	x, rr, gamma := randSlice(r, n*30), randSlice(r, n*30), randSlice(r, 5)
	y = make([]float32, len(x))
	dx, dg := make([]float32, len(x)), make([]float32, 5)
	l.Backward(n, x, gamma, rr, dx, dg)
	loss := func() float64 { l.Forward(n, x, gamma, y); return dot64(y, rr) }
	gradCheck(t, "layerscale.dx", x, dx, loss, 1e-2, 1e-3)
	gradCheck(t, "layerscale.dgamma", gamma, dg, loss, 1e-2, 1e-3)
}

// TestShuffle: channel j*G+g of the output is channel g*(C/G)+j of the
// input; the backward undoes it and accumulates.
func TestShuffle(t *testing.T) {
	s := Shuffle{C: 6, HW: 2, G: 2}
	x := []float32{0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5}
	x = append(x, x...)
	for i := 12; i < 24; i++ {
		x[i] += 10
	}
	y := make([]float32, len(x))
	s.Forward(2, x, y)
	// channels 0 1 2 | 3 4 5 -> 0 3 1 4 2 5
	want := []float32{0, 0.5, 3, 3.5, 1, 1.5, 4, 4.5, 2, 2.5, 5, 5.5}
	for i := range want {
		if y[i] != want[i] || y[12+i] != want[i]+10 {
			t.Fatalf("forward %v, want %v (+10 for the second image)", y, want)
		}
	}
	dx := make([]float32, len(x))
	Fill(dx, 1)
	s.Backward(2, y, dx)
	for i := range x {
		if dx[i] != x[i]+1 {
			t.Fatalf("backward: dx[%d] = %v, want %v", i, dx[i], x[i]+1)
		}
	}
	// G = C and G = 1 are the identity
	for _, g := range []int{1, 6} {
		Shuffle{C: 6, HW: 2, G: g}.Forward(2, x, y)
		if maxDiff(t, x, y) != 0 {
			t.Errorf("shuffle of %d groups of 6 channels is not the identity", g)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("4 groups of 6 channels: no panic")
		}
	}()
	Shuffle{C: 6, HW: 2, G: 4}.Forward(2, x, y)
}

// TestDropPath: whole images dropped with probability P, the others scaled
// by 1/(1-P); the mask per image; the identity in evaluation; the same
// seed, the same masks.
func TestDropPath(t *testing.T) {
	d := DropPath{P: 0.3}
	const images, size = 20000, 5
	x := make([]float32, images*size)
	Fill(x, 2)
	mask := make([]float32, images)
	d.Forward(x, mask, NewRNG(1), true)
	zeros := 0
	for i, m := range mask {
		want := float32(2 / 0.7)
		if m == 0 {
			zeros++
			want = 0
		} else if math.Abs(float64(m)-1/0.7) > 1e-6 {
			t.Fatalf("mask[%d] = %v, want 0 or 1/(1-p)", i, m)
		}
		for _, v := range x[i*size : (i+1)*size] {
			if math.Abs(float64(v-want)) > 1e-6 {
				t.Fatalf("image %d: %v, want %v", i, x[i*size:(i+1)*size], want)
			}
		}
	}
	if frac := float64(zeros) / images; math.Abs(frac-0.3) > 0.015 {
		t.Errorf("dropped fraction %.4f, want 0.3", frac)
	}
	dy := make([]float32, len(x))
	Fill(dy, 1)
	d.Backward(dy, mask)
	for i := range dy {
		if dy[i] != mask[i/size] {
			t.Fatal("backward is not dy*mask of the image")
		}
	}
	y := []float32{1, 2, 3}
	d.Forward(y, nil, nil, false)
	if y[0] != 1 || y[2] != 3 {
		t.Error("eval droppath changed x")
	}
	m2 := make([]float32, images)
	d.Forward(x, m2, NewRNG(1), true)
	if maxDiff(t, m2, mask) != 0 {
		t.Error("same seed gave a different mask")
	}
	Fill(x, 2)
	DropPath{}.Forward(x, m2, NewRNG(1), true)
	for _, v := range x {
		if v != 2 {
			t.Fatal("droppath 0 changed x")
		}
	}
}

// TestNormAllocs: the kernels allocate nothing, on one worker and on two.
func TestNormAllocs(t *testing.T) {
	for _, par := range []bool{false, true} {
		t.Run(fmt.Sprint("parallel=", par), func(t *testing.T) {
			if par {
				defer parallelPlanes()()
			}
			testNormAllocs(t)
		})
	}
}

func testNormAllocs(t *testing.T) {
	r := newRand(92)
	n := 2
	l := LayerNorm{C: 8, H: 4, W: 4}
	x := randSlice(r, n*128)
	y, dx, st, sc := make([]float32, len(x)), make([]float32, len(x)), make([]float32, 2*n*16), make([]float32, l.ScratchSize(n))
	g, b := randSlice(r, 8), randSlice(r, 8)
	dg, db := make([]float32, 8), make([]float32, 8)
	ls, sh := LayerScale{C: 8, HW: 16}, Shuffle{C: 8, HW: 16, G: 4}
	mask, rng := make([]float32, n), NewRNG(3)
	allocs := testing.AllocsPerRun(20, func() {
		l.Forward(n, x, y, g, b, st)
		l.Backward(n, x, y, g, st, dx, dg, db, sc)
		ls.Forward(n, x, g, y)
		ls.Backward(n, x, g, y, dx, dg)
		sh.Forward(n, x, y)
		sh.Backward(n, y, dx)
		DropPath{P: 0.5}.Forward(y, mask, rng, true)
		DropPath{P: 0.5}.Backward(dx, mask)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run", allocs)
	}
}
