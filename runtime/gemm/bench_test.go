package gemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShape is one product: C (m×n) = op(A) op(B) with inner dimension k.
type benchShape struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
}

func squareShapes() []benchShape {
	var s []benchShape
	for _, n := range []int{256, 512, 1024, 2048} {
		s = append(s, benchShape{fmt.Sprintf("n=%d", n), blas.NoTrans, blas.NoTrans, n, n, n})
	}
	return s
}

// convShapes are the im2col products of convolution layers (batch 1, one
// image): fwd y = W col (W is K×CRS, col CRS×HW), bwd_data dcol = Wᵀ dy,
// bwd_filter dW += dy colᵀ.
func convShapes() []benchShape {
	layers := []struct {
		name       string
		k, crs, hw int
	}{
		{"resnet_3x3-64", 64, 576, 3136},     // 64->64 3x3 at 56x56
		{"resnet_1x1-256-64", 64, 256, 3136}, // 256->64 1x1 at 56x56
		{"alexnet_conv1", 96, 363, 3025},     // 3->96 11x11 s4, 55x55 out
	}
	var s []benchShape
	for _, l := range layers {
		s = append(s,
			benchShape{l.name + "/fwd", blas.NoTrans, blas.NoTrans, l.k, l.hw, l.crs},
			benchShape{l.name + "/bwd_data", blas.Trans, blas.NoTrans, l.crs, l.hw, l.k},
			benchShape{l.name + "/bwd_filter", blas.NoTrans, blas.Trans, l.k, l.crs, l.hw},
		)
	}
	return s
}

func benchSgemm(b *testing.B, s Sgemmer, sh benchShape) {
	rng := rand.New(rand.NewPCG(1, 1))
	rand32 := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32() - 0.5
		}
		return x
	}
	a, bb, c := rand32(sh.m*sh.k), rand32(sh.k*sh.n), rand32(sh.m*sh.n)
	lda, ldb := sh.k, sh.n
	if sh.tA == blas.Trans {
		lda = sh.m
	}
	if sh.tB == blas.Trans {
		ldb = sh.k
	}
	s.Sgemm(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, a, lda, bb, ldb, 0, c, sh.n)
	b.ResetTimer()
	for b.Loop() {
		s.Sgemm(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, a, lda, bb, ldb, 0, c, sh.n)
	}
	flops := 2 * float64(sh.m) * float64(sh.n) * float64(sh.k)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm measures the default implementation (gemm.Sgemm) on square
// products with all threads.
func BenchmarkSgemm(b *testing.B) {
	for _, sh := range squareShapes() {
		b.Run(sh.name, func(b *testing.B) { benchSgemm(b, impl, sh) })
	}
}

// BenchmarkSgemmConv measures convolution-shaped products:
// BenchmarkSgemmConv/<layer>/<fwd|bwd_data|bwd_filter>.
func BenchmarkSgemmConv(b *testing.B) {
	for _, sh := range convShapes() {
		b.Run(sh.name, func(b *testing.B) { benchSgemm(b, impl, sh) })
	}
}

// BenchmarkSgemm1 is BenchmarkSgemm on one thread.
func BenchmarkSgemm1(b *testing.B) {
	defer SetThreads(SetThreads(1))
	for _, sh := range squareShapes() {
		b.Run(sh.name, func(b *testing.B) { benchSgemm(b, impl, sh) })
	}
}

// BenchmarkSgemmGonum is gonum's pure-Go Sgemm, for comparison.
func BenchmarkSgemmGonum(b *testing.B) {
	for _, sh := range squareShapes()[:3] {
		b.Run(sh.name, func(b *testing.B) { benchSgemm(b, gonum.Implementation{}, sh) })
	}
}

// BenchmarkSgemmKernels is BenchmarkSgemm with each micro-kernel usable
// here: BenchmarkSgemmKernels/<kernel>/n=<n>.
func BenchmarkSgemmKernels(b *testing.B) {
	for _, kn := range usable {
		for _, sh := range squareShapes()[:3] {
			b.Run(kn.name+"/"+sh.name, func(b *testing.B) { benchSgemm(b, kernelImpl{kn}, sh) })
		}
	}
}

// BenchmarkKernel is the micro-kernel alone on packed panels that stay in
// L1/L2 (kc=256): the ceiling for the whole product on one core.
func BenchmarkKernel(b *testing.B) {
	for _, kn := range usable {
		b.Run(kn.name, func(b *testing.B) {
			const kc = 256
			ap := alignedFloats(kc * kn.mr)
			bp := alignedFloats(kc * kn.nr)
			c := alignedFloats(kn.mr * kn.nr)
			for b.Loop() {
				kn.fn(kc, &ap[0], &bp[0], kn.nr, &c[0], kn.nr, 1, 1)
			}
			flops := 2 * float64(kc*kn.mr*kn.nr)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// GEMM_TUNE=kc,mc,nc overrides the blocking of the default kernel in
// benchmarks (for tuning: go test -bench Sgemm1 with several values).
//
// GEMM_THREADS=n runs the benchmarks with SetThreads(n).
func init() {
	if s := os.Getenv("GEMM_THREADS"); s != "" {
		var n int
		fmt.Sscan(s, &n)
		SetThreads(n)
	}
	if s := os.Getenv("GEMM_TUNE"); s != "" {
		var kc, mc, nc int
		if _, err := fmt.Sscanf(s, "%d,%d,%d", &kc, &mc, &nc); err != nil || kc < 1 || mc < best.mr || nc < best.nr {
			panic("GEMM_TUNE: want kc,mc,nc, got " + s)
		}
		best.kc, best.mc, best.nc = kc, mc/best.mr*best.mr, nc/best.nr*best.nr
		best.free = nil
	}
}
