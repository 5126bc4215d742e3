package gemm

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// TestMulRows: the unpacked kernels against the float64 reference, for
// widths that exercise every strip choice (16, 32, 48, 32+32, partial).
func TestMulRows(t *testing.T) {
	if !HasMulRows() {
		t.Skip("no unpacked kernels on this machine")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 15, 16, 17, 32, 33, 48, 50, 60, 64, 96, 100, 363} {
		for _, k := range []int{1, 3, 7, 300} {
			m := 8 * (1 + rng.IntN(4))
			g := gemmCase{tA: blas.NoTrans, tB: blas.NoTrans, m: m, n: n, k: k, alpha: 1,
				beta: []float32{0, 1, 0.5}[rng.IntN(3)], lda: k + rng.IntN(3), ldb: n + rng.IntN(3), ldc: n + rng.IntN(3)}
			a, b, c0 := g.operands(rng)
			b = append(b, make([]float32, 16)...) // the columns read beyond n
			got := copyOf(c0)
			MulRows(m, n, k, a, g.lda, b, g.ldb, g.beta, got, g.ldc)
			g.check(t, "MulRows", a, b, c0, got)
		}
	}
	if msg := panicMsg(func() { MulRows(4, 4, 4, make([]float32, 16), 4, make([]float32, 32), 4, 0, make([]float32, 16), 4) }); msg == "" {
		t.Error("MulRows: no panic for m not a multiple of 8")
	}
	a, b, c := make([]float32, 16*20), make([]float32, 20*64), make([]float32, 16*50)
	if allocs := testing.AllocsPerRun(10, func() { MulRows(16, 50, 20, a, 20, b, 64, 0, c, 50) }); allocs != 0 {
		t.Errorf("MulRows: %v allocations per call", allocs)
	}
}

// TestTranspose against the obvious loop, for sizes around the 8×8 blocks.
func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, rows := range []int{1, 7, 8, 9, 17, 64} {
		for _, cols := range []int{1, 8, 13, 448} {
			lds, ldd := cols+rng.IntN(3), rows+rng.IntN(3)
			src := randMat(rng, rows, cols, lds)
			dst := make([]float32, (cols-1)*ldd+rows)
			Transpose(rows, cols, src, lds, dst, ldd)
			for i := 0; i < rows; i++ {
				for j := 0; j < cols; j++ {
					if dst[j*ldd+i] != src[i*lds+j] {
						t.Fatalf("%dx%d: dst[%d][%d] = %v, want %v", rows, cols, j, i, dst[j*ldd+i], src[i*lds+j])
					}
				}
			}
		}
	}
}

// TestGather against the obvious loop, for strides with and without a
// vector routine and lengths around the blocks of 16.
func TestGather(t *testing.T) {
	for _, stride := range []int{1, 2, 3, 4} {
		for _, n := range []int{0, 1, 15, 16, 17, 55, 64, 200} {
			for _, slack := range []int{0, 5, 100} {
				if n == 0 {
					continue
				}
				src := make([]float32, (n-1)*stride+1+slack)
				for i := range src {
					src[i] = float32(i)
				}
				dst := make([]float32, n+1)
				dst[n] = -1
				Gather(dst[:n], src, stride)
				for i := 0; i < n; i++ {
					if dst[i] != src[i*stride] {
						t.Fatalf("stride %d n %d slack %d: dst[%d] = %v, want %v", stride, n, slack, i, dst[i], src[i*stride])
					}
				}
				if dst[n] != -1 {
					t.Fatalf("stride %d n %d: wrote beyond dst", stride, n)
				}
			}
		}
	}
	t.Logf("vector gather: stride 2 %v, stride 4 %v", HasGather(2), HasGather(4))
}

// TestGather2D against the obvious loops, with the last row short of room
// for whole blocks.
func TestGather2D(t *testing.T) {
	for _, stride := range []int{2, 3, 4} {
		for _, n := range []int{1, 16, 23, 55} {
			for _, rows := range []int{1, 3} {
				for _, room := range []int{0, 1, 64} {
					lds, ldd := n*stride+5, n+3
					src := make([]float32, (rows-1)*lds+(n-1)*stride+1+room)
					for i := range src {
						src[i] = float32(i)
					}
					dst := make([]float32, (rows-1)*ldd+n)
					Gather2D(rows, n, dst, ldd, src, lds, stride)
					for r := 0; r < rows; r++ {
						for i := 0; i < n; i++ {
							if dst[r*ldd+i] != src[r*lds+i*stride] {
								t.Fatalf("stride %d n %d rows %d room %d: dst[%d][%d] = %v, want %v", stride, n, rows, room, r, i, dst[r*ldd+i], src[r*lds+i*stride])
							}
						}
					}
				}
			}
		}
	}
}
