package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randSlice returns n values uniform in [-1, 1) from a fixed seed.
func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

// maxAbs returns max |v|.
func maxAbs(a []float32) float64 {
	var m float64
	for _, v := range a {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

// maxDiff returns max |a-b|; it fails the test if the lengths differ.
func maxDiff(t testing.TB, a, b []float32) float64 {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("length %d != %d", len(a), len(b))
	}
	var m float64
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = max(m, d)
	}
	return m
}

// closeRel checks max|got-want| <= tol * max(1e-6, max|want|) and returns
// the relative difference.
func closeRel(t testing.TB, name string, got, want []float32, tol float64) float64 {
	t.Helper()
	d := maxDiff(t, got, want)
	scale := max(maxAbs(want), 1e-6)
	if d > tol*scale {
		t.Errorf("%s: max abs diff %.3g > %.1g * max|want| (%.3g)", name, d, tol, scale)
	}
	return d / scale
}

// dot64 returns sum a[i]*b[i] in float64.
func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// gradCheck compares grad (the analytic dL/dp) with central differences of
// loss at up to maxN elements of p: |num-ana| <= tol*(1+|ana|).
func gradCheck(t *testing.T, name string, p, grad []float32, loss func() float64, eps, tol float64) {
	t.Helper()
	if len(p) != len(grad) {
		t.Fatalf("%s: len(p) %d != len(grad) %d", name, len(p), len(grad))
	}
	const maxN = 60
	step := max(1, len(p)/maxN)
	var worst float64
	for i := 0; i < len(p); i += step {
		old := p[i]
		p[i] = old + float32(eps)
		lp := loss()
		p[i] = old - float32(eps)
		lm := loss()
		p[i] = old
		// the actual perturbation in float32
		h := float64(old+float32(eps)) - float64(old-float32(eps))
		num := (lp - lm) / h
		ana := float64(grad[i])
		d := math.Abs(num-ana) / (1 + math.Abs(ana))
		worst = max(worst, d)
		if d > tol {
			t.Errorf("%s[%d]: numeric %.6g, analytic %.6g", name, i, num, ana)
			return
		}
	}
	t.Logf("%s: max |num-ana|/(1+|ana|) = %.3g", name, worst)
}
