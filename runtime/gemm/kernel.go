package gemm

import (
	goruntime "runtime"
	"sync"
	"unsafe"
)

// A microKernel computes one mr×nr tile of C from packed panels:
//
//	acc[r][j] = sum over p < kc of a[p*mr+r] * b[p*ldb+j]
//	c[r*ldc+j] = alpha*acc[r][j] + beta*c[r*ldc+j]   (c is not read when beta == 0)
//
// a is a packed kc×mr micro-panel of op(A) (mr values per k step), b a
// kc×nr micro-panel of op(B) with ldb floats between k steps (ldb == nr
// when packed; the kernels also accept a wider stride). kc >= 1.
type microKernel func(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// kernel is a micro-kernel with its tile shape and the cache blocking that
// suits it.
type kernel struct {
	name   string
	mr, nr int // register tile: mr rows of C by nr columns
	kc     int // depth of a packed block (A micro-panel kc×mr stays in L1)
	mc     int // rows of op(A) packed at once (multiple of mr)
	nc     int // columns of op(B) packed at once (multiple of nr; kc×nc sits in L2)
	fn     microKernel
	// edge: narrower kernels (increasing cols) for a last strip of B with
	// at most cols columns; they read the packed strip with ldb = nr.
	edge []edgeKernel
	// ind computes the same tile with B rows read through an offset table
	// (indirectKernel); indEdge are its narrower versions, like edge.
	ind     indirectKernel
	indEdge []indEdgeKernel
	// avx512: the CPU extras that go with this kernel (MulRows, the
	// unpacked-A products, the vector gathers) are on while it is in use
	avx512 bool

	mu       sync.Mutex
	free     []*scratch // scratch buffers not in use; never dropped
	reserved bool       // the first getScratch made the reserve
}

// An indirectKernel is a microKernel whose B step p is the nr floats at
// b + offs[p] (offs holds kc int32 offsets, in floats) instead of b + p*ldb:
// B rows are read where they lie, for example from an image at the
// offsets of a convolution's kernel taps.
type indirectKernel func(kc int, a, b *float32, offs *int32, c *float32, ldc int, alpha, beta float32)

// An indEdgeKernel computes the first cols columns of an indirect tile.
type indEdgeKernel struct {
	cols int
	fn   indirectKernel
}

// An edgeKernel computes the first cols columns of an mr×nr tile.
type edgeKernel struct {
	cols int
	fn   microKernel
}

// scratch holds the packed panels of one goroutine.
type scratch struct {
	ap   []float32 // mc×kc, strips of mr rows
	bp   []float32 // kc×nc, strips of nr columns
	tile []float32 // mr×nr, for edge tiles
}

// alignedFloats returns n float32s whose first element is 64-byte aligned.
func alignedFloats(n int) []float32 {
	s := make([]float32, n+16)
	off := 0
	if r := int(uintptr(unsafe.Pointer(&s[0])) & 63); r != 0 {
		off = (64 - r) / 4
	}
	return s[off : off+n : off+n]
}

// getScratch hands out a set of packing buffers. The first call makes a
// reserve of as many sets as can be in use at once on this machine (the
// runtime's conv workers, the caller and this package's pool workers: about
// 2*GOMAXPROCS+1, at most 9 sets of about 1.8 MB), so that calls in steady
// state do not allocate however they interleave; more are made only beyond
// that.
func (k *kernel) getScratch() *scratch {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.free) == 0 {
		n := 1
		if !k.reserved {
			k.reserved = true
			n = min(2*goruntime.GOMAXPROCS(0)+1, 9)
			k.free = make([]*scratch, 0, 2*n)
		}
		for i := 0; i < n; i++ {
			k.free = append(k.free, &scratch{
				ap:   alignedFloats(k.mc * k.kc),
				bp:   alignedFloats(k.kc * k.nc),
				tile: alignedFloats(k.mr * k.nr),
			})
		}
	}
	s := k.free[len(k.free)-1]
	k.free = k.free[:len(k.free)-1]
	return s
}

func (k *kernel) putScratch(s *scratch) {
	k.mu.Lock()
	k.free = append(k.free, s)
	k.mu.Unlock()
}

// kernelGeneric is the reference micro-kernel for any tile shape: plain
// loops, float32 accumulation in the same order as the vector kernels.
func kernelGeneric(mr, nr, kc int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	for r := 0; r < mr; r++ {
		for j := 0; j < nr; j++ {
			var acc float32
			for p := 0; p < kc; p++ {
				acc += a[p*mr+r] * b[p*ldb+j]
			}
			if beta == 0 {
				c[r*ldc+j] = alpha * acc
			} else {
				c[r*ldc+j] = alpha*acc + beta*c[r*ldc+j]
			}
		}
	}
}

// kernelGo4x4 is the pure-Go micro-kernel: a 4×4 tile held in 16 scalar
// accumulators.
func kernelGo4x4(kc int, ap, bp *float32, ldb int, cp *float32, ldc int, alpha, beta float32) {
	a := unsafe.Slice(ap, kc*4)
	b := unsafe.Slice(bp, (kc-1)*ldb+4)
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < kc; p++ {
		aa := a[p*4 : p*4+4 : p*4+4]
		bb := b[p*ldb : p*ldb+4 : p*ldb+4]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		a0 := aa[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := aa[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := aa[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := aa[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	c := unsafe.Slice(cp, 3*ldc+4)
	store4(c[0:4:4], c00, c01, c02, c03, alpha, beta)
	store4(c[ldc:ldc+4:ldc+4], c10, c11, c12, c13, alpha, beta)
	store4(c[2*ldc:2*ldc+4:2*ldc+4], c20, c21, c22, c23, alpha, beta)
	store4(c[3*ldc:3*ldc+4:3*ldc+4], c30, c31, c32, c33, alpha, beta)
}

func store4(c []float32, v0, v1, v2, v3, alpha, beta float32) {
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*v0, alpha*v1, alpha*v2, alpha*v3
		return
	}
	c[0] = alpha*v0 + beta*c[0]
	c[1] = alpha*v1 + beta*c[1]
	c[2] = alpha*v2 + beta*c[2]
	c[3] = alpha*v3 + beta*c[3]
}

// kernelGo4x4i is kernelGo4x4 with B step p at b + offs[p].
func kernelGo4x4i(kc int, ap, bp *float32, offp *int32, cp *float32, ldc int, alpha, beta float32) {
	a := unsafe.Slice(ap, kc*4)
	offs := unsafe.Slice(offp, kc)
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p, o := range offs {
		aa := a[p*4 : p*4+4 : p*4+4]
		bb := unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(bp), 4*int(o))), 4)
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		a0 := aa[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := aa[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := aa[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := aa[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	c := unsafe.Slice(cp, 3*ldc+4)
	store4(c[0:4:4], c00, c01, c02, c03, alpha, beta)
	store4(c[ldc:ldc+4:ldc+4], c10, c11, c12, c13, alpha, beta)
	store4(c[2*ldc:2*ldc+4:2*ldc+4], c20, c21, c22, c23, alpha, beta)
	store4(c[3*ldc:3*ldc+4:3*ldc+4], c30, c31, c32, c33, alpha, beta)
}

var goKernel = &kernel{name: "go-4x4", mr: 4, nr: 4, kc: 256, mc: 128, nc: 512, fn: kernelGo4x4, ind: kernelGo4x4i}

// transpose8x8, if not nil, is an assembly routine with the contract of
// transpose8Go; packing uses it for the transposing cases.
var transpose8x8 func(n8 int, src *float32, lds int, dst *float32, ldd int)

// transpose8Go is the Go version of transpose8x8: n8 blocks of 8×8, block b
// takes src[r*lds+8b+c] to dst[(8b+c)*ldd+r] for r, c < 8.
func transpose8Go(n8 int, src []float32, lds int, dst []float32, ldd int) {
	for b := 0; b < n8; b++ {
		for r := 0; r < 8; r++ {
			row := src[r*lds+8*b : r*lds+8*b+8]
			for c, v := range row {
				dst[(8*b+c)*ldd+r] = v
			}
		}
	}
}

// best is the fastest kernel for this CPU, chosen at start-up
// (kernel_amd64.go); every kernel usable here is in usable.
var (
	best   = goKernel
	usable = []*kernel{goKernel}
)

// Kernel names the micro-kernel that Implementation uses on this machine,
// for example "avx512-8x48", "avx2-6x16" or "go-4x4".
func Kernel() string { return best.name }

// Kernels names the micro-kernels this machine can run, the default last.
func Kernels() []string {
	var names []string
	for _, k := range usable {
		names = append(names, k.name)
	}
	return names
}

// UseKernel makes the named micro-kernel (one of Kernels) the one that
// Implementation and Panels use, with the AVX-512 extras (MulRows, the
// unpacked-A products, Gather's vector loops) on only for the AVX-512
// kernel, and returns the previous name; false if there is no such kernel
// here. It lets tests and benchmarks run the code paths of other CPUs; it
// is not safe to call while products run.
func UseKernel(name string) (string, bool) {
	for _, k := range usable {
		if k.name == name {
			prev := best.name
			best = k
			return prev, true
		}
	}
	return best.name, false
}
