package runtime

import (
	"fmt"
	"testing"
)

// TestSlice: the channel range copied forward and added back backward, the
// gradient by finite differences, and the concat of the parts is the input.
func TestSlice(t *testing.T) {
	r := newRand(31)
	n, c, hw := 2, 6, 5
	x := randSlice(r, n*c*hw)
	var parts [][]float32
	for k := 0; k < 3; k++ {
		s := Slice{C: 2, Total: c, Off: 2 * k, HW: hw}
		y := make([]float32, n*2*hw)
		s.Forward(n, x, y)
		for i := 0; i < n; i++ {
			for j := 0; j < 2*hw; j++ {
				if want := x[(i*c+2*k)*hw+j]; y[i*2*hw+j] != want {
					t.Fatalf("slice %d: y[%d,%d] = %g, want %g", k, i, j, y[i*2*hw+j], want)
				}
			}
		}
		parts = append(parts, y)
		rr := randSlice(r, len(y))
		dx := randSlice(r, len(x))
		before := append([]float32(nil), dx...)
		s.Backward(n, rr, dx)
		for i := range dx { // dx - before is the gradient of dot(y, rr)
			dx[i] -= before[i]
		}
		gradCheck(t, fmt.Sprintf("slice%d.dx", k), x, dx, func() float64 { s.Forward(n, x, y); return dot64(y, rr) }, 1e-2, 1e-4)
	}
	back := make([]float32, len(x))
	for k, y := range parts {
		Slice{C: 2, Total: c, Off: 2 * k, HW: hw}.Forward(n, x, y) // the gradient check left y perturbed
		Concat{C: 2, Total: c, Off: 2 * k, HW: hw}.Forward(n, y, back)
	}
	if d := maxDiff(t, back, x); d != 0 {
		t.Errorf("concat of the slices differs from the input by %g", d)
	}
	for name, f := range map[string]func(){
		"range": func() { Slice{C: 4, Total: 6, Off: 3, HW: 1}.Forward(1, make([]float32, 6), make([]float32, 4)) },
		"x":     func() { Slice{C: 2, Total: 6, Off: 0, HW: 1}.Forward(1, make([]float32, 5), make([]float32, 2)) },
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

// TestScale: the fast kernel against the reference, the reference's
// gradients of both inputs by finite differences, nil gradients skipped.
func TestScale(t *testing.T) {
	r := newRand(37)
	for _, tc := range []struct{ n, c, hw int }{{2, 3, 5}, {1, 8, 1}, {3, 4, 49}} {
		s := Scale{C: tc.c, HW: tc.hw}
		n := tc.n
		x, f := randSlice(r, n*tc.c*tc.hw), randSlice(r, n*tc.c)
		y, yRef := make([]float32, len(x)), make([]float32, len(x))
		s.ForwardRef(n, x, f, yRef)
		s.Forward(n, x, f, y)
		closeRel(t, "scale.y", y, yRef, 1e-6)
		for i := range x {
			if want := x[i] * f[i/tc.hw]; yRef[i] != want {
				t.Fatalf("scale: y[%d] = %g, want %g", i, yRef[i], want)
			}
		}
		rr := randSlice(r, len(y))
		dx, df, dxRef, dfRef := make([]float32, len(x)), make([]float32, len(f)), make([]float32, len(x)), make([]float32, len(f))
		s.BackwardRef(n, x, f, rr, dxRef, dfRef)
		s.Backward(n, x, f, rr, dx, df)
		closeRel(t, "scale.dx", dx, dxRef, 1e-5)
		closeRel(t, "scale.df", df, dfRef, 1e-5)
		loss := func() float64 { s.ForwardRef(n, x, f, y); return dot64(y, rr) }
		name := fmt.Sprintf("scale%dx%dx%d", tc.n, tc.c, tc.hw)
		gradCheck(t, name+".dx", x, dxRef, loss, 1e-2, 1e-3)
		gradCheck(t, name+".df", f, dfRef, loss, 1e-2, 1e-3)
		// Accumulation: a second backward doubles the gradients; nil skips.
		s.Backward(n, x, f, rr, dx, nil)
		s.Backward(n, x, f, rr, nil, df)
		for i := range dx {
			dx[i] -= 2 * dxRef[i]
		}
		for i := range df {
			df[i] -= 2 * dfRef[i]
		}
		if maxAbs(dx) > 1e-5 || maxAbs(df) > 1e-4 {
			t.Errorf("%s: the backward does not accumulate (dx off by %g, df by %g)", name, maxAbs(dx), maxAbs(df))
		}
	}
}

func TestLangAllocs(t *testing.T) {
	r := newRand(41)
	n, c, hw := 2, 8, 9
	x, f := randSlice(r, n*c*hw), randSlice(r, n*c)
	y, dx, df, part := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(f)), make([]float32, n*4*hw)
	s, sl := Scale{C: c, HW: hw}, Slice{C: 4, Total: c, Off: 4, HW: hw}
	allocs := testing.AllocsPerRun(20, func() {
		s.Forward(n, x, f, y)
		s.Backward(n, x, f, y, dx, df)
		sl.Forward(n, x, part)
		sl.Backward(n, part, dx)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run", allocs)
	}
}

func BenchmarkScale(b *testing.B) {
	r := newRand(43)
	n, c, hw := 8, 64, 28*28
	s := Scale{C: c, HW: hw}
	x, f := randSlice(r, n*c*hw), randSlice(r, n*c)
	y, dx, df := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(f))
	b.Run("forward", func(b *testing.B) {
		b.SetBytes(int64(4 * len(x)))
		for b.Loop() {
			s.Forward(n, x, f, y)
		}
	})
	b.Run("forward-ref", func(b *testing.B) {
		b.SetBytes(int64(4 * len(x)))
		for b.Loop() {
			s.ForwardRef(n, x, f, y)
		}
	})
	b.Run("backward", func(b *testing.B) {
		b.SetBytes(int64(4 * len(x)))
		for b.Loop() {
			s.Backward(n, x, f, y, dx, df)
		}
	})
	b.Run("backward-ref", func(b *testing.B) {
		b.SetBytes(int64(4 * len(x)))
		for b.Loop() {
			s.BackwardRef(n, x, f, y, dx, df)
		}
	})
}

// TestGoldenSplitScale: the channel split (x.chunk(3, dim=1)) and the
// per-channel scale (x * f[:, :, None, None]) against PyTorch, forward and
// backward, fast and reference kernels.
func TestGoldenSplitScale(t *testing.T) {
	g := loadGolden(t)
	x := g.get("split.x")
	dx := make([]float32, len(x))
	for k := 0; k < 3; k++ {
		s := Slice{C: 2, Total: 6, Off: 2 * k, HW: 12}
		y := make([]float32, 2*2*12)
		s.Forward(2, x, y)
		g.cmp(fmt.Sprintf("split.y%d", k), y)
		s.Backward(2, g.get(fmt.Sprintf("split.dy%d", k)), dx)
	}
	g.cmp("split.dx", dx)

	sc := Scale{C: 4, HW: 15}
	xs, f, dy := g.get("scale.x"), g.get("scale.f"), g.get("scale.dy")
	for _, ref := range []bool{false, true} {
		y, dxs, df := make([]float32, len(xs)), make([]float32, len(xs)), make([]float32, len(f))
		if ref {
			sc.ForwardRef(2, xs, f, y)
			sc.BackwardRef(2, xs, f, dy, dxs, df)
		} else {
			sc.Forward(2, xs, f, y)
			sc.Backward(2, xs, f, dy, dxs, df)
		}
		g.cmp("scale.y", y)
		g.cmp("scale.dx", dxs)
		g.cmp("scale.df", df)
	}
}
