package gemm

import (
	"gonum.org/v1/gonum/blas"
)

// Panic messages, identical to gonum's.
const (
	badTranspose = "blas: illegal transpose"
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
)

// Implementation is cnnc's Sgemm: packed, cache-blocked, with an assembly
// micro-kernel where the CPU has one (see Kernel) and a worker pool for large
// products (see SetThreads). It is safe for concurrent use.
type Implementation struct{}

// Sgemm computes C = alpha * op(A) * op(B) + beta * C for row-major
// matrices, op(A) m×k, op(B) k×n, C m×n. It panics on bad arguments exactly
// where gonum's Sgemm does. When beta == 0, C is not read; when alpha == 0
// or k == 0, A and B are not read (C = beta*C, as in the reference BLAS).
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(best, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// problem is one call's arguments, resolved.
type problem struct {
	kern        *kernel
	aT, bT      bool
	m, n, k     int
	alpha, beta float32
	a           []float32
	lda         int
	b           []float32
	ldb         int
	c           []float32
	ldc         int
}

func sgemm(kern *kernel, tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	switch tA {
	default:
		panic(badTranspose)
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	}
	switch tB {
	default:
		panic(badTranspose)
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	}
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
	aT := tA != blas.NoTrans
	bT := tB != blas.NoTrans
	if aT {
		if lda < max(1, m) {
			panic(badLdA)
		}
	} else if lda < max(1, k) {
		panic(badLdA)
	}
	if bT {
		if ldb < max(1, k) {
			panic(badLdB)
		}
	} else if ldb < max(1, n) {
		panic(badLdB)
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return
	}
	if aT {
		if len(a) < (k-1)*lda+m {
			panic(shortA)
		}
	} else if len(a) < (m-1)*lda+k {
		panic(shortA)
	}
	if bT {
		if len(b) < (n-1)*ldb+k {
			panic(shortB)
		}
	} else if len(b) < (k-1)*ldb+n {
		panic(shortB)
	}
	if len(c) < (m-1)*ldc+n {
		panic(shortC)
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	p := problem{kern: kern, aT: aT, bT: bT, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc}
	if parallel(&p) {
		return
	}
	s := kern.getScratch()
	p.block(s, 0, m, 0, n)
	kern.putScratch(s)
}

// scaleC sets C = beta*C (C = 0 when beta == 0, without reading C).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// blocks splits length into about equal blocks of at most max, each a
// multiple of unit (but the last); it returns the block size.
func blocks(length, maxb, unit int) int {
	nb := (length + maxb - 1) / maxb
	size := (length + nb - 1) / nb
	return (size + unit - 1) / unit * unit
}

// block computes rows r0..r1 and columns c0..c1 of C with scratch s: the
// five loops of GotoBLAS around the micro-kernel.
func (p *problem) block(s *scratch, r0, r1, c0, c1 int) {
	kn := p.kern
	mcb := blocks(r1-r0, kn.mc, kn.mr)
	ncb := blocks(c1-c0, kn.nc, kn.nr)
	kcb := blocks(p.k, kn.kc, 1)
	for i0 := r0; i0 < r1; i0 += mcb {
		mc := min(mcb, r1-i0)
		for p0 := 0; p0 < p.k; p0 += kcb {
			kc := min(kcb, p.k-p0)
			beta := p.beta
			if p0 > 0 {
				beta = 1
			}
			p.packA(s.ap, i0, mc, p0, kc)
			for j0 := c0; j0 < c1; j0 += ncb {
				nc := min(ncb, c1-j0)
				p.packB(s.bp, p0, kc, j0, nc)
				p.macro(s, i0, mc, j0, nc, kc, beta)
			}
		}
	}
}

// macro runs the micro-kernel over an mc×nc block of C from packed panels.
func (p *problem) macro(s *scratch, i0, mc, j0, nc, kc int, beta float32) {
	tiles(p.kern, s.ap, s.bp, s.tile, p.c[i0*p.ldc+j0:], p.ldc, mc, nc, kc, p.alpha, beta)
}

// tiles computes the mc×nc block c (row stride ldc) = alpha·A·B + beta·c
// from an A block packed in strips of mr rows (kc×mr each) and a B block
// packed in strips of nr columns (kc×nr each); tile is an mr×nr buffer for
// partial tiles that no kernel fits.
func tiles(kn *kernel, ap, bp, tile, c []float32, ldc, mc, nc, kc int, alpha, beta float32) {
	mr, nr := kn.mr, kn.nr
	for ir := 0; ir < mc; ir += mr {
		ap := ap[ir*kc:]
		mrem := min(mr, mc-ir)
		for jr := 0; jr < nc; jr += nr {
			bp := bp[jr*kc:]
			nrem := min(nr, nc-jr)
			off := ir*ldc + jr
			if mrem == mr && nrem == nr {
				_ = c[off+(mr-1)*ldc+nr-1]
				kn.fn(kc, &ap[0], &bp[0], nr, &c[off], ldc, alpha, beta)
				continue
			}
			fn, width := kn.fn, nr
			for _, e := range kn.edge {
				if nrem <= e.cols {
					fn, width = e.fn, e.cols
					break
				}
			}
			if mrem == mr && nrem == width {
				_ = c[off+(mr-1)*ldc+width-1]
				fn(kc, &ap[0], &bp[0], nr, &c[off], ldc, alpha, beta)
				continue
			}
			fn(kc, &ap[0], &bp[0], nr, &tile[0], nr, 1, 0)
			storeTile(c[off:], ldc, tile, nr, mrem, nrem, alpha, beta)
		}
	}
}

// storeTile writes the rows×cols corner of the tile t (row stride ldt) into
// c: c = alpha*t + beta*c (c not read when beta == 0).
func storeTile(c []float32, ldc int, t []float32, ldt, rows, cols int, alpha, beta float32) {
	for r := 0; r < rows; r++ {
		cr := c[r*ldc : r*ldc+cols]
		tr := t[r*ldt : r*ldt+cols]
		switch {
		case beta == 0 && alpha == 1:
			copy(cr, tr)
		case beta == 0:
			for j, v := range tr {
				cr[j] = alpha * v
			}
		default:
			for j, v := range tr {
				cr[j] = alpha*v + beta*cr[j]
			}
		}
	}
}

// packA copies op(A)[i0:i0+mc, p0:p0+kc] into dst as strips of mr rows:
// strip s holds kc steps of mr values (zero beyond row mc).
func (p *problem) packA(dst []float32, i0, mc, p0, kc int) {
	mr := p.kern.mr
	a, lda := p.a, p.lda
	for ir := 0; ir < mc; ir += mr {
		d := dst[ir*kc : ir*kc+kc*mr]
		rows := min(mr, mc-ir)
		if p.aT {
			// op(A)[i][p] = a[p*lda+i]: each k step is contiguous.
			for q := 0; q < kc; q++ {
				src := a[(p0+q)*lda+i0+ir:]
				copy(d[q*mr:q*mr+rows], src[:rows])
				clear(d[q*mr+rows : q*mr+mr])
			}
			continue
		}
		if rows == 8 && mr == 8 && transpose8x8 != nil && kc >= 8 {
			src := a[(i0+ir)*lda+p0:]
			n8 := kc / 8
			_ = src[7*lda+kc-1] // the rows read
			transpose8x8(n8, &src[0], lda, &d[0], 8)
			for q := n8 * 8; q < kc; q++ {
				for r := 0; r < 8; r++ {
					d[q*8+r] = src[r*lda+q]
				}
			}
			continue
		}
		if rows == 8 && mr == 8 {
			// Eight row streams read in step, 32 contiguous bytes written.
			r0 := a[(i0+ir)*lda+p0:][:kc]
			r1 := a[(i0+ir+1)*lda+p0:][:kc]
			r2 := a[(i0+ir+2)*lda+p0:][:kc]
			r3 := a[(i0+ir+3)*lda+p0:][:kc]
			r4 := a[(i0+ir+4)*lda+p0:][:kc]
			r5 := a[(i0+ir+5)*lda+p0:][:kc]
			r6 := a[(i0+ir+6)*lda+p0:][:kc]
			r7 := a[(i0+ir+7)*lda+p0:][:kc]
			for q := range r0 {
				o := d[q*8 : q*8+8 : q*8+8]
				o[0], o[1], o[2], o[3] = r0[q], r1[q], r2[q], r3[q]
				o[4], o[5], o[6], o[7] = r4[q], r5[q], r6[q], r7[q]
			}
			continue
		}
		// Blocks of 16 k steps keep the written part of d in L1.
		for q0 := 0; q0 < kc; q0 += 16 {
			q1 := min(q0+16, kc)
			for r := 0; r < rows; r++ {
				src := a[(i0+ir+r)*lda+p0+q0:][:q1-q0]
				for q, v := range src {
					d[(q0+q)*mr+r] = v
				}
			}
			for r := rows; r < mr; r++ {
				for q := q0; q < q1; q++ {
					d[q*mr+r] = 0
				}
			}
		}
	}
}

// packB copies op(B)[p0:p0+kc, j0:j0+nc] into dst as strips of nr columns:
// strip s holds kc steps of nr values (zero beyond column nc).
func (p *problem) packB(dst []float32, p0, kc, j0, nc int) {
	nr := p.kern.nr
	b, ldb := p.b, p.ldb
	if !p.bT && nr == 48 {
		// Row by row: B is read sequentially, one 192-byte copy per strip.
		full := nc / 48
		for q := 0; q < kc; q++ {
			src := b[(p0+q)*ldb+j0:]
			src = src[:nc]
			for t := 0; t < full; t++ {
				*(*[48]float32)(dst[t*kc*48+q*48:]) = *(*[48]float32)(src[t*48:])
			}
		}
		if full*48 < nc {
			jr := full * 48
			cols := nc - jr
			d := dst[jr*kc : jr*kc+kc*nr]
			for q := 0; q < kc; q++ {
				copy(d[q*nr:q*nr+cols], b[(p0+q)*ldb+j0+jr:][:cols])
				clear(d[q*nr+cols : q*nr+nr])
			}
		}
		return
	}
	for jr := 0; jr < nc; jr += nr {
		d := dst[jr*kc : jr*kc+kc*nr]
		cols := min(nr, nc-jr)
		if !p.bT {
			for q := 0; q < kc; q++ {
				src := b[(p0+q)*ldb+j0+jr:]
				copy(d[q*nr:q*nr+cols], src[:cols])
				if cols < nr {
					clear(d[q*nr+cols : q*nr+nr])
				}
			}
			continue
		}
		// op(B)[q][j] = b[j*ldb+q]. Groups of 8 columns by 8×8 transposes
		// where available.
		j8 := 0
		if transpose8x8 != nil && kc >= 8 {
			n8 := kc / 8
			for ; j8+8 <= cols; j8 += 8 {
				src := b[(j0+jr+j8)*ldb+p0:]
				_ = src[7*ldb+kc-1]
				_ = d[(kc-1)*nr+j8+7]
				transpose8x8(n8, &src[0], ldb, &d[j8], nr)
				for q := n8 * 8; q < kc; q++ {
					for j := 0; j < 8; j++ {
						d[q*nr+j8+j] = src[j*ldb+q]
					}
				}
			}
		}
		// The rest: blocks of 16 k steps keep the written part of d in L1.
		for q0 := 0; q0 < kc; q0 += 16 {
			q1 := min(q0+16, kc)
			for j := j8; j < cols; j++ {
				src := b[(j0+jr+j)*ldb+p0+q0:][:q1-q0]
				for q, v := range src {
					d[(q0+q)*nr+j] = v
				}
			}
			for j := cols; j < nr; j++ {
				for q := q0; q < q1; q++ {
					d[q*nr+j] = 0
				}
			}
		}
	}
}
