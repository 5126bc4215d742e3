//go:build !purego

package gemm

import "golang.org/x/sys/cpu"

//go:generate go run gen_kernels.go -out kernel_amd64.s

// kernelAVX512_8x48 is the AVX-512 micro-kernel: an 8×48 tile of C in 24
// zmm accumulators (3 vectors of 16 per row).
//
//go:noescape
func kernelAVX512_8x48(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// kernelAVX512_8x32 and kernelAVX512_8x16 compute the first 32 or 16
// columns of an 8×48 tile, for the last strip of B.
//
//go:noescape
func kernelAVX512_8x32(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kernelAVX512_8x16(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// kernelAVX2_6x16 is the AVX2+FMA micro-kernel: a 6×16 tile of C in 12 ymm
// accumulators.
//
//go:noescape
func kernelAVX2_6x16(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// The indirect kernels: the same tiles with B step p read at b + offs[p]
// floats (see indirectKernel).
//
//go:noescape
func kernelAVX512_8x48i(kc int, a, b *float32, offs *int32, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kernelAVX512_8x32i(kc int, a, b *float32, offs *int32, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kernelAVX512_8x16i(kc int, a, b *float32, offs *int32, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kernelAVX2_6x16i(kc int, a, b *float32, offs *int32, c *float32, ldc int, alpha, beta float32)

// The unpacked kernels (MulRows): 8×nr tiles with row r of A at a + r*lda
// and step p of B at b + p*ldb.
//
//go:noescape
func kernelAVX512_8x48s(kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kernelAVX512_8x32s(kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kernelAVX512_8x16s(kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// The unpacked-A kernels with B steps through an offset table
// (MulIndirectPartA).
//
//go:noescape
func kernelAVX512_8x48si(kc int, a *float32, lda int, b *float32, offs *int32, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kernelAVX512_8x32si(kc int, a *float32, lda int, b *float32, offs *int32, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kernelAVX512_8x16si(kc int, a *float32, lda int, b *float32, offs *int32, c *float32, ldc int, alpha, beta float32)

// gather2AVX512 and gather4AVX512: rows of n >= 16 outputs, dst[r*ldd+i]
// = src[r*lds+i*stride], reading src rows up to n*stride; idx is the
// permutation 0, stride, 2*stride, ...
//
//go:noescape
func gather2AVX512(rows, n int, dst *float32, ldd int, src *float32, lds int, idx *int32)

//go:noescape
func gather4AVX512(rows, n int, dst *float32, ldd int, src *float32, lds int, idx *int32)

// transpose8 moves n8 blocks of 8×8: block b takes src[r*lds+8b+c] to
// dst[(8b+c)*ldd+r] for r, c < 8. It needs AVX.
//
//go:noescape
func transpose8(n8 int, src *float32, lds int, dst *float32, ldd int)

var (
	avx512Kernel = &kernel{name: "avx512-8x48", mr: 8, nr: 48, kc: 256, mc: 1024, nc: 768, fn: kernelAVX512_8x48,
		edge: []edgeKernel{{16, kernelAVX512_8x16}, {32, kernelAVX512_8x32}},
		ind:  kernelAVX512_8x48i, indEdge: []indEdgeKernel{{16, kernelAVX512_8x16i}, {32, kernelAVX512_8x32i}},
		avx512: true}
	avx2Kernel = &kernel{name: "avx2-6x16", mr: 6, nr: 16, kc: 256, mc: 1020, nc: 1024, fn: kernelAVX2_6x16,
		ind: kernelAVX2_6x16i}
)

func init() {
	if cpu.X86.HasAVX {
		transpose8x8 = transpose8
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		usable = append(usable, avx2Kernel)
		best = avx2Kernel
	}
	if cpu.X86.HasAVX512F {
		usable = append(usable, avx512Kernel)
		best = avx512Kernel
		rowsKernels = [3]stridedKernel{kernelAVX512_8x16s, kernelAVX512_8x32s, kernelAVX512_8x48s}
		rowsIndKernels = [3]stridedIndKernel{kernelAVX512_8x16si, kernelAVX512_8x32si, kernelAVX512_8x48si}
		gathers[2], gathers[4] = gather2AVX512, gather4AVX512
	}
}
