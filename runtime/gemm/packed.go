package gemm

import "gonum.org/v1/gonum/blas"

// Panels exposes the packed operand layouts of the micro-kernel in use, for
// callers that pack the operands themselves: the convolution writes its
// im2col straight into a packed B panel, instead of an im2col matrix that
// Sgemm would copy again (and packs its weights once per call where the
// kernels cannot read them in place, MulPartA).
//
// Both operands are cut along the inner dimension k into blocks of
// KBlock(k) steps (the last may be shorter). A packed m×k op(A) holds, for
// each block starting at step p0 of depth kc, at offset p0·roundup(m, MR),
// strips of MR rows: strip s (rows s·MR...) is kc steps of MR values, zero
// beyond row m. A packed k×n op(B) holds, for each block, at offset
// p0·roundup(n, NR), strips of NR columns: kc steps of NR values, zero
// beyond column n (BRow gives the offsets).
type Panels struct{ kern *kernel }

// Packed returns the layouts of the kernel that Implementation uses.
func Packed() Panels { return Panels{best} }

// Native reports whether Sgemm runs this package's Implementation (and not
// an implementation chosen with Use): callers that use Panels directly
// fall back to Sgemm otherwise, so that Use still reaches every product.
func Native() bool {
	_, ok := impl.(Implementation)
	return ok
}

// MR and NR are the rows of an A strip and the columns of a B strip.
func (p Panels) MR() int { return p.kern.mr }
func (p Panels) NR() int { return p.kern.nr }

// KBlock returns the depth of the k blocks of a product with inner
// dimension k.
func (p Panels) KBlock(k int) int { return blocks(k, p.kern.kc, 1) }

func roundUp(n, unit int) int { return (n + unit - 1) / unit * unit }

// ASize and BSize return the floats of a packed m×k op(A) and k×n op(B).
func (p Panels) ASize(m, k int) int { return roundUp(m, p.kern.mr) * k }
func (p Panels) BSize(k, n int) int { return roundUp(n, p.kern.nr) * k }

// BRow returns where row q of a packed k×n op(B) lies: element (q, j) is at
// off + (j/NR)*stride + j%NR.
func (p Panels) BRow(k, n, q int) (off, stride int) {
	kcb := p.KBlock(k)
	p0 := q / kcb * kcb
	kc := min(kcb, k-p0)
	nr := p.kern.nr
	return p0*roundUp(n, nr) + (q-p0)*nr, kc * nr
}

// PackA writes op(A) (m×k, A with leading dimension lda) into dst
// (ASize(m, k) floats) in the packed layout.
func (p Panels) PackA(tA blas.Transpose, m, k int, a []float32, lda int, dst []float32) {
	if len(dst) < p.ASize(m, k) {
		panic("gemm: PackA: short dst")
	}
	pr := problem{kern: p.kern, aT: tA != blas.NoTrans, m: m, k: k, a: a, lda: lda}
	mp, kcb := roundUp(m, p.kern.mr), p.KBlock(k)
	for p0 := 0; p0 < k; p0 += kcb {
		pr.packA(dst[p0*mp:], 0, m, p0, min(kcb, k-p0))
	}
}

// PackB writes op(B) (k×n, B with leading dimension ldb) into dst
// (BSize(k, n) floats) in the packed layout.
func (p Panels) PackB(tB blas.Transpose, k, n int, b []float32, ldb int, dst []float32) {
	if len(dst) < p.BSize(k, n) {
		panic("gemm: PackB: short dst")
	}
	pr := problem{kern: p.kern, bT: tB != blas.NoTrans, n: n, k: k, b: b, ldb: ldb}
	np, kcb := roundUp(n, p.kern.nr), p.KBlock(k)
	for p0 := 0; p0 < k; p0 += kcb {
		pr.packB(dst[p0*np:], p0, min(kcb, k-p0), 0, n)
	}
}

// Mul computes C = A·B + beta·C for C m×n (row stride ldc) from a packed
// m×k A and a packed k×n B, on the calling goroutine (the caller splits
// the work). With beta == 0, C is not read.
func (p Panels) Mul(m, n, k int, ap, bp []float32, beta float32, c []float32, ldc int) {
	p.MulPart(0, m, m, n, k, ap, bp, beta, c, ldc)
}

// MulPart is Mul for the rows [m0, m1) of C only (c is still the whole C,
// row 0 first): callers split a product with few columns among workers by
// rows. m0 must be a multiple of MR.
func (p Panels) MulPart(m0, m1, m, n, k int, ap, bp []float32, beta float32, c []float32, ldc int) {
	kn := p.kern
	if !p.partArgs(m0, m1, m, n, k, beta, c, ldc) {
		return
	}
	if len(ap) < p.ASize(m, k) {
		panic("gemm: short packed A")
	}
	if len(bp) < p.BSize(k, n) {
		panic("gemm: Mul: short packed operand")
	}
	mp, np, kcb := roundUp(m, kn.mr), roundUp(n, kn.nr), p.KBlock(k)
	s := kn.getScratch()
	for p0 := 0; p0 < k; p0 += kcb {
		b := beta
		if p0 > 0 {
			b = 1
		}
		kc := min(kcb, k-p0)
		tiles(kn, ap[p0*mp+m0*kc:], bp[p0*np:], s.tile, c[m0*ldc:], ldc, m1-m0, n, kc, 1, b)
	}
	kn.putScratch(s)
}

// partArgs checks the rows and C of MulPart, MulIndirectPart and their
// unpacked-A forms and reports whether there is a product to form (with k
// == 0 it scales C); the callers check their A.
func (p Panels) partArgs(m0, m1, m, n, k int, beta float32, c []float32, ldc int) bool {
	if m0%p.kern.mr != 0 || m0 < 0 || m1 > m || m0 > m1 {
		panic("gemm: bad rows for a part")
	}
	if m0 == m1 || n <= 0 {
		return false
	}
	if ldc < n || len(c) < (m1-1)*ldc+n {
		panic(shortC)
	}
	if k <= 0 {
		scaleC(m1-m0, n, beta, c[m0*ldc:], ldc)
		return false
	}
	return true
}

// MulIndirect computes C = A·B + beta·C for C m×n (row stride ldc) from a
// packed m×k A and a B given by row offsets: B[p][j] = b[offs[p]+j]. Rows
// of B may overlap and lie anywhere in b, so a stride-1 convolution's
// im2col matrix is read from the (padded) image itself, with one offset per
// kernel tap. The micro-kernels read whole strips of NR columns: b must
// hold max(offs) + roundup(n, NR) floats (the columns beyond n are read and
// their results dropped). Runs on the calling goroutine.
func (p Panels) MulIndirect(m, n, k int, ap, b []float32, offs []int32, beta float32, c []float32, ldc int) {
	p.MulIndirectPart(0, m, m, n, k, ap, b, offs, beta, c, ldc)
}

// MulIndirectPart is MulIndirect for the rows [m0, m1) of C only, like
// MulPart.
func (p Panels) MulIndirectPart(m0, m1, m, n, k int, ap, b []float32, offs []int32, beta float32, c []float32, ldc int) {
	kn := p.kern
	if !p.partArgs(m0, m1, m, n, k, beta, c, ldc) {
		return
	}
	if len(ap) < p.ASize(m, k) {
		panic("gemm: short packed A")
	}
	if len(offs) < k {
		panic("gemm: MulIndirect: short offset table")
	}
	lo, hi := offs[0], offs[0]
	for _, o := range offs[:k] {
		lo, hi = min(lo, o), max(hi, o)
	}
	if lo < 0 || int(hi)+roundUp(n, kn.nr) > len(b) {
		panic("gemm: MulIndirect: offsets outside b")
	}
	mp, kcb := roundUp(m, kn.mr), p.KBlock(k)
	s := kn.getScratch()
	for p0 := 0; p0 < k; p0 += kcb {
		bb := beta
		if p0 > 0 {
			bb = 1
		}
		kc := min(kcb, k-p0)
		tilesIndirect(kn, ap[p0*mp+m0*kc:], b, offs[p0:], s.tile, c[m0*ldc:], ldc, m1-m0, n, kc, bb)
	}
	kn.putScratch(s)
}

// tilesIndirect is tiles with B read through offs (kc of them).
func tilesIndirect(kn *kernel, ap, b []float32, offs []int32, tile, c []float32, ldc, mc, nc, kc int, beta float32) {
	mr, nr := kn.mr, kn.nr
	for ir := 0; ir < mc; ir += mr {
		ap := ap[ir*kc:]
		mrem := min(mr, mc-ir)
		for jr := 0; jr < nc; jr += nr {
			nrem := min(nr, nc-jr)
			off := ir*ldc + jr
			fn, width := kn.ind, nr
			if nrem < nr {
				for _, e := range kn.indEdge {
					if nrem <= e.cols {
						fn, width = e.fn, e.cols
						break
					}
				}
			}
			if mrem == mr && nrem == width {
				_ = c[off+(mr-1)*ldc+width-1]
				fn(kc, &ap[0], &b[jr], &offs[0], &c[off], ldc, 1, beta)
				continue
			}
			fn(kc, &ap[0], &b[jr], &offs[0], &tile[0], nr, 1, 0)
			storeTile(c[off:], ldc, tile, nr, mrem, nrem, 1, beta)
		}
	}
}

// PackBCols writes columns q0 ... q0+7 of a packed k×n op(B) (dst, in the
// layout of BRow) from eight rows of k floats, src[i*lds:] being column
// q0+i: the transposing pack of a Bᵀ whose rows arrive eight at a time
// (the convolution's filter gradient, whose im2col rows are made in a
// small buffer). q0 is a multiple of 8 below n; columns at or beyond n
// must be zero rows in src (they fill the padding of the last strip).
func (p Panels) PackBCols(k, n, q0 int, src []float32, lds int, dst []float32) {
	nr := p.kern.nr
	if q0%8 != 0 || q0 < 0 || q0 >= n || len(src) < 7*lds+k {
		panic("gemm: PackBCols: bad columns")
	}
	np, kcb := roundUp(n, nr), p.KBlock(k)
	for p0 := 0; p0 < k; p0 += kcb {
		kc := min(kcb, k-p0)
		if nr%8 != 0 {
			for i := 0; i < 8 && q0+i < np; i++ {
				j := q0 + i
				d := dst[p0*np+j/nr*kc*nr+j%nr:]
				for q := 0; q < kc; q++ {
					d[q*nr] = src[i*lds+p0+q]
				}
			}
			continue
		}
		d := dst[p0*np+q0/nr*kc*nr+q0%nr:]
		_ = d[(kc-1)*nr+7]
		q := 0
		if transpose8x8 != nil && nr%8 == 0 && kc >= 8 {
			n8 := kc / 8
			_ = src[7*lds+p0+kc-1]
			transpose8x8(n8, &src[p0], lds, &d[0], nr)
			q = n8 * 8
		}
		for ; q < kc; q++ {
			for i := 0; i < 8; i++ {
				d[q*nr+i] = src[i*lds+p0+q]
			}
		}
	}
}

// PackBAt writes columns [j0, j0+cols) of a packed k×n op(B) (dst, in the
// layout of BRow) from src, k rows of cols floats lds apart: B put
// together from pieces, such as the output gradients of several images
// side by side. The piece that ends at n also zeroes the padding of the
// last strip.
func (p Panels) PackBAt(k, n, j0, cols int, src []float32, lds int, dst []float32) {
	if j0 < 0 || cols < 0 || j0+cols > n || (k > 0 && cols > 0 && len(src) < (k-1)*lds+cols) {
		panic("gemm: PackBAt: bad columns")
	}
	nr := p.kern.nr
	np := roundUp(n, nr)
	for q := 0; q < k; q++ {
		off, stride := p.BRow(k, n, q)
		row := src[q*lds : q*lds+cols]
		for j := j0; j < j0+cols; {
			run := min(nr-j%nr, j0+cols-j) // to the end of the strip
			copy(dst[off+j/nr*stride+j%nr:][:run], row[j-j0:])
			j += run
		}
		if j0+cols == n {
			for j := n; j < np; j++ {
				dst[off+j/nr*stride+j%nr] = 0
			}
		}
	}
}
