package runtime

import "github.com/cnnc-dev/cnnc/runtime/gemm"

// The column matrix and its adjoint: im2col (a block of output rows of one
// group) and its variants, each filling one row (ci, kh, kw) its own way
// (im2colRow picks: a contiguous copy for "same" stride-1 convs, a shifted
// copy of the row kw-SW, a vector gather, or a loop), im2colPacked writing
// straight into the gemm's packed B panel, im2colRing making rows eight at
// a time for the filter gradient; then col2im, which adds a column matrix
// back into an input gradient, and the strided gather and scatter loops.

// owRange returns the output columns [lo, hi) whose input column
// ow*SW + off lies inside [0, W).
func (c *Conv) owRange(off int) (lo, hi int) {
	if off < 0 {
		lo = (-off + c.SW - 1) / c.SW
	}
	if c.W-1-off < 0 {
		return 0, 0
	}
	hi = min(c.OW, (c.W-1-off)/c.SW+1)
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// shifts reports whether im2colRow fills the row of kernel column kw from
// the row of kw-SW (strided, undilated convs).
// Not where a vector gather exists for the stride: gathering every row
// from the input is then cheaper than the shifted copies.
func (c *Conv) shifts(kw int) bool {
	return c.SW > 1 && kw >= c.SW && c.DW == 1 && !gemm.HasGather(c.SW)
}

// ring is the number of im2col rows im2colPacked keeps: the row being
// filled and, for shifted rows, the SW before it.
func (c *Conv) ring() int {
	if c.shifts(c.KW - 1) {
		return c.SW + 1
	}
	return 1
}

// im2col: x is (C,H,W); col is (C/G*KH*KW, (oh1-oh0)*OW) for the channels
// [c0, c0+C/G) and the output rows [oh0, oh1). Row (ci,kh,kw), column
// (oh,ow) holds x[c0+ci, oh*SH-PH+kh*DH, ow*SW-PW+kw*DW] or 0 in the padding.
func (c *Conv) im2col(x []float32, c0, oh0, oh1 int, col []float32) {
	cg, ohw, hw := c.C/c.G, (oh1-oh0)*c.OW, c.H*c.W
	r := 0
	for ci := 0; ci < cg; ci++ {
		xc := x[(c0+ci)*hw : (c0+ci+1)*hw]
		for kh := 0; kh < c.KH; kh++ {
			for kw := 0; kw < c.KW; kw++ {
				var prev []float32
				if c.shifts(kw) {
					prev = col[(r-c.SW)*ohw : (r-c.SW+1)*ohw]
				}
				c.im2colRow(xc, col[r*ohw:(r+1)*ohw], prev, oh0, oh1, kh, kw)
				r++
			}
		}
	}
}

// im2colRow fills row (ci, kh, kw) of the column matrix for the output rows
// [oh0, oh1); xc is input channel ci (H,W), prev the row of (ci, kh, kw-SW)
// when c.shifts(kw).
func (c *Conv) im2colRow(xc, row, prev []float32, oh0, oh1, kh, kw int) {
	off := kw*c.DW - c.PW
	lo, hi := c.owRange(off)
	if lo >= hi {
		// every tap of this kernel column falls in the padding (padding
		// wider than the input): no output column reads the input
		clear(row[:(oh1-oh0)*c.OW])
		return
	}
	if c.SH == 1 && c.SW == 1 && c.OW == c.W && lo < hi {
		c.im2colRows(xc, row, oh0, oh1, kh, off, lo, hi)
		return
	}
	if prev != nil && lo < hi {
		// row (kh,kw) is row (kh,kw-SW) shifted left by one output
		// column: copies instead of a strided gather
		c.im2colShift(xc, row, prev, oh0, oh1, kh, off, lo, hi)
		return
	}
	if c.SW > 1 && gemm.HasGather(c.SW) {
		c.im2colGather(xc, row, oh0, oh1, kh, off, lo, hi)
		return
	}
	for oh := oh0; oh < oh1; oh++ {
		dst := row[(oh-oh0)*c.OW : (oh-oh0+1)*c.OW]
		ih := oh*c.SH - c.PH + kh*c.DH
		if ih < 0 || ih >= c.H {
			clear(dst)
			continue
		}
		clear(dst[:lo])
		clear(dst[hi:])
		src := xc[ih*c.W : (ih+1)*c.W]
		if c.SW == 1 {
			copy(dst[lo:hi], src[lo+off:hi+off])
		} else {
			gather(dst[lo:hi], src[lo*c.SW+off:], c.SW)
		}
	}
}

// im2colRows fills one im2col row for stride 1 and OW == W ("same"
// padding: VGG, ResNet): output rows then follow input rows at the same
// pitch, so all valid rows are one contiguous copy, after which the
// columns outside [lo, hi) (which received the neighbouring rows' edge
// pixels) are zeroed. xc is one input channel (H,W), row covers the output
// rows [oh0, oh1).
func (c *Conv) im2colRows(xc, row []float32, oh0, oh1, kh, off, lo, hi int) {
	w := c.W
	a := max(oh0, c.PH-kh*c.DH)     // first output row with a valid input row
	b := min(oh1, c.H+c.PH-kh*c.DH) // end of them
	if a >= b {
		clear(row)
		return
	}
	clear(row[:(a-oh0)*w])
	clear(row[(b-oh0)*w:])
	d0, d1 := (a-oh0)*w+lo, (b-1-oh0)*w+hi
	s0 := (a-c.PH+kh*c.DH)*w + lo + off
	copy(row[d0:d1], xc[s0:s0+d1-d0])
	if lo == 0 && hi == w {
		return
	}
	for oh := a; oh < b; oh++ {
		r := row[(oh-oh0)*w : (oh-oh0+1)*w]
		for k := range r[:lo] {
			r[k] = 0
		}
		for k := range r[hi:] {
			r[hi+k] = 0
		}
	}
}

// im2colShift fills the im2col row of (kh, kw) of a strided conv (DW = 1)
// from the row prev of (kh, kw-SW): x[ih, o*SW+off] = x[ih, (o+1)*SW+off-SW],
// so dst[o] = prev[o+1] for o in [lo, hi-1) (prev's valid columns start at
// most at lo+1 and end at least at hi), and only the last valid column is
// read from x.
func (c *Conv) im2colShift(xc, row, prev []float32, oh0, oh1, kh, off, lo, hi int) {
	for oh := oh0; oh < oh1; oh++ {
		o := (oh - oh0) * c.OW
		dst := row[o : o+c.OW]
		ih := oh*c.SH - c.PH + kh*c.DH
		if ih < 0 || ih >= c.H {
			clear(dst)
			continue
		}
		clear(dst[:lo])
		copy(dst[lo:hi-1], prev[o+lo+1:o+hi])
		dst[hi-1] = xc[ih*c.W+(hi-1)*c.SW+off]
		clear(dst[hi:])
	}
}

// im2colGather fills one im2col row of a strided conv with one
// gemm.Gather2D over the output rows whose input row is inside the image
// (the others, and the columns outside [lo, hi), are zero).
func (c *Conv) im2colGather(xc, row []float32, oh0, oh1, kh, off, lo, hi int) {
	// Output rows [a, b) read input rows inside [0, H).
	a := max(oh0, -floorDiv(kh*c.DH-c.PH, c.SH))
	b := min(oh1, floorDiv(c.H-1+c.PH-kh*c.DH, c.SH)+1)
	if a >= b || lo >= hi {
		clear(row)
		return
	}
	clear(row[:(a-oh0)*c.OW])
	clear(row[(b-oh0)*c.OW:])
	if lo > 0 || hi < c.OW {
		for oh := a; oh < b; oh++ {
			dst := row[(oh-oh0)*c.OW : (oh-oh0+1)*c.OW]
			clear(dst[:lo])
			clear(dst[hi:])
		}
	}
	ih := a*c.SH - c.PH + kh*c.DH
	gemm.Gather2D(b-a, hi-lo, row[(a-oh0)*c.OW+lo:], c.OW, xc[ih*c.W+lo*c.SW+off:], c.SH*c.W, c.SW)
}

// floorDiv is a/b rounded down (b > 0).
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// gather sets d[o] = s[o*stride] where gemm has no vector gather for the
// stride (im2colGather otherwise); strides 2 and 4 (AlexNet, ZFNet, ResNet
// downsampling) are unrolled with constant offsets so that the bounds
// checks go away.
func gather(d, s []float32, stride int) {
	o := 0
	switch stride {
	case 2:
		for ; o+4 <= len(d); o += 4 {
			b := s[2*o : 2*o+7]
			d4 := d[o : o+4 : o+4]
			d4[0], d4[1], d4[2], d4[3] = b[0], b[2], b[4], b[6]
		}
	case 4:
		for ; o+4 <= len(d); o += 4 {
			b := s[4*o : 4*o+13]
			d4 := d[o : o+4 : o+4]
			d4[0], d4[1], d4[2], d4[3] = b[0], b[4], b[8], b[12]
		}
	}
	for ; o < len(d); o++ {
		d[o] = s[o*stride]
	}
}

// im2colPacked writes the column matrix of im2col (channels [c0, c0+C/G),
// output rows [oh0, oh1)) straight into bp as a packed B operand of the
// gemm micro-kernel (gemm.Panels): each row is filled in ring (c.ring()
// rows of (oh1-oh0)*OW floats, in L1) and copied out in strips of NR.
func (c *Conv) im2colPacked(x []float32, c0, oh0, oh1 int, ring, bp []float32) {
	c.im2colPackedImages(x, 1, c0, oh0, oh1, ring, bp)
}

// im2colPackedImages is im2colPacked for k images in a row (x holds them,
// one after the other): their columns follow one another in each row.
func (c *Conv) im2colPackedImages(x []float32, k, c0, oh0, oh1 int, ring, bp []float32) {
	p := gemm.Packed()
	cg, hw, rows, nr := c.C/c.G, c.H*c.W, c.colRows(), p.NR()
	one := (oh1 - oh0) * c.OW // columns of one image
	nc := k * one
	nring := c.ring()
	r := 0
	for ci := 0; ci < cg; ci++ {
		for kh := 0; kh < c.KH; kh++ {
			for kw := 0; kw < c.KW; kw++ {
				row := ring[r%nring*nc : (r%nring+1)*nc]
				var prev []float32
				if c.shifts(kw) {
					q := (r - c.SW) % nring
					prev = ring[q*nc : (q+1)*nc]
				}
				for i := 0; i < k; i++ {
					xc := x[i*c.inSize()+(c0+ci)*hw:][:hw]
					var pr []float32
					if prev != nil {
						pr = prev[i*one : (i+1)*one]
					}
					c.im2colRow(xc, row[i*one:(i+1)*one], pr, oh0, oh1, kh, kw)
				}
				off, stride := p.BRow(rows, nc, r)
				for j := 0; j < nc; j += nr {
					d := bp[off : off+nr]
					n := copy(d, row[j:])
					clear(d[n:])
					off += stride
				}
				r++
			}
		}
	}
}

// im2colRing makes im2col rows q0 ... q0+7 (of the channels at the start of
// x) for the output rows [oh0, oh1) at ring slots q%16, nc floats each
// (zero rows beyond the matrix, but the first is all ones if ones); a
// shifted row copies the row q-SW, made in this or the previous call.
func (c *Conv) im2colRing(x, ring []float32, q0, nc, oh0, oh1 int, ones bool) {
	rows, khw, hw := c.colRows(), c.KH*c.KW, c.H*c.W
	for q := q0; q < q0+8; q++ {
		row := ring[q%16*nc : (q%16+1)*nc]
		if q == rows && ones {
			for i := range row {
				row[i] = 1
			}
			continue
		}
		if q >= rows {
			clear(row)
			continue
		}
		ci, kh, kw := q/khw, q%khw/c.KW, q%c.KW
		var prev []float32
		if c.shifts(kw) && c.SW <= 8 {
			prev = ring[(q-c.SW)%16*nc : ((q-c.SW)%16+1)*nc]
		}
		c.im2colRow(x[ci*hw:(ci+1)*hw], row, prev, oh0, oh1, kh, kw)
	}
}

// col2im: the adjoint of im2col; dx (C,H,W) += col scattered back.
func (c *Conv) col2im(col []float32, c0, oh0, oh1 int, dx []float32) {
	c.col2imStride(col, (oh1-oh0)*c.OW, c0, oh0, oh1, dx)
}

// col2imStride is col2im with ld floats between the rows of col.
func (c *Conv) col2imStride(col []float32, ld, c0, oh0, oh1 int, dx []float32) {
	cg, ohw, hw := c.C/c.G, (oh1-oh0)*c.OW, c.H*c.W
	r := 0
	for ci := 0; ci < cg; ci++ {
		xc := dx[(c0+ci)*hw : (c0+ci+1)*hw]
		for kh := 0; kh < c.KH; kh++ {
			for kw := 0; kw < c.KW; kw++ {
				row := col[r*ld : r*ld+ohw]
				r++
				off := kw*c.DW - c.PW
				lo, hi := c.owRange(off)
				if lo >= hi {
					continue
				}
				for oh := oh0; oh < oh1; oh++ {
					ih := oh*c.SH - c.PH + kh*c.DH
					if ih < 0 || ih >= c.H {
						continue
					}
					s := row[(oh-oh0)*c.OW+lo : (oh-oh0)*c.OW+hi]
					dst := xc[ih*c.W : (ih+1)*c.W]
					if c.SW == 1 {
						d := dst[lo+off : hi+off]
						d = d[:len(s)]
						for o, v := range s {
							d[o] += v
						}
					} else {
						scatterAdd(dst[lo*c.SW+off:], s, c.SW)
					}
				}
			}
		}
	}
}

// scatterAdd adds s[o] to d[o*stride], unrolled like gather.
func scatterAdd(d, s []float32, stride int) {
	o := 0
	switch stride {
	case 2:
		for ; o+4 <= len(s); o += 4 {
			b := d[2*o : 2*o+7]
			s4 := s[o : o+4 : o+4]
			b[0] += s4[0]
			b[2] += s4[1]
			b[4] += s4[2]
			b[6] += s4[3]
		}
	case 4:
		for ; o+4 <= len(s); o += 4 {
			b := d[4*o : 4*o+13]
			s4 := s[o : o+4 : o+4]
			b[0] += s4[0]
			b[4] += s4[1]
			b[8] += s4[2]
			b[12] += s4[3]
		}
	}
	for ; o < len(s); o++ {
		d[o*stride] += s[o]
	}
}
