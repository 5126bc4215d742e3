package runtime

import (
	"unsafe"

	"github.com/cnnc-dev/cnnc/runtime/gemm"
	"gonum.org/v1/gonum/blas"
)

// The forward pass: Forward, its job type (forwardJob, which also runs
// BackwardData as the transposed conv's forward when dataAsConv), the
// scratch layout and shared head of each mode (modePlain, modePacked,
// modeIndirect: see conv.go), the work items (row blocks, images per
// product, parts of output channels), and the kernels of each mode.

// Forward: x is (N,C,H,W), w is (K,C/G,KH,KW), b is (K) or nil, y is
// (N,K,OH,OW); scratch has at least ScratchSize(n) floats (fewer workers are
// used if it is smaller, but at least one image's im2col buffer is needed).
// Per image, row block and group: im2col, then y = W col (gemm.Sgemm in
// modePlain; modePacked and modeIndirect form it on the gemm's panels),
// then the bias and ReLU epilogue. A 1x1 stride-1 unpadded conv multiplies
// x directly.
func (c Conv) Forward(n int, x, w, b, y, scratch []float32) {
	c.mustValid("Forward")
	check("Conv.Forward", "x", x, n*c.inSize())
	check("Conv.Forward", "w", w, c.wSize())
	if b != nil {
		check("Conv.Forward", "b", b, c.K)
	}
	check("Conv.Forward", "y", y, n*c.outSize())
	if c.depthwise() {
		c.dwRun(dwForward, n, x, w, b, y)
		return
	}
	mode := c.mode()
	head, per := c.fwdLayout(mode, n)
	var wp []float32
	if head > 0 {
		checkMin("Conv.Forward", "scratch", scratch, head+per)
		c.prepare(mode, w, scratch[:head])
		wp, scratch = scratch[:head], scratch[head:]
	}
	c.launchForward(mode, n, x, w, wp, b, y, scratch, per, 0)
}

// forwardJob is the parallel body of a forward pass (Forward, and
// BackwardData when dataAsConv: the forward of the transposed conv, beta
// 1): item i is part i%parts of row block i/parts%nb of image i/parts/nb
// (fwdItem), or for small maps of several images.
type forwardJob struct {
	c       Conv
	mode    int // modePlain, modePacked or modeIndirect
	n       int // images
	x, w, b []float32
	wp      []float32 // the head prepare wrote (packed weights, offsets)
	y       []float32
	scratch []float32
	per     int
	beta    float32 // y = conv(x) + beta*y: 0, or 1 for BackwardData
}

var forwardJobs freeList[forwardJob]

// launchForward runs the forward items of a batch of n (fwdWork) on the
// workers, each with its share of per floats of scratch.
func (c Conv) launchForward(mode, n int, x, w, wp, b, y, scratch []float32, per int, beta float32) {
	if n == 0 {
		return
	}
	items := c.fwdWork(mode, n)
	slots := convSlots(n, items, per, scratch, n*c.MACs())
	j := forwardJobs.get()
	*j = forwardJob{c: c, mode: mode, n: n, x: x, w: w, b: b, wp: wp, y: y, scratch: scratch, per: per, beta: beta}
	parallelFor(items, slots, j)
	*j = forwardJob{}
	forwardJobs.put(j)
}

func (j *forwardJob) run(slot, i int) {
	c := &j.c
	sc := share(j.scratch, j.per, slot)
	// Item i is part i%parts of row block i/parts%nb of image
	// i/parts/nb.
	img, k, blk, pt := c.fwdItem(j.mode, j.n, i)
	if k > 1 {
		c.forwardImagesPacked(j.x, j.w, j.wp, j.b, j.y, sc, j.beta, img, k, pt)
		return
	}
	x, y := j.x[img*c.inSize():(img+1)*c.inSize()], j.y[img*c.outSize():(img+1)*c.outSize()]
	if c.is1x1() {
		c.forwardImage(x, j.w, j.b, y, sc, j.beta, pt)
	} else {
		c.forwardBlockMode(j.mode, x, j.w, j.wp, j.b, y, sc, j.beta, blk, pt)
	}
}

// fwdLayout returns the shared head (packed weights unless unpackedA; with
// modeIndirect the offset table after them) and the per-worker scratch of
// the forward pass in the given mode: an im2col block (modePlain), a
// packed B block and the im2col ring (modePacked; for small maps then the
// product of several images), or the padded input block and the output on
// the padded width of one group (modeIndirect). A 1x1 conv needs no head,
// and per worker only the packed chunk of x of direct1x1.
func (c Conv) fwdLayout(mode, n int) (head, per int) {
	if c.is1x1() {
		if c.direct1x1() {
			return 0, gemm.Packed().BSize(c.C/c.G, min(c.OH*c.OW, chunk1x1))
		}
		return 0, 0
	}
	p := gemm.Packed()
	nc := c.blockRows() * c.OW
	if mode != modePacked && mode != modeIndirect {
		return 0, c.colSize()
	}
	if !unpackedA() {
		head = c.G * p.ASize(c.K/c.G, c.colRows())
	}
	if mode == modeIndirect {
		return head + c.colRows(), c.C/c.G*c.padRows()*c.padW() + p.NR() + c.K/c.G*c.blockRows()*c.padW()
	}
	if k := c.fwdImages(mode, n); k > 1 {
		// and the product of k images, copied into y after
		nc = k * c.OH * c.OW
		return head, p.BSize(c.colRows(), nc) + c.ring()*nc + c.K/c.G*nc
	}
	return head, p.BSize(c.colRows(), nc) + c.ring()*nc
}

// padW and padRows are the width and the rows of modeIndirect's padded
// input block: output (oh, ow) of the block is at grid column
// (oh-oh0)*padW + ow, kernel tap (kh, kw) at kh*DH*padW + kw*DW from it.
func (c Conv) padW() int    { return c.W + 2*c.PW }
func (c Conv) padRows() int { return c.blockRows() + c.DH*(c.KH-1) }

// prepare writes the shared head of modePacked or modeIndirect: the
// packed weights (unless unpackedA) and, for modeIndirect, the offset
// table after them.
func (c Conv) prepare(mode int, w, head []float32) {
	if !unpackedA() {
		c.packWeights(w, head)
	}
	if mode != modeIndirect {
		return
	}
	rows := c.colRows()
	offs := c.offsets(head[len(head)-rows:])
	pw, hb, r := c.padW(), c.padRows(), 0
	for ci := 0; ci < c.C/c.G; ci++ {
		for kh := 0; kh < c.KH; kh++ {
			for kw := 0; kw < c.KW; kw++ {
				offs[r] = int32((ci*hb+kh*c.DH)*pw + kw*c.DW)
				r++
			}
		}
	}
}

// offsets views the last colRows() floats of a modeIndirect head as the
// int32 offset table of the taps (ci, kh, kw) in the padded block.
func (c Conv) offsets(tab []float32) []int32 {
	return unsafe.Slice((*int32)(unsafe.Pointer(&tab[0])), len(tab))
}

// packWeights writes w (K, C/G*KH*KW) into dst as G packed gemm A operands
// of K/G rows (gemm.Panels).
func (c Conv) packWeights(w, dst []float32) {
	p := gemm.Packed()
	kg, rows := c.K/c.G, c.colRows()
	asz := p.ASize(kg, rows)
	for g := 0; g < c.G; g++ {
		p.PackA(blas.NoTrans, kg, rows, w[g*kg*rows:], rows, dst[g*asz:])
	}
}

// fwdBlocks is the number of output-row blocks of one image's forward (1
// for a 1x1 conv, which needs no column matrix): the unit of work the
// workers share, so that a batch of one image still uses every core.
func (c Conv) fwdBlocks() int {
	if c.is1x1() {
		return 1
	}
	bh := c.blockRows()
	return (c.OH + bh - 1) / bh
}

// fwdImages returns the images one forward product takes: 1, or for small
// maps in modePacked enough to fill about four strips of NR columns.
func (c Conv) fwdImages(mode, n int) int {
	if mode != modePacked || !c.smallMap() {
		return 1
	}
	ohw := c.OH * c.OW
	return max(1, min(n, (4*gemm.Packed().NR()+ohw-1)/ohw))
}

// A part is the output channels [m0, m1) of each group that one work
// item computes.
type part struct{ m0, m1 int }

// fwdParts returns into how many parts of output channels each product of
// the forward is split: one, unless a batch of n gives fewer products
// (row blocks, or groups of images) than there are workers (a batch of one
// through the 7x7 or 14x14 layers of a ResNet), then enough to give every
// worker an item, in whole strips of the gemm's MR rows. Each part makes
// its own im2col (or padded block).
func (c Conv) fwdParts(mode, n int) int {
	if c.is1x1() && !c.direct1x1() {
		return 1 // gemm.Sgemm splits the product itself
	}
	items, w := c.fwdUnits(mode, n), Workers()
	if items >= w {
		return 1
	}
	strips := (c.K/c.G + gemm.Packed().MR() - 1) / gemm.Packed().MR()
	return max(1, min((w+items-1)/items, strips))
}

// fwdUnits returns the products of a batch of n: groups of fwdImages
// images times row blocks.
func (c Conv) fwdUnits(mode, n int) int {
	k := c.fwdImages(mode, n)
	return (n + k - 1) / k * c.fwdBlocks()
}

// fwdWork returns the forward's work items for a batch of n: products
// times parts.
func (c Conv) fwdWork(mode, n int) int { return c.fwdUnits(mode, n) * c.fwdParts(mode, n) }

// fwdItem returns forward item i of a batch of n: its first image, the
// number of images (more than one only for small maps), its row block and
// its part.
func (c Conv) fwdItem(mode, n, i int) (img, k, blk int, pt part) {
	parts := c.fwdParts(mode, n)
	k = c.fwdImages(mode, n)
	unit, p := i/parts, i%parts
	img, blk = unit/c.fwdBlocks()*k, unit%c.fwdBlocks()
	k = min(k, n-img)
	mr, kg := gemm.Packed().MR(), c.K/c.G
	strips := (kg + mr - 1) / mr
	return img, k, blk, part{min(kg, p*strips/parts*mr), min(kg, (p+1)*strips/parts*mr)}
}

// chunk1x1 is the output columns of a 1x1 conv's image packed at a time
// by direct1x1 (the gemm's NC: a packed block of B stays in L2).
const chunk1x1 = 768

// forwardImage: x is (C,H,W), y is (K,OH,OW); y = conv(x) + beta*y for the
// output channels of part pt (all of them but with direct1x1).
func (c *Conv) forwardImage(x, w, b, y, col []float32, beta float32, pt part) {
	cg, kg, rows, ohw := c.C/c.G, c.K/c.G, c.colRows(), c.OH*c.OW
	if c.direct1x1() {
		p := gemm.Packed()
		for g := 0; g < c.G; g++ {
			for j0 := 0; j0 < ohw; j0 += chunk1x1 {
				nc := min(chunk1x1, ohw-j0)
				p.PackB(blas.NoTrans, cg, nc, x[g*cg*ohw+j0:], ohw, col)
				p.MulPartA(pt.m0, pt.m1, kg, nc, cg, w[g*kg*rows:], rows, col, beta, y[g*kg*ohw+j0:], ohw)
			}
		}
		c.epilogue(b, y, 0, ohw, pt)
		return
	}
	if c.is1x1() {
		for g := 0; g < c.G; g++ {
			gemm.Sgemm(blas.NoTrans, blas.NoTrans, kg, ohw, cg, 1, w[g*kg*rows:(g+1)*kg*rows], rows,
				x[g*cg*ohw:(g+1)*cg*ohw], ohw, beta, y[g*kg*ohw:(g+1)*kg*ohw], ohw)
		}
		c.epilogue(b, y, 0, ohw, part{0, c.K / c.G})
		return
	}
	for blk := 0; blk < c.fwdBlocks(); blk++ {
		c.forwardBlock(x, w, b, y, col, beta, blk, pt)
	}
}

// forwardBlockMode computes row block blk of one image (not of a 1x1
// conv: forwardImage) in the given mode; sc is the worker's share of
// scratch (fwdLayout).
func (c *Conv) forwardBlockMode(mode int, x, w, wp, b, y, sc []float32, beta float32, blk int, pt part) {
	switch mode {
	case modePacked:
		c.forwardBlockPacked(x, w, wp, b, y, sc, beta, blk, pt)
	case modeIndirect:
		c.forwardBlockIndirect(x, w, wp, b, y, sc, beta, blk, pt)
	default:
		c.forwardBlock(x, w, b, y, sc, beta, blk, pt)
	}
}

// forwardBlock computes output rows [blk*bh, (blk+1)*bh) of one image:
// im2col of those rows, the product, the epilogue.
func (c *Conv) forwardBlock(x, w, b, y, col []float32, beta float32, blk int, pt part) {
	cg, kg, rows, ohw := c.C/c.G, c.K/c.G, c.colRows(), c.OH*c.OW
	bh := c.blockRows()
	oh0 := blk * bh
	oh1 := min(oh0+bh, c.OH)
	nc := (oh1 - oh0) * c.OW
	for g := 0; g < c.G; g++ {
		c.im2col(x, g*cg, oh0, oh1, col)
		gemm.Sgemm(blas.NoTrans, blas.NoTrans, pt.m1-pt.m0, nc, rows, 1, w[(g*kg+pt.m0)*rows:(g*kg+pt.m1)*rows], rows,
			col, nc, beta, y[(g*kg+pt.m0)*ohw+oh0*c.OW:], ohw)
	}
	c.epilogue(b, y, oh0*c.OW, oh1*c.OW, pt)
}

// forwardBlockPacked is forwardBlock with the weights read in place or
// packed (mulPacked) and the im2col written into a packed B block: sc holds the block
// (gemm.Panels.BSize) and then the im2col ring.
func (c *Conv) forwardBlockPacked(x, w, wp, b, y, sc []float32, beta float32, blk int, pt part) {
	p := gemm.Packed()
	cg, kg, rows, ohw := c.C/c.G, c.K/c.G, c.colRows(), c.OH*c.OW
	bh := c.blockRows()
	oh0 := blk * bh
	oh1 := min(oh0+bh, c.OH)
	nc := (oh1 - oh0) * c.OW
	ring := sc[p.BSize(rows, bh*c.OW):]
	for g := 0; g < c.G; g++ {
		c.im2colPacked(x, g*cg, oh0, oh1, ring, sc)
		c.mulPacked(pt, w, wp, g, nc, sc, beta, y[g*kg*ohw+oh0*c.OW:], ohw)
	}
	c.epilogue(b, y, oh0*c.OW, oh1*c.OW, pt)
}

// forwardImagesPacked is the forward (modePacked) of the k whole images
// [i0, i0+k) of the batch x in one product (small maps): sc holds the
// packed B block, the im2col ring and the product (K/G by k*OH*OW), whose
// rows are then copied into each image's y with the bias and ReLU (with
// beta != 0, y's rows are first copied in, and the micro-kernel adds).
func (c *Conv) forwardImagesPacked(x, w, wp, b, y, sc []float32, beta float32, i0, k int, pt part) {
	p := gemm.Packed()
	cg, kg, rows, ohw := c.C/c.G, c.K/c.G, c.colRows(), c.OH*c.OW
	nc := k * ohw
	bsz := p.BSize(rows, nc)
	ring := sc[bsz : bsz+c.ring()*nc]
	out := sc[bsz+len(ring) : bsz+len(ring)+kg*nc]
	x = x[i0*c.inSize() : (i0+k)*c.inSize()]
	for g := 0; g < c.G; g++ {
		c.im2colPackedImages(x, k, g*cg, 0, c.OH, ring, sc)
		if beta != 0 {
			for kk := pt.m0; kk < pt.m1; kk++ {
				for i := 0; i < k; i++ {
					copy(out[kk*nc+i*ohw:][:ohw], y[(i0+i)*c.outSize()+(g*kg+kk)*ohw:])
				}
			}
		}
		c.mulPacked(pt, w, wp, g, nc, sc, beta, out, nc)
		for kk := pt.m0; kk < pt.m1; kk++ {
			var bk float32
			if b != nil {
				bk = b[g*kg+kk]
			}
			for i := 0; i < k; i++ {
				biasReLU(y[(i0+i)*c.outSize()+(g*kg+kk)*ohw:], out[kk*nc+i*ohw:][:ohw], bk, c.ReLU)
			}
		}
	}
}

// mulPacked forms the part's rows of group g's product in modePacked: C
// (ldc) = beta*C + W·B for the packed im2col block bp with nc columns, the
// weights read in place (unpackedA) or from their packed copy in wp.
func (c *Conv) mulPacked(pt part, w, wp []float32, g, nc int, bp []float32, beta float32, out []float32, ldc int) {
	p := gemm.Packed()
	kg, rows := c.K/c.G, c.colRows()
	if unpackedA() {
		p.MulPartA(pt.m0, pt.m1, kg, nc, rows, w[g*kg*rows:], rows, bp, beta, out, ldc)
		return
	}
	p.MulPart(pt.m0, pt.m1, kg, nc, rows, wp[g*p.ASize(kg, rows):], bp, beta, out, ldc)
}

// forwardBlockIndirect is forwardBlock in modeIndirect: wp is the head that
// prepare wrote (the offset table at its end), sc holds the padded input block and the output block on
// the padded width (padW) of one group.
func (c *Conv) forwardBlockIndirect(x, w, wp, b, y, sc []float32, beta float32, blk int, pt part) {
	p := gemm.Packed()
	cg, kg, rows, ohw, hw := c.C/c.G, c.K/c.G, c.colRows(), c.OH*c.OW, c.H*c.W
	bh, pw, hb := c.blockRows(), c.padW(), c.padRows()
	oh0 := blk * bh
	oh1 := min(oh0+bh, c.OH)
	nb := oh1 - oh0
	nc := (nb-1)*pw + c.OW // grid columns of the outputs
	asz := p.ASize(kg, rows)
	offs := c.offsets(wp[len(wp)-rows:])
	xsz := cg*hb*pw + p.NR()
	xb, out := sc[:xsz], sc[xsz:xsz+kg*bh*pw]
	clear(xb[cg*hb*pw:])       // read by the micro-kernel, results dropped
	used := nb + c.DH*(c.KH-1) // padded rows the block reads
	for g := 0; g < c.G; g++ {
		// Padded input rows oh0-PH ... of the group's channels.
		for ci := 0; ci < cg; ci++ {
			xc := x[(g*cg+ci)*hw : (g*cg+ci+1)*hw]
			for r := 0; r < used; r++ {
				dst := xb[(ci*hb+r)*pw : (ci*hb+r+1)*pw]
				ih := oh0 - c.PH + r
				if ih < 0 || ih >= c.H {
					clear(dst)
					continue
				}
				clear(dst[:c.PW])
				copy(dst[c.PW:c.PW+c.W], xc[ih*c.W:])
				clear(dst[c.PW+c.W:])
			}
		}
		if beta != 0 {
			// The micro-kernel forms beta*y + W·col (vectorised): y's
			// rows go into the padded-width block first.
			for k := pt.m0; k < pt.m1; k++ {
				for oh := oh0; oh < oh1; oh++ {
					copy(out[k*nb*pw+(oh-oh0)*pw:][:c.OW], y[(g*kg+k)*ohw+oh*c.OW:])
				}
			}
		}
		if unpackedA() {
			p.MulIndirectPartA(pt.m0, pt.m1, kg, nc, rows, w[g*kg*rows:], rows, xb, offs, beta, out, nb*pw)
		} else {
			p.MulIndirectPart(pt.m0, pt.m1, kg, nc, rows, wp[g*asz:], xb, offs, beta, out, nb*pw)
		}
		// y = out (+ bias, ReLU), dropping the padding columns.
		for k := pt.m0; k < pt.m1; k++ {
			var bk float32
			if b != nil {
				bk = b[g*kg+k]
			}
			for oh := oh0; oh < oh1; oh++ {
				biasReLU(y[(g*kg+k)*ohw+oh*c.OW:], out[k*nb*pw+(oh-oh0)*pw:][:c.OW], bk, c.ReLU)
			}
		}
	}
}

// epilogue adds the bias and applies the ReLU to columns [j0, j1) of y
// (K, OH*OW).
func (c *Conv) epilogue(b, y []float32, j0, j1 int, pt part) {
	if b == nil && !c.ReLU {
		return
	}
	ohw, kg := c.OH*c.OW, c.K/c.G
	for g := 0; g < c.G; g++ {
		for k := g*kg + pt.m0; k < g*kg+pt.m1; k++ {
			row := y[k*ohw+j0 : k*ohw+j1]
			var bk float32
			if b != nil {
				bk = b[k]
			}
			biasReLU(row, row, bk, c.ReLU)
		}
	}
}

// biasReLU sets dst = src + bk, then the ReLU if relu (dst may be src); a
// NaN stays NaN.
func biasReLU(dst, src []float32, bk float32, relu bool) {
	dst = dst[:len(src)]
	if !relu && bk == 0 {
		copy(dst, src)
		return
	}
	i := 0
	if hasAVX2 && len(src) >= 8 {
		i = len(src) / 8 * 8
		biasReLUAVX2(&dst[0], &src[0], i, bk, relu)
	}
	if relu {
		for ; i < len(src); i++ {
			dst[i] = max(src[i]+bk, 0)
		}
		return
	}
	for ; i < len(src); i++ {
		dst[i] = src[i] + bk
	}
}
