package gemm

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// FuzzSgemm checks the default implementation against the float64
// reference (and gonum) for fuzzed shapes, transposes, leading-dimension
// padding and alpha/beta. The seed corpus is in testdata/fuzz/FuzzSgemm;
// `go test -fuzz FuzzSgemm ./runtime/gemm/` explores further.
func FuzzSgemm(f *testing.F) {
	f.Add(uint16(1), uint16(1), uint16(1), uint8(0), uint8(0), uint8(0), int8(2), int8(0), uint64(1))
	f.Fuzz(func(t *testing.T, m, n, k uint16, trans, pad, padC uint8, alpha2, beta2 int8, seed uint64) {
		g := gemmCase{
			m: int(m % 200), n: int(n % 200), k: int(k % 200),
			tA: transposes[trans&1], tB: transposes[trans>>1&1],
			alpha: float32(alpha2) / 2, beta: float32(beta2) / 2,
		}
		g.lda, g.ldb, g.ldc = max(1, g.k), max(1, g.n), max(1, g.n)+int(padC%5)
		if g.tA == blas.Trans {
			g.lda = max(1, g.m)
		}
		if g.tB == blas.Trans {
			g.ldb = max(1, g.k)
		}
		g.lda += int(pad % 4)
		g.ldb += int(pad >> 2 % 4)
		rng := rand.New(rand.NewPCG(seed, 1))
		a, b, c0 := g.operands(rng)
		if len(a) == 0 {
			a = make([]float32, 1)
		}
		if len(b) == 0 {
			b = make([]float32, 1)
		}
		got, want := copyOf(c0), copyOf(c0)
		g.run(Implementation{}, a, b, got)
		g.check(t, "ours", a, b, c0, got)
		g.run(gonum.Implementation{}, a, b, want)
		g.check(t, "gonum", a, b, c0, want)
	})
}
