//go:build netlib

package gemm

import (
	"math/rand/v2"
	"testing"
)

// TestNetlib checks the OpenBLAS binding against the float64 reference with
// the same cases as TestSgemmRandom.
func TestNetlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for range 20 {
		g := randCase(rng, 300)
		a, b, c0 := g.operands(rng)
		got := copyOf(c0)
		g.run(Netlib{}, a, b, got)
		g.check(t, "netlib", a, b, c0, got)
	}
}

// BenchmarkSgemmNetlib is BenchmarkSgemm through OpenBLAS (cgo).
func BenchmarkSgemmNetlib(b *testing.B) {
	for _, sh := range squareShapes() {
		b.Run(sh.name, func(b *testing.B) { benchSgemm(b, Netlib{}, sh) })
	}
}
