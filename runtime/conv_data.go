package runtime

import (
	"github.com/cnnc-dev/cnnc/runtime/gemm"
	"gonum.org/v1/gonum/blas"
)

// The input gradient: BackwardData, in one of two ways. Stride-1 convs
// with enough channels per group (dataAsConv) run the forward of the
// transposed conv (transposed) with the flipped weights (flipWeights),
// through launchForward and forwardJob (conv_forward.go). The others form
// dcol = Wᵀ dy per image (or several images for small maps) and group and
// add it into dx with col2im (conv_im2col.go), each item a dataJob.

// BackwardData: dy is (N,K,OH,OW), w is (K,C/G,KH,KW), dx is (N,C,H,W).
// dx += conv_transpose(dy, w). Stride 1 (dataAsConv): the forward
// convolution of dy with the flipped weights (written into the head of
// scratch, then read in place or packed there), accumulated into dx.
// Otherwise, per image and group, dcol = W^T dy (gemm), then col2im adds
// dcol into dx.
func (c Conv) BackwardData(n int, dy, w, dx, scratch []float32) {
	c.mustValid("BackwardData")
	check("Conv.BackwardData", "dy", dy, n*c.outSize())
	check("Conv.BackwardData", "w", w, c.wSize())
	check("Conv.BackwardData", "dx", dx, n*c.inSize())
	if c.depthwise() {
		c.dwRun(dwData, n, dy, w, nil, dx)
		return
	}
	if t := c.transposed(); c.dataAsConv() && t.Winograd() && t.winoUse(n) {
		// The transposed conv's forward by Winograd's algorithm, on the
		// flipped weights' transform, accumulating into dx.
		ws, us := c.wSize(), t.WinogradSize()
		checkMin("Conv.BackwardData", "scratch", scratch, ws+us)
		c.flipWeights(w, scratch[:ws])
		t.WinogradWeights(scratch[:ws], scratch[ws:ws+us])
		t.winoRun(n, dy, scratch[ws:ws+us], nil, dx, scratch[ws+us:], true)
		return
	}
	mode := c.dataMode()
	head, per := c.dataLayout(mode, n)
	var wp []float32
	if head > 0 {
		checkMin("Conv.BackwardData", "scratch", scratch, head+per)
		if c.dataAsConv() {
			ws := c.wSize()
			c.flipWeights(w, scratch[:ws])
			w = scratch[:ws]
			if mode != modePlain {
				c.transposed().prepare(mode, w, scratch[ws:head])
				wp = scratch[ws:head]
			}
		} else {
			c.packWeightsT(w, scratch[:head])
			wp = scratch[:head]
		}
		scratch = scratch[head:]
	}
	if c.dataAsConv() {
		// The items of the transposed conv's forward, accumulating
		// into dx.
		c.transposed().launchForward(mode, n, dy, w, wp, nil, dx, scratch, per, 1)
		return
	}
	c.launchData(mode, n, dy, w, wp, dx, scratch, per)
}

// dataJob is the parallel body of a gemm + col2im BackwardData: item i is
// image i, or with k > 1 (dataImagesPer) the images i*k ... (the last item
// may have fewer).
type dataJob struct {
	c       Conv
	n, k    int // images, and images per item
	dy, w   []float32
	wp      []float32 // Wᵀ packed (packWeightsT) in modePacked
	dx      []float32
	scratch []float32
	per     int
}

var dataJobs freeList[dataJob]

// launchData runs the items of a gemm + col2im BackwardData of a batch of
// n on the workers, each with its share of per floats of scratch.
func (c Conv) launchData(mode, n int, dy, w, wp, dx, scratch []float32, per int) {
	if n == 0 {
		return
	}
	k := c.dataImagesPer(mode, n)
	items := (n + k - 1) / k
	slots := convSlots(n, items, per, scratch, n*c.MACs())
	j := dataJobs.get()
	*j = dataJob{c: c, n: n, k: k, dy: dy, w: w, wp: wp, dx: dx, scratch: scratch, per: per}
	parallelFor(items, slots, j)
	*j = dataJob{}
	dataJobs.put(j)
}

func (j *dataJob) run(slot, i int) {
	c := &j.c
	sc := share(j.scratch, j.per, slot)
	if j.k > 1 {
		// Item i is images i*k ... (the last item may have fewer).
		c.dataImages(j.dy, j.wp, j.dx, sc, i*j.k, min(j.k, j.n-i*j.k))
		return
	}
	c.dataImage(j.dy[i*c.outSize():(i+1)*c.outSize()], j.w, j.wp, j.dx[i*c.inSize():(i+1)*c.inSize()], sc)
}

// dataLayout returns the shared head (dataAsConv: the flipped weights, and
// then the transposed conv's forward head; modePacked: Wᵀ packed) and the
// per-worker scratch of BackwardData.
func (c Conv) dataLayout(mode, n int) (head, per int) {
	if c.dataAsConv() {
		h, per := c.transposed().fwdLayout(mode, n)
		return c.wSize() + h, per
	}
	if mode == modePacked {
		// Wᵀ packed once per call (Sgemm would pack it for every image
		// and block), and per worker a dcol block and a packed dy block
		// (of k images for small maps)
		p := gemm.Packed()
		nc := c.blockRows() * c.OW
		if k := c.dataImagesPer(mode, n); k > 1 {
			nc = k * c.OH * c.OW
			return c.G * p.ASize(c.colRows(), c.K/c.G), c.colRows()*nc + p.BSize(c.K/c.G, nc)
		}
		return c.G * p.ASize(c.colRows(), c.K/c.G), c.colSize() + p.BSize(c.K/c.G, nc)
	}
	return 0, c.colSize()
}

// transposed returns the geometry whose forward pass maps dy to dx when
// dataAsConv: K input channels of OH x OW, C outputs of H x W, padding
// D*(K-1)-P.
func (c Conv) transposed() Conv {
	return Conv{C: c.K, H: c.OH, W: c.OW, K: c.C, KH: c.KH, KW: c.KW, SH: 1, SW: 1,
		PH: c.DH*(c.KH-1) - c.PH, PW: c.DW*(c.KW-1) - c.PW, DH: c.DH, DW: c.DW, G: c.G, OH: c.H, OW: c.W}
}

// flipWeights writes wt (C, K/G, KH, KW) with wt[g,ci][kk][kh][kw] =
// w[g,kk][ci][KH-1-kh][KW-1-kw] for each group g.
func (c Conv) flipWeights(w, wt []float32) {
	cg, kg, khw := c.C/c.G, c.K/c.G, c.KH*c.KW
	for g := 0; g < c.G; g++ {
		for kk := 0; kk < kg; kk++ {
			for ci := 0; ci < cg; ci++ {
				src := w[((g*kg+kk)*cg+ci)*khw : ((g*kg+kk)*cg+ci+1)*khw]
				dst := wt[((g*cg+ci)*kg+kk)*khw : ((g*cg+ci)*kg+kk+1)*khw]
				for i, v := range src {
					dst[khw-1-i] = v
				}
			}
		}
	}
}

// packWeightsT writes Wᵀ (C/G*KH*KW, K/G per group) into dst as G packed
// gemm A operands: the gemm + col2im input gradient's left factor.
func (c Conv) packWeightsT(w, dst []float32) {
	p := gemm.Packed()
	kg, rows := c.K/c.G, c.colRows()
	asz := p.ASize(rows, kg)
	for g := 0; g < c.G; g++ {
		p.PackA(blas.Trans, rows, kg, w[g*kg*rows:], rows, dst[g*asz:])
	}
}

// dataImagesPer returns the images one item of a gemm + col2im
// BackwardData takes in modePacked: 1, or for small maps enough to fill
// about four strips of NR columns (ResNet's 7x7 after a stride 2).
func (c Conv) dataImagesPer(mode, n int) int {
	if mode != modePacked || c.dataAsConv() || c.fwdBlocks() > 1 || !convImages {
		return 1
	}
	ohw := c.OH * c.OW
	if ohw >= 4*gemm.Packed().NR() {
		return 1
	}
	return max(1, min(n, (4*gemm.Packed().NR()+ohw-1)/ohw))
}

// dataImage: dy is (K,OH,OW), dx is (C,H,W); dx += conv_transpose(dy, w):
// per row block and group, dcol = Wᵀ dy into col, then col2im (a 1x1 conv
// adds Wᵀ dy into dx directly).
// With wp (Wᵀ packed by BackwardData, modePacked), col is followed by a
// packed dy block and the products run on packed operands.
func (c *Conv) dataImage(dy, w, wp, dx, col []float32) {
	cg, kg, rows, ohw := c.C/c.G, c.K/c.G, c.colRows(), c.OH*c.OW
	if c.is1x1() && wp != nil {
		// dx += Wᵀ dy straight into dx, dy packed in blocks of columns
		p := gemm.Packed()
		nb := c.blockRows() * c.OW
		for g := 0; g < c.G; g++ {
			for j0 := 0; j0 < ohw; j0 += nb {
				nc := min(nb, ohw-j0)
				p.PackB(blas.NoTrans, kg, nc, dy[g*kg*ohw+j0:], ohw, col)
				p.Mul(cg, nc, kg, wp[g*p.ASize(rows, kg):], col, 1, dx[g*cg*ohw+j0:], ohw)
			}
		}
		return
	}
	if c.is1x1() {
		for g := 0; g < c.G; g++ {
			gemm.Sgemm(blas.Trans, blas.NoTrans, cg, ohw, kg, 1, w[g*kg*rows:(g+1)*kg*rows], rows,
				dy[g*kg*ohw:(g+1)*kg*ohw], ohw, 1, dx[g*cg*ohw:(g+1)*cg*ohw], ohw)
		}
		return
	}
	bh := c.blockRows()
	p := gemm.Packed()
	bp := col[min(len(col), c.colSize()):]
	for oh0 := 0; oh0 < c.OH; oh0 += bh {
		oh1 := min(oh0+bh, c.OH)
		nc := (oh1 - oh0) * c.OW
		for g := 0; g < c.G; g++ {
			if wp != nil {
				p.PackB(blas.NoTrans, kg, nc, dy[g*kg*ohw+oh0*c.OW:], ohw, bp)
				p.Mul(rows, nc, kg, wp[g*p.ASize(rows, kg):], bp, 0, col, nc)
			} else {
				gemm.Sgemm(blas.Trans, blas.NoTrans, rows, nc, kg, 1, w[g*kg*rows:(g+1)*kg*rows], rows,
					dy[g*kg*ohw+oh0*c.OW:], ohw, 0, col, nc)
			}
			c.col2im(col, g*cg, oh0, oh1, dx)
		}
	}
}

// dataImages is dataImage (with wp) for the k whole images of the batch dy
// (dx) starting at i0, in one product per group for small maps
// (dataImagesPer): dcol for all of them (rows by k*OH*OW), then col2im per
// image.
func (c *Conv) dataImages(dy, wp, dx, sc []float32, i0, k int) {
	p := gemm.Packed()
	cg, kg, rows, ohw := c.C/c.G, c.K/c.G, c.colRows(), c.OH*c.OW
	nc := k * ohw
	col, bp := sc[:rows*nc], sc[rows*nc:]
	for g := 0; g < c.G; g++ {
		// dy of the k images side by side: kg rows of nc
		for i := 0; i < k; i++ {
			p.PackBAt(kg, nc, i*ohw, ohw, dy[(i0+i)*c.outSize()+g*kg*ohw:], ohw, bp)
		}
		p.Mul(rows, nc, kg, wp[g*p.ASize(rows, kg):], bp, 0, col, nc)
		for i := 0; i < k; i++ {
			c.col2imStride(col[i*ohw:], nc, g*cg, 0, c.OH, dx[(i0+i)*c.inSize():(i0+i+1)*c.inSize()])
		}
	}
}
