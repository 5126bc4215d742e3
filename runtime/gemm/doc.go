// Package gemm is cnnc's float32 matrix product: gonum's Sgemm semantics
// (row-major, blas.Float32Level3) behind a one-method interface, Sgemmer, so
// that implementations can be swapped for comparison and testing:
//
//	gemm.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) // C = alpha op(A) op(B) + beta C
//	gemm.Use(gonum.Implementation{})  // gonum's pure-Go code
//	gemm.Use(gemm.Netlib{})           // OpenBLAS through cgo (-tags netlib)
//	gemm.Use(gemm.Implementation{})   // the default: this package's code
//
// # Design
//
// Implementation is built the way GotoBLAS and BLIS build GEMM, mirrored for
// row-major C (vectors run along the rows of C and of op(B)):
//
//	for i0 in steps of MC (rows of op(A))
//	  for p0 in steps of KC (the inner dimension)
//	    pack op(A)[i0:+MC, p0:+KC] into strips of MR rows     (kc×MR each)
//	    for j0 in steps of NC (columns of op(B))
//	      pack op(B)[p0:+KC, j0:+NC] into strips of NR columns (kc×NR each, the block sits in L2)
//	      for each A strip (stays in L1)
//	        for each B strip (streams from L2)
//	          micro-kernel: MR×NR tile of C += A strip × B strip
//
// The micro-kernel keeps the whole MR×NR tile of C in registers for the k
// loop: per k step it loads NR/16 vectors of the B strip, broadcasts each of
// the MR values of the A strip and issues MR·NR/16 FMAs; then it writes
// C = alpha·acc + beta·C, with separate paths for beta == 0 (C is never
// read, so NaN in C does not propagate) and beta == 1 (blocks of k after the
// first). Panels are zero-padded at the edges. A last strip of B with at
// most 16 or 32 columns goes to an 8×16 or 8×32 AVX-512 kernel; a partial
// tile that no kernel fits exactly is computed into a small buffer and
// copied out.
//
// Micro-kernels (chosen at start-up from golang.org/x/sys/cpu; Kernel names
// the one in use):
//
//	avx512-8x48  AVX-512F: 8 rows × 3 zmm (48 columns) = 24 accumulators,
//	             3 zmm for B, broadcasts in the other 5; KC=256, MC=1024, NC=768
//	avx2-6x16    AVX2+FMA: 6 rows × 2 ymm = 12 accumulators; KC=256, MC=1020, NC=1024
//	go-4x4       pure Go (other platforms, -tags purego): 16 scalar accumulators
//
// KC=256 keeps an A strip (256×8 floats = 8 KiB) in the 48 KiB L1d next to
// the B stream, and a packed B block (256×768 floats = 768 KiB) well inside
// the 2 MiB L2 of this Sapphire-Rapids-class Xeon. (KC=384 was the first
// choice; in interleaved runs KC=256 was 10-15% faster on the conv-shaped
// products and about equal on the square ones.) The kernel alone runs at
// about 204 GFLOP/s on one core (BenchmarkKernel), the machine's FMA peak.
//
// The assembly (kernel_amd64.s) is written by gen_kernels.go, a small Go
// program that prints the unrolled Go assembly (no avo: the kernels are a
// few dozen distinct instructions, and a plain printer keeps the generator
// dependency-free and the output readable). Regenerate with go generate.
// The same file has transpose8, an AVX 8×8 transposer used by the packing
// routines that transpose (op(A) = A with MR = 8, op(B) = Bᵀ).
//
// Packing scratch is 64-byte aligned, owned by the package and reused: each
// kernel keeps a free list of scratch buffers (never dropped, so a garbage
// collection does not force a reallocation); a call takes one and gives it
// back. Steady-state calls allocate nothing (TestNoAllocs).
//
// # Threads
//
// Products of at least 2·2^20 multiply-adds are split across a persistent
// worker pool (SetThreads; default GOMAXPROCS): C is cut into contiguous
// column ranges (whole NR strips) or row ranges (whole MR strips), whichever
// leaves less packing per part, and each part runs the loops above with its
// own scratch. The caller publishes the job, nudges the workers and then
// claims parts like a worker (a compare-and-swap on one word), so a worker
// that is slow to wake on a busy machine costs nothing: the caller takes its
// part too. An idle worker polls the job word for 50 µs before it parks (the
// nudge is only a hint, so no wake-up can be lost), and the caller polls for
// the other parts for 50 µs before it waits on a WaitGroup: waking a parked
// goroutine takes tens of microseconds here. With a free core, the worker's
// polling alone lifted n=256 and n=512 from 152 and 181 to 245 and 357
// GFLOP/s (best of 5, interleaved runs). An earlier hand-off with per-worker
// sleep flags hung once in a benchmark run and was dropped. Smaller
// products, and calls made while another call holds the pool (concurrent
// callers, such as a batch split across goroutines), run on the calling
// goroutine. Implementation is safe for concurrent use.
//
// # Operands the caller lays out (the convolution's products)
//
// Sgemm packs both operands on every call. The convolution knows more: its
// weights serve every image and block of a call, and its B operand (the
// im2col matrix) is made by the caller anyway. Four entry points let it skip
// the copies (all on the calling goroutine, which the caller's workers
// split):
//
//   - Panels (Packed()) exposes the packed layouts: PackA once, B written by
//     the caller straight into the panel (BRow gives where row q of B goes),
//     Mul runs the micro-kernels over them.
//   - Panels.MulIndirect reads B step p at b + offs[p] (an int32 table) with
//     the indirect micro-kernels (kernelAVX512_8x48i...): for a stride-1
//     conv, b is the padded input block and offs the kernel taps, so the
//     im2col matrix is never written.
//   - MulPart and MulIndirectPart compute a range of rows of C (the
//     caller's workers split a product with few columns by rows);
//     MulPartA and MulIndirectPartA (AVX-512, HasUnpackedA) do the same
//     with A read in place, eight rows broadcast in step
//     (kernelAVX512_8x48s, 8x48si...): the conv's weights, which change
//     every training step, are never packed.
//   - MulRows (AVX-512) takes both operands unpacked: eight A rows broadcast
//     in step, B loaded at a stride (kernelAVX512_8x48s, 8x32s, 8x16s; n=64
//     runs as 32+32). The conv's filter gradient, a product over pixels
//     (contiguous in both operands), uses it as dwᵀ += col dyᵀ.
//   - Transpose, PackBCols and Gather/Gather2D (AVX-512 stride-2/4 gathers
//     by VPERMT2PS) are the packing primitives around them.
//
// The 8×32 kernel runs at the 8×48 kernel's rate (BenchmarkKernel: 220
// against 220 GFLOP/s on one core) and the 8×16 at about 82%.
//
// # Errors
//
// Bad arguments to Sgemm panic with gonum's messages under gonum's
// conditions (TestPanicsLikeGonum); the entry points above panic on short
// operands and offsets outside b.
//
// # Tests
//
// go test ./runtime/gemm/ (about 2 s) checks every micro-kernel usable on the
// machine and gonum against a float64 reference on random shapes 1..300, all
// transposes, alpha in {1, 0, -1, 0.5, 2.5}, beta in {0, 1, -0.5, 2}, padded
// leading dimensions (the padding must stay untouched), with the tolerance
//
//	|got - ref| <= 2e-5 · (|alpha|·Σ_p |A_ip·B_pj| + |beta·C_ij|)
//
// (observed maximum 3.6e-7, for gonum and ours alike); ours against gonum;
// edge sizes around MR, NR, KC and the 16/32-column edge kernels; beta == 0
// with NaN and -Inf in C; each assembly kernel (and edge kernel) against the
// generic Go kernel on the same panels; the assembly 8×8 transposer against
// its Go twin; whole products with the pure-Go kernel against the assembly
// one; FuzzSgemm (seed corpus in testdata/fuzz/FuzzSgemm, run by go test;
// go test -fuzz FuzzSgemm explores); gonum's panics; concurrent callers;
// 3000 back-to-back pool jobs; zero allocations; Mul, MulIndirect (random
// overlapping offsets) and MulRows against the reference for every usable
// kernel, BRow and PackBCols against PackB, Transpose and Gather2D against
// plain loops. go test -tags purego ./runtime/gemm/ tests the pure-Go build.
// go test -tags netlib (with CGO_LDFLAGS=-lopenblas) also tests Netlib.
//
// # Benchmarks
//
//	go test ./runtime/gemm -run '^$' -bench '^BenchmarkSgemm$' -count=3
//
// BenchmarkSgemm/n=256..2048 (square, no transposes, all threads),
// BenchmarkSgemmConv/<layer>/<fwd|bwd_data|bwd_filter> (the im2col products
// of ResNet 3×3 64→64 and 1×1 256→64 at 56×56 and AlexNet conv1, one image),
// BenchmarkSgemm1 (one thread), BenchmarkSgemmGonum, BenchmarkSgemmKernels
// (each usable micro-kernel) and BenchmarkKernel (the micro-kernel alone)
// report GFLOP/s = 2mnk/time.
// Environment for tuning: GEMM_THREADS=n, GEMM_TUNE=kc,mc,nc.
// bench/kernels.sh runs them next to numpy (OpenBLAS) and torch.mm.
//
// # Measured
//
// On the 2-core Sapphire-Rapids-class Xeon (AVX-512, 3.2 GHz turbo, shared
// with other engineers' work: load average 3.8 falling to 2.6 during the
// run), 27 Nov 2026 05:17 UTC, ours, numpy (OpenBLAS 0.3.21, SkylakeX
// kernel, 2 threads) and torch.mm taking turns per product, best of 3
// rounds, GFLOP/s (bench/results-2026-11-27.txt):
//
//	COUNT=1 ROUNDS=3 BEST=1 ONLY=gemm bench/kernels.sh
//
//	benchmark                               ours   numpy   torch  ours/numpy
//	Sgemm/n=256                            305.4   239.8   257.0   1.27
//	Sgemm/n=512                            344.2   293.2   303.8   1.17
//	Sgemm/n=1024                           367.8   347.7   348.2   1.06
//	Sgemm/n=2048                           389.7   361.6   351.8   1.08
//	SgemmConv/resnet_3x3-64/fwd            275.7   222.7   225.3   1.24
//	SgemmConv/resnet_3x3-64/bwd_data       312.8   247.8   251.7   1.26
//	SgemmConv/resnet_3x3-64/bwd_filter     277.9   221.9   227.6   1.25
//	SgemmConv/resnet_1x1-256-64/fwd        243.7   228.5   229.3   1.07
//	SgemmConv/resnet_1x1-256-64/bwd_data   279.5   236.3   260.7   1.18
//	SgemmConv/resnet_1x1-256-64/bwd_filter 234.8   196.2   202.2   1.20
//	SgemmConv/alexnet_conv1/fwd            274.2   291.5   289.6   0.94
//	SgemmConv/alexnet_conv1/bwd_data       301.3   256.4   261.5   1.18
//	SgemmConv/alexnet_conv1/bwd_filter     253.6   239.8   236.9   1.06
//
// A later run (08:07 UTC, load 1.1 to 1.8, ROUNDS=3 BEST=1 COUNT=1
// bench/kernels.sh) gave n=256/512/1024/2048 309.7/349.3/373.8/378.5
// against numpy's 240.3/299.2/354.2/349.8 (1.29/1.17/1.06/1.08).
// An earlier run (05:10 UTC, KC=384, load 3.7 to 1.8) gave n=1024 393.1
// against 380.1 (1.03) and alexnet_conv1/fwd 0.84; the other ratios were
// 1.00-1.29.
// With the machine busier (load 4.5-6.6, a training run on the other core)
// both sides drop to about half and the ratios stay near 1 (n=1024: 182.6
// against 178.3, 1.02). One thread (BenchmarkSgemm1, best of 6): n=1024
// 191 GFLOP/s, 94% of the micro-kernel alone (BenchmarkKernel/avx512-8x48:
// 204 GFLOP/s, the FMA peak at 3.2 GHz). BenchmarkSgemmKernels/*/n=512:
// avx512-8x48 179, avx2-6x16 100, go-4x4 5-10 GFLOP/s; gonum's
// Implementation 10-19 GFLOP/s (BenchmarkSgemmGonum).
package gemm
