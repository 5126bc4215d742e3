package runtime

import (
	"fmt"

	"github.com/cnnc-dev/cnnc/runtime/gemm"
)

// The convolution, split by pass:
//
//	conv.go         the geometry (Conv), its sizes, the package-level
//	                switches, the choice of each pass's way, ScratchSize
//	conv_ref.go     the plain reference kernels (ForwardRef, ...)
//	conv_forward.go Forward in its modes, and forwardJob (which also runs
//	                BackwardData as a forward when dataAsConv)
//	conv_data.go    BackwardData (either way), and dataJob for gemm + col2im
//	conv_filter.go  BackwardFilter in its three ways, and filterJob
//	conv_im2col.go  the im2col variants, gathers, col2im and scatters
//	conv_depthwise.go  depthwise convs (G == C == K): direct per-plane
//	                kernels for all three passes (conv_depthwise_loops.go,
//	                conv_depthwise_amd64.s: their row loops)
//	conv_winograd.go   Winograd's F(4x4, 3x3) for 3x3 stride-1 convs
//	                (ForwardWinograd, and BackwardData through it):
//	                transforms on rows of tiles (conv_winograd_amd64.s),
//	                36 products on the gemm's kernels
//
// Each pass's job type is its parallel body (parallel.go runs it on the
// workers); its scratch layout sits beside it (fwdLayout, dataLayout,
// filterWork and filterAcc).

// Conv is the geometry of a 2-D convolution (PyTorch's nn.Conv2d): C input
// channels of H x W, K output channels of OH x OW, a KH x KW kernel with
// stride SH, SW, zero padding PH, PW, dilation DH, DW and G groups. The
// weight is (K, C/G, KH, KW), the bias (K). ReLU fuses a ReLU into the
// forward epilogue (after the bias); the backward kernels then expect a dy
// that already went through ReLUBackward.
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

// blockRows returns the output rows per im2col block.
func (c Conv) blockRows() int {
	return max(1, min(c.OH, colBlock/max(1, c.colRows()*c.OW)))
}

// The package-level switches of the conv kernels, all in one place. Each
// chooses between code paths that compute the same result (to rounding);
// the defaults are the fastest, and nothing in the package changes them.
// TestConvFastVsRef sets them in four combinations (plain, packed,
// indirect, default: see there) and restores them, so that every path is
// covered on small shapes; BenchmarkConv sets colBlock from CNNC_COLBLOCK.
var (
	// colBlock is the target size in floats of one im2col block: the output
	// rows of an image are processed in blocks so that the column matrix stays
	// in the L2 cache between im2col and the gemm that reads it.
	// TestConvFastVsRef also runs blocks of one output row (1) and of a
	// few (100).
	colBlock = 1 << 18

	// convPacked enables modePacked and modeIndirect (when the gemm is this
	// module's own, gemm.Native); tests turn it off to cover modePlain, and
	// convIndirect off to cover modePacked for stride-1 convs.
	// convPacked also enables the packed products of the gemm + col2im
	// input gradient (colDataMode) and the direct 1x1 forward
	// (direct1x1); with it off, the filter gradient is filterPlain.
	convPacked, convIndirect = true, true

	// convImages enables several images per product for small maps
	// (smallMap); tests turn it off to cover the indirect mode on small maps.
	// It also enables the gemm + col2im input gradient's several images
	// per product (dataImagesPer).
	convImages = true

	// convRows enables filterRows (for layers with at least 2*K/G output
	// pixels per image); tests turn it off to cover filterPacked.
	convRows = true

	// convUnpackedA lets the packed and indirect modes read the weights in
	// place (gemm.Panels.MulPartA, MulIndirectPartA) where the CPU has those
	// kernels; tests turn it off to cover the packed weights. The direct
	// 1x1 forward (direct1x1) and the packed 1x1 input gradient
	// (colDataMode) need it too.
	convUnpackedA = true

	// dataAsConvMinC is the channels per group from which dataAsConv pays: its
	// gemm has C/G rows, and thin products (LeNet's 1 or 6 channels) run 3-7x
	// slower than the col2im formulation, whose gemm has C/G*KH*KW rows
	// (measured per CPU-second: C=16 44 vs 63 GFLOP/s, C=32 85 vs 65, C=64
	// 107 vs 85). Tests lower it to cover both paths (1 and 1<<30).
	dataAsConvMinC = 32

	// convDepthwise runs depthwise convs (G == C == K) on their direct
	// kernels (conv_depthwise.go); tests and BenchmarkDepthwise turn it
	// off to run them through the general paths.
	convDepthwise = true
)

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

// Which way each pass runs: Forward in mode(); BackwardData in dataMode()
// (as the transposed conv's forward when dataAsConv, else gemm + col2im);
// BackwardFilter in filterKind(mode()).

// mode is the mode of Forward: fastMode when convPacked and the gemm is
// this module's own (gemm.Native), modePlain otherwise.
func (c Conv) mode() int {
	if convPacked && gemm.Native() {
		return c.fastMode()
	}
	return modePlain
}

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
// cannot. A stride-1 map whose columns on the padded width fill their
// strips to two thirds (LeNet-5's 10x10 from 14x14: 140 of 144) stays
// indirect, which copies nothing: with the im2col of its many tiny rows,
// LeNet-5's inference took 1.55 times the CPU time (0.70 s against 0.45 s
// for 16,000 images on one core).
func (c Conv) smallMap() bool {
	if !convImages || c.is1x1() || c.fwdBlocks() != 1 || c.OH*c.OW >= 4*gemm.Packed().NR() {
		return false
	}
	nr := gemm.Packed().NR()
	cols := c.OH * c.padW() // the indirect mode's columns
	return !(convIndirect && c.SH == 1 && c.SW == 1 && 3*c.OH*c.OW >= 2*((cols+nr-1)/nr*nr))
}

// unpackedA reports whether the products read the weights in place:
// convUnpackedA, and the CPU has the unpacked-A kernels.
func unpackedA() bool { return convUnpackedA && gemm.Packed().HasUnpackedA() }

// direct1x1 reports whether a 1x1 stride-1 conv multiplies with the weights
// read in place (gemm.Panels.MulPartA), x packed in column chunks: Sgemm
// would pack the weights again for every image (a 2048x512 layer at 7x7
// spent as long packing as multiplying).
func (c Conv) direct1x1() bool { return c.is1x1() && convPacked && unpackedA() }

// dataMode is the mode of BackwardData: the transposed conv's forward mode
// when it runs as one (dataAsConv), colDataMode when the gemm is this
// module's own, modePlain otherwise.
func (c Conv) dataMode() int {
	switch {
	case c.dataAsConv():
		return c.transposed().mode()
	case convPacked && gemm.Native():
		return c.colDataMode()
	}
	return modePlain
}

// dataAsConv reports whether BackwardData runs as the forward convolution
// of dy with the flipped, transposed weights (stride 1, padding at most the
// dilated kernel extent, at least dataAsConvMinC channels per group):
// im2col (copies) instead of col2im (scattered adds), and gemm writes dx
// directly.
func (c Conv) dataAsConv() bool {
	return c.C/c.G >= dataAsConvMinC && !c.is1x1() && c.SH == 1 && c.SW == 1 && c.PH <= c.DH*(c.KH-1) && c.PW <= c.DW*(c.KW-1)
}

// colDataMode is the mode of a BackwardData that runs as gemm + col2im
// (not dataAsConv) when the gemm is this module's own: modePacked (Wᵀ
// packed once per call; a 1x1 stride-1 conv multiplies it with dy straight
// into dx), but modePlain (gemm.Sgemm of dy directly) for a 1x1 stride-1
// conv where the weights are not read in place (unpackedA).
func (c Conv) colDataMode() int {
	if !convPacked || c.is1x1() && !unpackedA() {
		return modePlain
	}
	return modePacked
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

// filterKind is the way of BackwardFilter for the forward mode mode
// (c.mode()): filterPlain with modePlain and for 1x1 convs, filterRows
// where gemm.MulRows exists and the pixels outweigh the weights,
// filterPacked where the gemm's NR is a multiple of 8 (PackBCols
// transposes eight im2col rows at a time into B's strips), else
// filterPlain.
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

// ScratchSize returns the scratch floats Forward, BackwardData and
// BackwardFilter need for a batch of n: per worker an im2col block and a
// weight gradient accumulator, plus the flipped weights of BackwardData.
func (c Conv) ScratchSize(n int) int {
	if c.depthwise() {
		return 0
	}
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
	return max(size, c.winoScratch(n))
}

// MACs returns the multiply-accumulates of one forward pass of one image.
func (c Conv) MACs() int { return c.K * c.OH * c.OW * c.colRows() }

// convParallelMACs is the work (multiply-adds of the whole call) below
// which a conv pass runs on the caller's goroutine only: waking a worker
// costs more than it saves there (LeNet-5's layers at a batch of 1 or 8
// ran faster on one core than on two). Tests lower it to 0 to cover the
// parallel paths on small shapes.
var convParallelMACs = 1 << 21

// convSlots returns the workers a pass of a batch of n with items work
// items uses: as many as scratch holds shares of per floats (n when the
// pass needs none), at most items and Workers(), and one below
// convParallelMACs of work (macs). It panics when scratch does not hold one
// share.
func convSlots(n, items, per int, scratch []float32, macs int) int {
	slots := n
	if per > 0 {
		checkMin("Conv", "scratch", scratch, per)
		slots = len(scratch) / per
	}
	if macs < convParallelMACs {
		return 1
	}
	return min(slots, items, Workers())
}

// share returns worker slot's share of scratch: per floats, or nil when
// the pass needs none.
func share(scratch []float32, per, slot int) []float32 {
	if per == 0 {
		return nil
	}
	return scratch[slot*per : (slot+1)*per]
}
