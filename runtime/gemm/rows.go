package gemm

// A stridedKernel computes an 8×nr tile of C from unpacked operands: row r
// of A at a + r*lda (step p at +p), step p of B at b + p*ldb.
type stridedKernel func(kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// A stridedIndKernel is a stridedKernel whose B step p is at b + offs[p].
type stridedIndKernel func(kc int, a *float32, lda int, b *float32, offs *int32, c *float32, ldc int, alpha, beta float32)

// rowsKernels are the 8×16, 8×32 and 8×48 strided kernels (AVX-512), or
// nil where there are none; rowsIndKernels the same with B through an
// offset table.
var (
	rowsKernels    [3]stridedKernel
	rowsIndKernels [3]stridedIndKernel
)

// stripWidth returns the kernel width (16, 32 or 48) for a strip with rem
// columns left: 48 but for the last strips (64 as 32 + 32, not 48 + 16).
func stripWidth(rem int) int {
	switch {
	case rem <= 16:
		return 16
	case rem <= 32, rem > 48 && rem <= 64:
		return 32
	}
	return 48
}

// HasMulRows reports whether MulRows is available on this machine (and
// the gemm is this package's own).
func HasMulRows() bool { return rowsKernels[0] != nil && best.avx512 && Native() }

// MulRows computes C = A·B + beta·C for C m×n (row stride ldc) from
// unpacked row-major operands: A m×k (lda), B k×n (ldb). m must be a
// multiple of 8. The kernels broadcast A from eight rows read in step and
// load B in strips of 16, 32 or 48 columns, so neither operand is packed:
// it suits a product whose A rows are made just before (in L1) and used
// once, like the convolution's filter gradient, colᵀ's rows times dyᵀ. B
// must hold (k-1)*ldb + roundup(n, 16) floats (columns beyond n are read
// and their results dropped). Runs on the calling goroutine; it panics if
// HasMulRows is false.
func MulRows(m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if rowsKernels[0] == nil {
		panic("gemm: MulRows: no kernel on this machine")
	}
	if m <= 0 || n <= 0 {
		return
	}
	if k <= 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	switch {
	case m%8 != 0:
		panic("gemm: MulRows: m is not a multiple of 8")
	case lda < k || len(a) < (m-1)*lda+k:
		panic(shortA)
	case ldb < n || len(b) < (k-1)*ldb+roundUp(n, 16):
		panic(shortB)
	case ldc < n || len(c) < (m-1)*ldc+n:
		panic(shortC)
	}
	var s *scratch
	for jr := 0; jr < n; {
		rem := n - jr
		width := stripWidth(rem)
		fn := rowsKernels[width/16-1]
		for ir := 0; ir < m; ir += 8 {
			if rem >= width {
				_ = c[(ir+7)*ldc+jr+width-1]
				fn(k, &a[ir*lda], lda, &b[jr], ldb, &c[ir*ldc+jr], ldc, 1, beta)
				continue
			}
			if s == nil {
				s = best.getScratch()
			}
			fn(k, &a[ir*lda], lda, &b[jr], ldb, &s.tile[0], width, 1, 0)
			storeTile(c[ir*ldc+jr:], ldc, s.tile, width, 8, rem, 1, beta)
		}
		jr += min(width, rem)
	}
	if s != nil {
		best.putScratch(s)
	}
}

// Transpose writes the rows×cols matrix src (row stride lds) transposed
// into dst (cols×rows, row stride ldd), by 8×8 blocks in registers where
// the CPU allows.
func Transpose(rows, cols int, src []float32, lds int, dst []float32, ldd int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if lds < cols || len(src) < (rows-1)*lds+cols || ldd < rows || len(dst) < (cols-1)*ldd+rows {
		panic("gemm: Transpose: short or bad operand")
	}
	r := 0
	if transpose8x8 != nil {
		n8 := cols / 8
		for ; r+8 <= rows; r += 8 {
			transpose8x8(n8, &src[r*lds], lds, &dst[r], ldd)
		}
		for i := 0; i < r; i++ { // the columns beyond n8*8 of those rows
			for j := n8 * 8; j < cols; j++ {
				dst[j*ldd+i] = src[i*lds+j]
			}
		}
	}
	for ; r < rows; r++ {
		for j := 0; j < cols; j++ {
			dst[j*ldd+r] = src[r*lds+j]
		}
	}
}

// gathers[s] is the vector routine for stride s, or nil.
var gathers [5]func(rows, n int, dst *float32, ldd int, src *float32, lds int, idx *int32)

// gatherIdx[s] is the permutation that gathers[s] takes: two tables of 16
// (the VPERMT2PS index space) read at 0, s, 2s, ...
var gatherIdx = [5][16]int32{
	2: {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30},
	4: {0, 4, 8, 12, 16, 20, 24, 28},
}

// HasGather reports whether Gather has a vector routine for stride.
func HasGather(stride int) bool {
	return stride < len(gathers) && stride >= 0 && gathers[stride] != nil && best.avx512
}

// Gather sets dst[i] = src[i*stride] for i < len(dst): the strided copy of
// a convolution's im2col. src must hold (len(dst)-1)*stride+1 floats.
func Gather(dst, src []float32, stride int) {
	Gather2D(1, len(dst), dst, len(dst), src, len(src), stride)
}

// Gather2D sets dst[r*ldd+i] = src[r*lds+i*stride] for r < rows, i < n:
// the strided copy of several output rows of a convolution's im2col.
// Strides 2 and 4 run 16 values at a time in vector registers where the
// CPU allows (HasGather) and src has room for whole blocks (n*stride
// floats from the start of the last row); otherwise plain loops.
func Gather2D(rows, n int, dst []float32, ldd int, src []float32, lds int, stride int) {
	if rows <= 0 || n <= 0 {
		return
	}
	_ = dst[(rows-1)*ldd+n-1]
	_ = src[(rows-1)*lds+(n-1)*stride]
	if HasGather(stride) && n >= 16 {
		full := rows // rows whose whole blocks lie in src
		if (rows-1)*lds+n*stride > len(src) {
			full--
		}
		if full > 0 {
			gathers[stride](full, n, &dst[0], ldd, &src[0], lds, &gatherIdx[stride][0])
		}
		if full == rows {
			return
		}
		dst, src = dst[full*ldd:], src[full*lds:]
		rows = 1
	}
	for r := 0; r < rows; r++ {
		d, s := dst[r*ldd:r*ldd+n], src[r*lds:]
		for i := range d {
			d[i] = s[i*stride]
		}
	}
}

// HasUnpackedA reports whether MulPartA and MulIndirectPartA are available:
// the AVX-512 kernels with A read unpacked, and this package's gemm in use.
func (p Panels) HasUnpackedA() bool { return p.kern == best && HasMulRows() && p.kern.nr == 48 }

// MulPartA is MulPart with A unpacked: row-major m×k with leading
// dimension lda, read in place by the kernels (eight rows broadcast in
// step), so that operands used for one call (the convolution's weights,
// which change every training step) need no packing. B is packed as for
// MulPart. It panics unless HasUnpackedA.
func (p Panels) MulPartA(m0, m1, m, n, k int, a []float32, lda int, bp []float32, beta float32, c []float32, ldc int) {
	p.mulA(m0, m1, m, n, k, a, lda, bp, nil, beta, c, ldc)
}

// MulIndirectPartA is MulIndirectPart with A unpacked, as MulPartA.
func (p Panels) MulIndirectPartA(m0, m1, m, n, k int, a []float32, lda int, b []float32, offs []int32, beta float32, c []float32, ldc int) {
	p.mulA(m0, m1, m, n, k, a, lda, b, offs, beta, c, ldc)
}

// mulA is MulPartA (offs nil, b packed) and MulIndirectPartA.
func (p Panels) mulA(m0, m1, m, n, k int, a []float32, lda int, b []float32, offs []int32, beta float32, c []float32, ldc int) {
	if !p.HasUnpackedA() {
		panic("gemm: unpacked A: no kernel on this machine")
	}
	if !p.partArgs(m0, m1, m, n, k, beta, c, ldc) {
		return
	}
	if lda < k || len(a) < (m1-1)*lda+k {
		panic(shortA)
	}
	np := roundUp(n, 48)
	if offs == nil {
		if len(b) < p.BSize(k, n) {
			panic("gemm: MulPartA: short packed B")
		}
	} else {
		if len(offs) < k {
			panic("gemm: MulIndirectPartA: short offset table")
		}
		lo, hi := offs[0], offs[0]
		for _, o := range offs[:k] {
			lo, hi = min(lo, o), max(hi, o)
		}
		if lo < 0 || int(hi)+np > len(b) {
			panic("gemm: MulIndirectPartA: offsets outside b")
		}
	}
	s := p.kern.getScratch()
	kcb := p.KBlock(k)
	for p0 := 0; p0 < k; p0 += kcb {
		kc := min(kcb, k-p0)
		bb := beta
		if p0 > 0 {
			bb = 1
		}
		for ir := m0; ir < m1; ir += 8 {
			rows := min(8, m1-ir)
			ar, ldr := a[ir*lda+p0:], lda
			if rows < 8 {
				// the last rows, zero-padded to eight, in the packing
				// buffer (the kernels read eight rows)
				t := s.ap[:8*kc]
				clear(t)
				for r := 0; r < rows; r++ {
					copy(t[r*kc:(r+1)*kc], a[(ir+r)*lda+p0:])
				}
				ar, ldr = t, kc
			}
			for jr := 0; jr < n; {
				rem := n - jr
				width := stripWidth(rem)
				if offs == nil && rem > 48 {
					width = 48 // packed strips are 48 wide: no 32 + 32
				}
				cr := c[ir*ldc+jr:]
				direct := rows == 8 && rem >= width
				dst, ldd, kb := cr, ldc, bb
				if !direct {
					dst, ldd, kb = s.tile, width, 0
				}
				if offs == nil {
					// packed strip jr/48 of block p0, steps 48 apart
					bs := b[p0*np+jr/48*kc*48:]
					rowsKernels[width/16-1](kc, &ar[0], ldr, &bs[0], 48, &dst[0], ldd, 1, kb)
				} else {
					rowsIndKernels[width/16-1](kc, &ar[0], ldr, &b[jr], &offs[p0], &dst[0], ldd, 1, kb)
				}
				if !direct {
					storeTile(cr, ldc, s.tile, width, rows, min(width, rem), 1, bb)
				}
				jr += min(width, rem)
			}
		}
	}
	p.kern.putScratch(s)
}
