package runtime

import (
	"fmt"
	"unsafe"

	"github.com/cnnc-dev/cnnc/runtime/gemm"
	"gonum.org/v1/gonum/blas"
)

// Conv is the geometry of a 2-D convolution (PyTorch's nn.Conv2d): C input
// channels of H x W, K output channels of OH x OW, a KH x KW kernel with
// stride SH, SW, zero padding PH, PW, dilation DH, DW and G groups. The
// weight is (K, C/G, KH, KW), the bias (K). ReLU fuses a ReLU into the
// forward epilogue (after the bias); the backward kernels then expect a dy
// that already went through ReluBackward.
type Conv struct {
	C, H, W int
	K       int
	KH, KW  int
	SH, SW  int
	PH, PW  int
	DH, DW  int
	G       int
	OH, OW  int
	ReLU    bool
}

// ConvOutSize returns PyTorch's output length for one spatial dimension.
func ConvOutSize(in, k, stride, pad, dil int) int {
	return (in+2*pad-dil*(k-1)-1)/stride + 1
}

// Validate reports whether the geometry is consistent.
func (c Conv) Validate() error {
	switch {
	case c.C < 1 || c.H < 1 || c.W < 1 || c.K < 1 || c.KH < 1 || c.KW < 1:
		return fmt.Errorf("conv: sizes must be positive: %+v", c)
	case c.SH < 1 || c.SW < 1 || c.DH < 1 || c.DW < 1 || c.PH < 0 || c.PW < 0 || c.G < 1:
		return fmt.Errorf("conv: stride/dilation/groups must be >= 1 and padding >= 0: %+v", c)
	case c.C%c.G != 0 || c.K%c.G != 0:
		return fmt.Errorf("conv: groups %d must divide C=%d and K=%d", c.G, c.C, c.K)
	}
	oh := ConvOutSize(c.H, c.KH, c.SH, c.PH, c.DH)
	ow := ConvOutSize(c.W, c.KW, c.SW, c.PW, c.DW)
	if oh < 1 || ow < 1 || oh != c.OH || ow != c.OW {
		return fmt.Errorf("conv: output is %dx%d for %+v, geometry says %dx%d", oh, ow, c, c.OH, c.OW)
	}
	return nil
}

func (c Conv) mustValid(op string) {
	if err := c.Validate(); err != nil {
		panic("runtime.Conv." + op + ": " + err.Error())
	}
}

func (c Conv) inSize() int  { return c.C * c.H * c.W }
func (c Conv) outSize() int { return c.K * c.OH * c.OW }
func (c Conv) wSize() int   { return c.K * (c.C / c.G) * c.KH * c.KW }
func (c Conv) colRows() int { return (c.C / c.G) * c.KH * c.KW }
func (c Conv) is1x1() bool {
	return c.KH == 1 && c.KW == 1 && c.SH == 1 && c.SW == 1 && c.PH == 0 && c.PW == 0
}
func (c Conv) colSize() int {
	if c.is1x1() {
		return 0
	}
	return c.colRows() * c.blockRows() * c.OW
}

// colBlock is the target size in floats of one im2col block: the output
// rows of an image are processed in blocks so that the column matrix stays
// in the L2 cache between im2col and the gemm that reads it.
var colBlock = 1 << 18

// blockRows returns the output rows per im2col block.
func (c Conv) blockRows() int {
	return max(1, min(c.OH, colBlock/max(1, c.colRows()*c.OW)))
}

// The forward pass (and BackwardData when it runs as a forward) has three
// ways to form the product with the im2col matrix:
//
//	modePlain     im2col into a block of the column matrix, then gemm.Sgemm
//	              (used when another gemm implementation is chosen with
//	              gemm.Use, and as the reference for the other two)
//	modePacked    im2col written straight into the gemm's packed B panel
//	              (gemm.Panels.MulPart); strided convs, and small maps with
//	              several images per product (smallMap)
//	modeIndirect  stride 1: no im2col at all; the input rows of a block are
//	              copied with their zero padding into a buffer, and the
//	              micro-kernel reads each kernel tap's row from it through
//	              a table of offsets (gemm.Panels.MulIndirectPart),
//	              computing the outputs on the padded width; the extra
//	              columns are dropped when the result is copied into y
//
// In both fast modes the weights are read in place where the CPU has the
// unpacked-A kernels (unpackedA), or packed once per call (prepare).
const (
	modePlain = iota
	modePacked
	modeIndirect
)

// convPacked enables modePacked and modeIndirect (when the gemm is this
// module's own, gemm.Native); tests turn it off to cover modePlain, and
// convIndirect off to cover modePacked for stride-1 convs.
var convPacked, convIndirect = true, true

// convImages enables several images per product for small maps
// (smallMap); tests turn it off to cover the indirect mode on small maps.
var convImages = true

// fastMode is the mode Forward uses when convPacked and gemm.Native().
func (c Conv) fastMode() int {
	switch {
	case c.is1x1():
		return modePlain
	case c.smallMap():
		return modePacked
	case convIndirect && c.SH == 1 && c.SW == 1:
		return modeIndirect
	}
	return modePacked
}

// smallMap reports whether the output maps are so small (ResNet's 7x7) that
// one image's columns leave much of the gemm's last strip of NR empty (49
// columns: 48 + 1, run as 48 + 16): the forward then takes several whole
// images per product (modePacked, fwdImages), which the indirect mode
// cannot.
func (c Conv) smallMap() bool {
	return convImages && !c.is1x1() && c.fwdBlocks() == 1 && c.OH*c.OW < 4*gemm.Packed().NR()
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

func (c Conv) mode() int {
	if convPacked && gemm.Native() {
		return c.fastMode()
	}
	return modePlain
}

// padW and padRows are the width and the rows of modeIndirect's padded
// input block: output (oh, ow) of the block is at grid column
// (oh-oh0)*padW + ow, kernel tap (kh, kw) at kh*DH*padW + kw*DW from it.
func (c Conv) padW() int    { return c.W + 2*c.PW }
func (c Conv) padRows() int { return c.blockRows() + c.DH*(c.KH-1) }

// fwdLayout returns the shared head (packed weights unless unpackedA; with
// modeIndirect the offset table after them) and the per-worker scratch of
// the forward pass in the
// given mode: an im2col block (modePlain), a packed B block and the im2col
// ring (modePacked), or the padded input block and the output on the
// padded width of one group (modeIndirect).
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

// BackwardFilter forms dw += dy colᵀ (per image and row block) in one of
// three ways:
//
//	filterPlain   im2col into a column matrix, then gemm.Sgemm, which
//	              packs dy and transposes the column matrix
//	filterPacked  im2col rows made eight at a time in a ring (L1) and
//	              transposed straight into the gemm's packed B panel
//	              (gemm.Panels.PackBCols); used where MulRows is not
//	filterRows    the transposed product dwᵀ += col dyᵀ with unpacked
//	              operands (gemm.MulRows): dy is transposed once per block
//	              (K/G rows, small), and each strip of eight im2col rows,
//	              made in the ring, is multiplied as it is, with no
//	              transposition of the column matrix at all; each worker
//	              accumulates dwᵀ, added transposed into dw at the end
const (
	filterPlain = iota
	filterPacked
	filterRows
)

// convRows enables filterRows (for layers with at least 2*K/G output
// pixels per image); tests turn it off to cover filterPacked.
var convRows = true

func (c Conv) filterKind(mode int) int {
	switch {
	case mode == modePlain || c.is1x1():
		return filterPlain
	case convRows && gemm.HasMulRows() && c.OH*c.OW >= 2*(c.K/c.G):
		// Only where the pixels outweigh the weights: filterRows pays
		// for private transposed accumulators (clear, sum, transposed
		// add: a few passes over dw per call), which ResNet's 7x7x512
		// layer noticed (163 against 250 GFLOP/s for filterPacked;
		// 14x14x256: 243 against 290; 28x28x128: 311 against 288).
		return filterRows
	case gemm.Packed().NR()%8 == 0:
		return filterPacked
	}
	return filterPlain
}

// filterWork returns the per-worker floats of BackwardFilter in front of
// its accumulator: an im2col block (filterPlain); a ring of 16 im2col rows
// and then the packed dy block (A) and packed colᵀ block (B)
// (filterPacked), or dyᵀ (filterRows).
func (c Conv) filterWork(mode int) int {
	nc := c.blockRows() * c.OW
	p := gemm.Packed()
	switch c.filterKind(mode) {
	case filterPacked:
		return 16*nc + p.ASize(c.K/c.G, nc) + p.BSize(nc, c.colRows())
	case filterRows:
		return 16*nc + nc*(c.K/c.G) + 16
	}
	return c.colSize()
}

// filterAcc returns the floats of one worker's accumulator: dw and db, or
// with filterRows dwᵀ (per group, C/G*KH*KW rows rounded up to 8, by K/G)
// and db.
func (c Conv) filterAcc(mode int) int {
	if c.filterKind(mode) == filterRows {
		return c.G*(c.colRows()+7)/8*8*(c.K/c.G) + c.K
	}
	return c.wSize() + c.K
}

// per-worker scratch of the filter pass: the work area and an accumulator
func (c Conv) perFilter(mode int) int { return c.filterWork(mode) + c.filterAcc(mode) }

// dataLayout returns the shared head (the flipped weights, and their
// packed copy) and the per-worker scratch of BackwardData.
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

// dataAsConv reports whether BackwardData runs as the forward convolution
// of dy with the flipped, transposed weights (stride 1, padding at most the
// dilated kernel extent, at least dataAsConvMinC channels per group): im2col (copies) instead of col2im (scattered
// adds), and gemm writes dx directly.
// dataAsConvMinC is the channels per group from which dataAsConv pays: its
// gemm has C/G rows, and thin products (LeNet's 1 or 6 channels) run 3-7x
// slower than the col2im formulation, whose gemm has C/G*KH*KW rows
// (measured per CPU-second: C=16 44 vs 63 GFLOP/s, C=32 85 vs 65, C=64
// 107 vs 85). Tests lower it to cover both paths.
var dataAsConvMinC = 32

func (c Conv) dataAsConv() bool {
	return c.C/c.G >= dataAsConvMinC && !c.is1x1() && c.SH == 1 && c.SW == 1 && c.PH <= c.DH*(c.KH-1) && c.PW <= c.DW*(c.KW-1)
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

// ScratchSize returns the scratch floats Forward, BackwardData and
// BackwardFilter need for a batch of n: per worker an im2col block and a
// weight gradient accumulator, plus the flipped weights of BackwardData.
func (c Conv) ScratchSize(n int) int {
	s := max(1, min(n, Workers()))
	slots := func(c Conv, mode int) int { // forward items share the workers
		return max(1, min(c.fwdWork(mode, n), Workers()))
	}
	size := max(c.perFilter(modePlain), c.perFilter(c.fastMode())) * s
	// Room for the plain path as well as the fast ones, so that a buffer
	// sized while another gemm implementation was in use (gemm.Use) still
	// fits.
	for _, m := range []int{modePlain, c.fastMode()} {
		fh, fp := c.fwdLayout(m, n)
		size = max(size, fh+fp*slots(c, m))
	}
	if c.dataAsConv() {
		t := c.transposed()
		for _, m := range []int{modePlain, t.fastMode()} {
			dh, dp := c.dataLayout(m, n)
			size = max(size, dh+dp*slots(t, m))
		}
	} else {
		for _, m := range []int{modePlain, c.colDataMode()} {
			dh, dp := c.dataLayout(m, n)
			size = max(size, dh+dp*s)
		}
	}
	return size
}

// MACs returns the multiply-accumulates of one forward pass of one image.
func (c Conv) MACs() int { return c.K * c.OH * c.OW * c.colRows() }

// ---------------------------------------------------------------- reference

// ForwardRef: x is (N,C,H,W), w is (K,C/G,KH,KW), b is (K) or nil,
// y is (N,K,OH,OW). y = conv(x, w) + b, then ReLU if c.ReLU.
func (c Conv) ForwardRef(n int, x, w, b, y []float32) {
	c.mustValid("ForwardRef")
	cg, kg := c.C/c.G, c.K/c.G
	for i := 0; i < n; i++ {
		for k := 0; k < c.K; k++ {
			g := k / kg
			for oh := 0; oh < c.OH; oh++ {
				for ow := 0; ow < c.OW; ow++ {
					var s float64
					if b != nil {
						s = float64(b[k])
					}
					for ci := 0; ci < cg; ci++ {
						ch := g*cg + ci
						for kh := 0; kh < c.KH; kh++ {
							ih := oh*c.SH - c.PH + kh*c.DH
							if ih < 0 || ih >= c.H {
								continue
							}
							for kw := 0; kw < c.KW; kw++ {
								iw := ow*c.SW - c.PW + kw*c.DW
								if iw < 0 || iw >= c.W {
									continue
								}
								s += float64(x[((i*c.C+ch)*c.H+ih)*c.W+iw]) *
									float64(w[((k*cg+ci)*c.KH+kh)*c.KW+kw])
							}
						}
					}
					if c.ReLU && s < 0 {
						s = 0
					}
					y[((i*c.K+k)*c.OH+oh)*c.OW+ow] = float32(s)
				}
			}
		}
	}
}

// BackwardDataRef: dy is (N,K,OH,OW), w is (K,C/G,KH,KW), dx is (N,C,H,W).
// dx += conv_transpose(dy, w). The ReLU of c is not applied (see Conv).
func (c Conv) BackwardDataRef(n int, dy, w, dx []float32) {
	c.mustValid("BackwardDataRef")
	cg, kg := c.C/c.G, c.K/c.G
	for i := 0; i < n; i++ {
		for ch := 0; ch < c.C; ch++ {
			g, ci := ch/cg, ch%cg
			for ih := 0; ih < c.H; ih++ {
				for iw := 0; iw < c.W; iw++ {
					var s float64
					for k := g * kg; k < (g+1)*kg; k++ {
						for kh := 0; kh < c.KH; kh++ {
							th := ih + c.PH - kh*c.DH
							if th < 0 || th%c.SH != 0 || th/c.SH >= c.OH {
								continue
							}
							for kw := 0; kw < c.KW; kw++ {
								tw := iw + c.PW - kw*c.DW
								if tw < 0 || tw%c.SW != 0 || tw/c.SW >= c.OW {
									continue
								}
								s += float64(dy[((i*c.K+k)*c.OH+th/c.SH)*c.OW+tw/c.SW]) *
									float64(w[((k*cg+ci)*c.KH+kh)*c.KW+kw])
							}
						}
					}
					dx[((i*c.C+ch)*c.H+ih)*c.W+iw] += float32(s)
				}
			}
		}
	}
}

// BackwardFilterRef: x is (N,C,H,W), dy is (N,K,OH,OW), dw is (K,C/G,KH,KW),
// db is (K) or nil. dw += dL/dw, db += dL/db.
func (c Conv) BackwardFilterRef(n int, x, dy, dw, db []float32) {
	c.mustValid("BackwardFilterRef")
	cg, kg := c.C/c.G, c.K/c.G
	for k := 0; k < c.K; k++ {
		g := k / kg
		for ci := 0; ci < cg; ci++ {
			ch := g*cg + ci
			for kh := 0; kh < c.KH; kh++ {
				for kw := 0; kw < c.KW; kw++ {
					var s float64
					for i := 0; i < n; i++ {
						for oh := 0; oh < c.OH; oh++ {
							ih := oh*c.SH - c.PH + kh*c.DH
							if ih < 0 || ih >= c.H {
								continue
							}
							for ow := 0; ow < c.OW; ow++ {
								iw := ow*c.SW - c.PW + kw*c.DW
								if iw < 0 || iw >= c.W {
									continue
								}
								s += float64(x[((i*c.C+ch)*c.H+ih)*c.W+iw]) *
									float64(dy[((i*c.K+k)*c.OH+oh)*c.OW+ow])
							}
						}
					}
					dw[((k*cg+ci)*c.KH+kh)*c.KW+kw] += float32(s)
				}
			}
		}
		if db != nil {
			var s float64
			for i := 0; i < n; i++ {
				for _, v := range dy[(i*c.K+k)*c.OH*c.OW : (i*c.K+k+1)*c.OH*c.OW] {
					s += float64(v)
				}
			}
			db[k] += float32(s)
		}
	}
}

// --------------------------------------------------------------------- fast

// Forward: x is (N,C,H,W), w is (K,C/G,KH,KW), b is (K) or nil, y is
// (N,K,OH,OW); scratch has at least ScratchSize(n) floats (fewer workers are
// used if it is smaller, but at least one image's im2col buffer is needed).
// Per image and group: im2col, then y = W col (gemm.Sgemm), then the bias
// and ReLU epilogue. A 1x1 stride-1 unpadded conv multiplies x directly.
func (c Conv) Forward(n int, x, w, b, y, scratch []float32) {
	c.mustValid("Forward")
	check("Conv.Forward", "x", x, n*c.inSize())
	check("Conv.Forward", "w", w, c.wSize())
	if b != nil {
		check("Conv.Forward", "b", b, c.K)
	}
	check("Conv.Forward", "y", y, n*c.outSize())
	mode := c.mode()
	head, per := c.fwdLayout(mode, n)
	var wp []float32
	if head > 0 {
		checkMin("Conv.Forward", "scratch", scratch, head+per)
		c.prepare(mode, w, scratch[:head])
		wp, scratch = scratch[:head], scratch[head:]
	}
	c.launch(convFwd, mode, n, x, w, wp, b, y, nil, scratch, per)
}

// convUnpackedA lets the packed and indirect modes read the weights in
// place (gemm.Panels.MulPartA, MulIndirectPartA) where the CPU has those
// kernels; tests turn it off to cover the packed weights.
var convUnpackedA = true

func unpackedA() bool { return convUnpackedA && gemm.Packed().HasUnpackedA() }

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
	mode := modePlain
	switch {
	case c.dataAsConv():
		mode = c.transposed().mode()
	case convPacked && gemm.Native():
		mode = c.colDataMode()
	}
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
	c.launch(convData, mode, n, dy, w, wp, nil, dx, nil, scratch, per)
}

// BackwardFilter: x is (N,C,H,W), dy is (N,K,OH,OW), dw is (K,C/G,KH,KW),
// db is (K) or nil. dw += sum over images of dy col^T (gemm), db += sum of dy.
// Each worker accumulates into its own slice of scratch; the caller's
// goroutine adds them into dw and db at the end.
func (c Conv) BackwardFilter(n int, x, dy, dw, db, scratch []float32) {
	c.mustValid("BackwardFilter")
	check("Conv.BackwardFilter", "x", x, n*c.inSize())
	check("Conv.BackwardFilter", "dy", dy, n*c.outSize())
	check("Conv.BackwardFilter", "dw", dw, c.wSize())
	if db != nil {
		check("Conv.BackwardFilter", "db", db, c.K)
	}
	mode := c.mode()
	c.launch(convFilter, mode, n, x, dy, nil, db, dw, db, scratch, c.perFilter(mode))
}

const (
	convFwd = iota
	convData
	convFilter
)

// convJob is the parallel body of the three passes: item i is image i.
type convJob struct {
	c       Conv
	pass    int
	a, w, b []float32 // input (x or dy), weight (or dy for filter), bias
	wp      []float32 // the head prepare wrote (packed weights, offsets)
	out     []float32 // y, dx or dw
	db      []float32
	scratch []float32
	per     int
	slots   int // filter pass: accumulators, one per item of parallelFor
	mode    int // modePlain, modePacked or modeIndirect (filterKind derives the filter pass's way)
}

var convJobs freeList[convJob]

func (c Conv) launch(pass, mode, n int, a, w, wp, b, out, db, scratch []float32, per int) {
	if n == 0 {
		return
	}
	slots := n
	if per > 0 {
		checkMin("Conv", "scratch", scratch, per)
		slots = len(scratch) / per
	}
	items := n
	if pass == convFwd {
		items = c.fwdWork(mode, n)
	} else if pass == convData && c.dataAsConv() {
		items = c.transposed().fwdWork(mode, n)
	} else if pass == convData {
		k := c.dataImagesPer(mode, n)
		items = (n + k - 1) / k
	}
	slots = min(slots, items, Workers())
	j := convJobs.get()
	*j = convJob{c: c, pass: pass, a: a, w: w, wp: wp, b: b, out: out, db: db, scratch: scratch, per: per, mode: mode}
	if pass == convFilter {
		// Slot 0 accumulates into dw and db (but with filterRows), the
		// others into scratch.
		first, work, acc := 1, c.filterWork(mode), c.filterAcc(mode)
		rows := c.filterKind(mode) == filterRows
		if rows {
			first = 0
		}
		for s := first; s < slots; s++ {
			clear(scratch[s*per+work : s*per+work+acc])
		}
		// Image i goes to accumulator i % slots, whichever goroutine runs
		// it, and the accumulators are summed in a fixed order: the same
		// inputs give the same bits however the workers are scheduled.
		j.slots = slots
		parallelFor(slots, slots, j)
		if rows {
			// The transposed accumulators summed into the first,
			// then added once into dw.
			a0 := scratch[work : work+acc]
			for s := 1; s < slots; s++ {
				axpy(a0, scratch[s*per+work:s*per+work+acc])
			}
			c.addTransposed(out, db, a0)
			first = slots
		}
		for s := first; s < slots; s++ {
			a := scratch[s*per+work : s*per+work+acc]
			axpy(out, a[:c.wSize()])
			if db != nil {
				axpy(db, a[acc-c.K:])
			}
		}
	} else {
		parallelFor(items, slots, j)
	}
	*j = convJob{}
	convJobs.put(j)
}

// axpy: dst += src.
func axpy(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

func (j *convJob) run(slot, i int) {
	c := &j.c
	var sc []float32
	if j.per > 0 {
		sc = j.scratch[slot*j.per : (slot+1)*j.per]
	}
	switch j.pass {
	case convFwd:
		// Item i is part i%parts of row block i/parts%nb of image
		// i/parts/nb.
		img, k, blk, pt := c.fwdItem(j.mode, len(j.a)/c.inSize(), i)
		if k > 1 {
			c.forwardImagesPacked(j.a, j.w, j.wp, j.b, j.out, sc, 0, img, k, pt)
			return
		}
		x, y := j.a[img*c.inSize():(img+1)*c.inSize()], j.out[img*c.outSize():(img+1)*c.outSize()]
		if c.is1x1() {
			c.forwardImage(x, j.w, j.b, y, sc, 0, pt)
		} else {
			c.forwardBlockMode(j.mode, x, j.w, j.wp, j.b, y, sc, 0, blk, pt)
		}
	case convData:
		if !c.dataAsConv() {
			n := len(j.a) / c.outSize()
			if k := c.dataImagesPer(j.mode, n); k > 1 {
				// Item i is images i*k ... (the last item may have fewer).
				c.dataImages(j.a, j.wp, j.out, sc, i*k, min(k, n-i*k))
				return
			}
			c.dataImage(j.a[i*c.outSize():(i+1)*c.outSize()], j.w, j.wp, j.out[i*c.inSize():(i+1)*c.inSize()], sc)
			return
		}
		// The items of the transposed conv's forward.
		t := c.transposed()
		img, k, blk, pt := t.fwdItem(j.mode, len(j.a)/c.outSize(), i)
		if k > 1 {
			t.forwardImagesPacked(j.a, j.w, j.wp, nil, j.out, sc, 1, img, k, pt)
			return
		}
		dy, dx := j.a[img*c.outSize():(img+1)*c.outSize()], j.out[img*c.inSize():(img+1)*c.inSize()]
		t.forwardBlockMode(j.mode, dy, j.w, j.wp, nil, dx, sc, 1, blk, pt)
	case convFilter:
		// Item i is accumulator i: images i, i+slots, i+2*slots...
		sc = j.scratch[i*j.per : (i+1)*j.per]
		kind, work := c.filterKind(j.mode), c.filterWork(j.mode)
		dw, db := j.out, j.db
		if i > 0 || kind == filterRows {
			acc := sc[work:]
			dw = acc[:len(acc)-c.K]
			if db != nil {
				db = acc[len(acc)-c.K:]
			}
		}
		n := len(j.a) / c.inSize()
		for img := i; img < n; img += j.slots {
			x, dy := j.a[img*c.inSize():(img+1)*c.inSize()], j.w[img*c.outSize():(img+1)*c.outSize()]
			switch kind {
			case filterRows:
				c.filterImageRows(x, dy, dw, db, sc[:work])
			case filterPacked:
				c.filterImagePacked(x, dy, dw, db, sc[:work])
			default:
				c.filterImage(x, dy, dw, db, sc[:work])
			}
		}
	}
}

// addTransposed adds a filterRows accumulator (per group, dwᵀ with rows
// rounded up to 8, then db) into dw (K, C/G*KH*KW) and db. When the rows
// are not a multiple of 8, the first padding row of dwᵀ holds db: its
// im2col row is all ones (onesRow).
func (c *Conv) addTransposed(dw, db, acc []float32) {
	kg, rows := c.K/c.G, c.colRows()
	rp := (rows + 7) / 8 * 8
	for g := 0; g < c.G; g++ {
		a := acc[g*rp*kg:]
		d := dw[g*kg*rows : (g+1)*kg*rows]
		// Eight rows of dwᵀ at a time: eight sequential reads, eight
		// adjacent floats written per k.
		for q0 := 0; q0 < rows; q0 += 8 {
			q1 := min(q0+8, rows)
			for k := 0; k < kg; k++ {
				dk := d[k*rows+q0 : k*rows+q1]
				for i := range dk {
					dk[i] += a[(q0+i)*kg+k]
				}
			}
		}
		if db != nil && c.onesRow() {
			for k := 0; k < kg; k++ {
				db[g*kg+k] += a[rows*kg+k]
			}
		}
	}
	if db != nil && !c.onesRow() {
		axpy(db, acc[len(acc)-c.K:])
	}
}

// onesRow reports whether filterRows computes db in the product, as the
// first padding row of dwᵀ (the rows of the column matrix are not a
// multiple of 8).
func (c *Conv) onesRow() bool { return c.colRows()%8 != 0 }

// filterImageRows is filterImage with filterRows: dwT (per group, rows
// rounded up to 8, by K/G) += col dyᵀ, and db += the row sums of dy (in
// the product with onesRow).
func (c *Conv) filterImageRows(x, dy, dwT, db, sc []float32) {
	cg, kg, rows, ohw, hw := c.C/c.G, c.K/c.G, c.colRows(), c.OH*c.OW, c.H*c.W
	bh := c.blockRows()
	ncMax := bh * c.OW
	ring, dyT := sc[:16*ncMax], sc[16*ncMax:]
	rp := (rows + 7) / 8 * 8
	ones := db != nil && c.onesRow()
	for oh0 := 0; oh0 < c.OH; oh0 += bh {
		oh1 := min(oh0+bh, c.OH)
		nc := (oh1 - oh0) * c.OW
		for g := 0; g < c.G; g++ {
			gemm.Transpose(kg, nc, dy[g*kg*ohw+oh0*c.OW:], ohw, dyT, kg)
			for q0 := 0; q0 < rows; q0 += 8 {
				c.im2colRing(x[g*cg*hw:], ring, q0, nc, oh0, oh1, ones)
				gemm.MulRows(8, kg, nc, ring[q0%16*nc:], nc, dyT, kg, 1, dwT[(g*rp+q0)*kg:], kg)
			}
		}
	}
	if db != nil && !ones {
		for k := 0; k < c.K; k++ {
			db[k] += sum32(dy[k*ohw : (k+1)*ohw])
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

// chunk1x1 is the output columns of a 1x1 conv's image packed at a time
// by direct1x1 (the gemm's NC: a packed block of B stays in L2).
const chunk1x1 = 768

// direct1x1 reports whether a 1x1 stride-1 conv multiplies with the weights
// read in place (gemm.Panels.MulPartA), x packed in column chunks: Sgemm
// would pack the weights again for every image (a 2048x512 layer at 7x7
// spent as long packing as multiplying).
func (c Conv) direct1x1() bool { return c.is1x1() && convPacked && unpackedA() }

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

// forwardBlockIndirect is forwardBlock in modeIndirect: w is the head that
// prepare wrote, sc holds the padded input block and the output block on
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

// forwardBlockPacked is forwardBlock with the weights packed (packWeights)
// and the im2col written into a packed B block: sc holds the block
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

// biasReLU sets dst = src + bk, then the ReLU if relu (dst may be src).
func biasReLU(dst, src []float32, bk float32, relu bool) {
	dst = dst[:len(src)]
	switch {
	case relu:
		for i, v := range src {
			dst[i] = max(v+bk, 0)
		}
	case bk != 0:
		for i, v := range src {
			dst[i] = v + bk
		}
	default:
		copy(dst, src)
	}
}

// dataImage: dy is (K,OH,OW), dx is (C,H,W); dx += ...
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

// colDataMode is the mode of a BackwardData that runs as gemm + col2im
// (not dataAsConv) when the gemm is this module's own: modePacked, but for
// a 1x1 stride-1 conv, which multiplies dy directly (modePlain).
func (c Conv) colDataMode() int {
	if !convPacked || c.is1x1() && !unpackedA() {
		return modePlain
	}
	return modePacked
}

// filterImage: x is (C,H,W), dy is (K,OH,OW); dw += dy col^T, db += rowsum(dy).
func (c *Conv) filterImage(x, dy, dw, db, col []float32) {
	cg, kg, rows, ohw := c.C/c.G, c.K/c.G, c.colRows(), c.OH*c.OW
	if c.is1x1() {
		for g := 0; g < c.G; g++ {
			gemm.Sgemm(blas.NoTrans, blas.Trans, kg, rows, ohw, 1, dy[g*kg*ohw:(g+1)*kg*ohw], ohw,
				x[g*cg*ohw:(g+1)*cg*ohw], ohw, 1, dw[g*kg*rows:(g+1)*kg*rows], rows)
		}
	} else {
		bh := c.blockRows()
		for oh0 := 0; oh0 < c.OH; oh0 += bh {
			oh1 := min(oh0+bh, c.OH)
			nc := (oh1 - oh0) * c.OW
			for g := 0; g < c.G; g++ {
				c.im2col(x, g*cg, oh0, oh1, col)
				gemm.Sgemm(blas.NoTrans, blas.Trans, kg, rows, nc, 1, dy[g*kg*ohw+oh0*c.OW:], ohw,
					col, nc, 1, dw[g*kg*rows:(g+1)*kg*rows], rows)
			}
		}
	}
	if db != nil {
		for k := 0; k < c.K; k++ {
			db[k] += sum32(dy[k*ohw : (k+1)*ohw])
		}
	}
}

// filterImagePacked is filterImage with the product formed from packed
// operands: per block, dy packed as A, and the im2col rows made eight at a
// time in a ring (in L1) and transposed into the packed B (colᵀ).
func (c *Conv) filterImagePacked(x, dy, dw, db, sc []float32) {
	p := gemm.Packed()
	cg, kg, rows, ohw, hw := c.C/c.G, c.K/c.G, c.colRows(), c.OH*c.OW, c.H*c.W
	bh := c.blockRows()
	ncMax := bh * c.OW
	ring := sc[:16*ncMax]
	ap := sc[16*ncMax : 16*ncMax+p.ASize(kg, ncMax)]
	bp := sc[16*ncMax+len(ap):]
	for oh0 := 0; oh0 < c.OH; oh0 += bh {
		oh1 := min(oh0+bh, c.OH)
		nc := (oh1 - oh0) * c.OW
		for g := 0; g < c.G; g++ {
			p.PackA(blas.NoTrans, kg, nc, dy[g*kg*ohw+oh0*c.OW:], ohw, ap)
			for q0 := 0; q0 < rows; q0 += 8 {
				c.im2colRing(x[g*cg*hw:], ring, q0, nc, oh0, oh1, false)
				p.PackBCols(nc, rows, q0, ring[q0%16*nc:], nc, bp)
			}
			p.Mul(kg, rows, nc, ap, bp, 1, dw[g*kg*rows:], rows)
		}
	}
	if db != nil {
		for k := 0; k < c.K; k++ {
			db[k] += sum32(dy[k*ohw : (k+1)*ohw])
		}
	}
}

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

// im2colRow fills row (ci, kh, kw) of the column matrix for the output rows
// [oh0, oh1); xc is input channel ci (H,W), prev the row of (ci, kh, kw-SW)
// when c.shifts(kw).
func (c *Conv) im2colRow(xc, row, prev []float32, oh0, oh1, kh, kw int) {
	off := kw*c.DW - c.PW
	lo, hi := c.owRange(off)
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

// floorDiv is a/b rounded down (b > 0).
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
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

// sum32 returns the sum of s with four independent accumulators.
func sum32(s []float32) float32 {
	var a0, a1, a2, a3 float32
	i := 0
	for ; i+4 <= len(s); i += 4 {
		q := s[i : i+4 : i+4]
		a0 += q[0]
		a1 += q[1]
		a2 += q[2]
		a3 += q[3]
	}
	for ; i < len(s); i++ {
		a0 += s[i]
	}
	return (a0 + a1) + (a2 + a3)
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
