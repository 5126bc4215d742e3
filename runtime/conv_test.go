package runtime

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cnnc-dev/cnnc/runtime/gemm"
)

func conv(c, h, w, k, kh, kw, s, p, d, g int, relu bool) Conv {
	cv := Conv{C: c, H: h, W: w, K: k, KH: kh, KW: kw, SH: s, SW: s, PH: p, PW: p, DH: d, DW: d, G: g, ReLU: relu}
	cv.OH = ConvOutSize(h, kh, s, p, d)
	cv.OW = ConvOutSize(w, kw, s, p, d)
	return cv
}

var convCases = []Conv{
	conv(3, 7, 7, 4, 3, 3, 1, 1, 1, 1, false),
	conv(3, 9, 8, 5, 3, 3, 2, 1, 1, 1, true),
	conv(4, 11, 11, 6, 5, 5, 3, 2, 1, 2, false),                                            // groups
	conv(4, 9, 10, 4, 3, 3, 1, 2, 2, 1, false),                                             // dilation
	conv(6, 8, 7, 6, 3, 3, 1, 1, 1, 3, true),                                               // groups 3
	conv(5, 6, 6, 7, 1, 1, 1, 0, 1, 1, false),                                              // 1x1 fast path
	conv(4, 6, 5, 6, 1, 1, 1, 0, 1, 2, true),                                               // 1x1 grouped
	conv(5, 9, 9, 3, 1, 1, 2, 0, 1, 1, false),                                              // 1x1 strided
	conv(3, 15, 15, 4, 11, 11, 4, 0, 1, 1, true),                                           // conv1-like
	conv(2, 23, 23, 3, 5, 5, 4, 2, 1, 1, false),                                            // stride 4, rows long enough for the unrolled gather
	conv(2, 5, 6, 3, 2, 4, 2, 3, 1, 1, false),                                              // rectangular kernel, padding > kernel/2
	conv(2, 5, 5, 3, 2, 2, 1, 2, 1, 1, false),                                              // stride 1, padding > kernel-1: BackwardData via col2im
	{C: 2, H: 6, W: 5, K: 3, KH: 3, KW: 1, SH: 1, SW: 1, DH: 1, DW: 1, G: 1, OH: 4, OW: 5}, // OW == W, OH < H
	{C: 2, H: 6, W: 7, K: 2, KH: 5, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 4, OW: 7},
	{C: 2, H: 7, W: 9, K: 3, KH: 3, KW: 2, SH: 2, SW: 3, PH: 1, PW: 0, DH: 1, DW: 2, G: 1, OH: 4, OW: 3},
	conv(2, 9, 40, 3, 3, 3, 2, 1, 1, 1, false), // stride 2, rows wide enough for the vector gather
	conv(2, 11, 75, 3, 5, 5, 4, 2, 1, 1, true), // stride 4, the same
	conv(2, 1, 40, 3, 5, 5, 2, 2, 1, 1, false), // taps wholly in the padding rows
	conv(3, 8, 8, 20, 3, 3, 1, 1, 1, 1, true),  // several MR strips of output channels: a batch of one splits them
	conv(4, 9, 9, 34, 3, 3, 2, 1, 1, 2, false), // the same, strided and grouped
	conv(6, 5, 5, 20, 1, 1, 1, 0, 1, 1, true),  // 1x1 with several strips of output channels
}

func TestConvValidate(t *testing.T) {
	for _, c := range convCases {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	bad := conv(3, 7, 7, 4, 3, 3, 1, 1, 1, 1, false)
	bad.OH++
	if bad.Validate() == nil {
		t.Error("wrong OH accepted")
	}
	bad = conv(3, 7, 7, 4, 3, 3, 1, 1, 1, 2, false)
	if bad.Validate() == nil {
		t.Error("groups not dividing C accepted")
	}
}

// TestConvFastVsRef compares the im2col+gemm kernels with the naive loops,
// with 1 and 2 workers and with a batch of 3.
func TestConvFastVsRef(t *testing.T) {
	r := newRand(1)
	for ci, c := range convCases {
		for _, workers := range []int{1, 2, 3} {
			for mode, name := range []string{"plain", "packed", "indirect", "default"} {
				block := []int{1 << 18, 1, 100}[(ci+workers+mode)%3] // 1: one output row per im2col block
				minC := []int{1, 1 << 30}[(workers+mode)%2]          // BackwardData as a conv, or col2im
				// A batch of one splits the output channels among the
				// workers when there are fewer row blocks than workers.
				n := []int{3, 1}[(ci+mode)%2]
				t.Run(fmt.Sprintf("%d/w%d/block%d/minC%d/%s/n%d", ci, workers, block, minC, name, n), func(t *testing.T) {
					defer SetWorkers(SetWorkers(workers))
					defer parallelConvs()()
					defer func(old, oldC int, oldP, oldI, oldR, oldM, oldA bool) {
						colBlock, dataAsConvMinC, convPacked, convIndirect, convRows, convImages, convUnpackedA = old, oldC, oldP, oldI, oldR, oldM, oldA
					}(colBlock, dataAsConvMinC, convPacked, convIndirect, convRows, convImages, convUnpackedA)
					colBlock, dataAsConvMinC = block, minC
					// packed: packed forward with packed weights
					// (several images per product for small maps),
					// filterPacked; indirect: indirect forward
					// (stride 1) reading the weights in place,
					// filterRows; default: all of the fast paths, as
					// the generated code runs them
					convPacked, convIndirect, convRows, convImages, convUnpackedA = mode > 0, mode > 1, mode > 1, mode == 1 || mode == 3, mode > 1
					testConvFastVsRef(t, r, c, n)
				})
			}
		}
	}
}

func testConvFastVsRef(t *testing.T, r *rand.Rand, c Conv, n int) {
	x := randSlice(r, n*c.inSize())
	w := randSlice(r, c.wSize())
	b := randSlice(r, c.K)
	dy := randSlice(r, n*c.outSize())
	sc := make([]float32, c.ScratchSize(n))

	yRef, y := make([]float32, n*c.outSize()), make([]float32, n*c.outSize())
	c.ForwardRef(n, x, w, b, yRef)
	c.Forward(n, x, w, b, y, sc)
	closeRel(t, "y", y, yRef, 1e-5)
	c.ForwardRef(n, x, w, nil, yRef)
	c.Forward(n, x, w, nil, y, sc)
	closeRel(t, "y (no bias)", y, yRef, 1e-5)

	dxRef, dx := randSlice(r, n*c.inSize()), make([]float32, n*c.inSize())
	copy(dx, dxRef) // accumulate onto the same initial values
	c.BackwardDataRef(n, dy, w, dxRef)
	c.BackwardData(n, dy, w, dx, sc)
	closeRel(t, "dx", dx, dxRef, 1e-5)

	dwRef, dbRef := randSlice(r, c.wSize()), randSlice(r, c.K)
	dw, db := append([]float32(nil), dwRef...), append([]float32(nil), dbRef...)
	c.BackwardFilterRef(n, x, dy, dwRef, dbRef)
	c.BackwardFilter(n, x, dy, dw, db, sc)
	closeRel(t, "dw", dw, dwRef, 1e-5)
	closeRel(t, "db", db, dbRef, 1e-5)
	c.BackwardFilter(n, x, dy, dw, nil, sc)
	c.BackwardFilterRef(n, x, dy, dwRef, nil)
	closeRel(t, "dw (no db)", dw, dwRef, 1e-5)
}

// TestConvKernels runs the fast paths with every micro-kernel this machine
// has (gemm.UseKernel), so that the code paths of other CPUs (MR 6 and NR
// 16 of AVX2, the pure-Go 4x4; no unpacked-A products, MulRows or vector
// gathers) are checked here too.
func TestConvKernels(t *testing.T) {
	r := newRand(6)
	for _, name := range gemm.Kernels() {
		t.Run(name, func(t *testing.T) {
			prev, _ := gemm.UseKernel(name)
			defer gemm.UseKernel(prev)
			defer SetWorkers(SetWorkers(2))
			defer parallelConvs()()
			defer parallelConvs()()
			for ci, c := range convCases {
				for _, n := range []int{1, 3} {
					t.Run(fmt.Sprintf("%d/n%d", ci, n), func(t *testing.T) { testConvFastVsRef(t, r, c, n) })
				}
			}
		})
	}
}

// TestConvScratchSmall: a scratch buffer for one worker still works.
func TestConvScratchSmall(t *testing.T) {
	defer SetWorkers(SetWorkers(2))
	defer parallelConvs()()
	r := newRand(2)
	c := convCases[2]
	n := 4
	x, dy := randSlice(r, n*c.inSize()), randSlice(r, n*c.outSize())
	sc := make([]float32, c.ScratchSize(1))
	dw, dwRef := make([]float32, c.wSize()), make([]float32, c.wSize())
	c.BackwardFilter(n, x, dy, dw, nil, sc)
	c.BackwardFilterRef(n, x, dy, dwRef, nil)
	closeRel(t, "dw", dw, dwRef, 1e-5)
	defer func() {
		if recover() == nil {
			t.Error("no panic for a scratch buffer that is too small")
		}
	}()
	c.BackwardFilter(n, x, dy, dw, nil, sc[:1])
}

// TestConvGrad checks the reference backward kernels with central
// differences of L = sum(y * r).
func TestConvGrad(t *testing.T) {
	r := newRand(3)
	for ci, c := range convCases {
		c.ReLU = false
		n := 2
		x, w, b := randSlice(r, n*c.inSize()), randSlice(r, c.wSize()), randSlice(r, c.K)
		rr := randSlice(r, n*c.outSize())
		y := make([]float32, n*c.outSize())
		loss := func() float64 { c.ForwardRef(n, x, w, b, y); return dot64(y, rr) }
		dx, dw, db := make([]float32, len(x)), make([]float32, len(w)), make([]float32, len(b))
		c.BackwardDataRef(n, rr, w, dx)
		c.BackwardFilterRef(n, x, rr, dw, db)
		gradCheck(t, fmt.Sprintf("conv%d.dx", ci), x, dx, loss, 1e-2, 1e-3)
		gradCheck(t, fmt.Sprintf("conv%d.dw", ci), w, dw, loss, 1e-2, 1e-3)
		gradCheck(t, fmt.Sprintf("conv%d.db", ci), b, db, loss, 1e-2, 1e-3)
	}
}

func TestConvAllocs(t *testing.T) {
	defer SetWorkers(SetWorkers(2))
	defer parallelConvs()()
	r := newRand(4)
	// stride 1 (indirect forward, filterRows), 1x1, stride 2 and 4 (packed
	// forward, vector gathers), several channel strips with a batch of one
	// (the forward's channel split)
	for _, c := range []Conv{convCases[0], convCases[5], convCases[15], convCases[16], convCases[18]} {
		n := 2
		if c.K > 8 {
			n = 1
		}
		x, w, b, dy := randSlice(r, n*c.inSize()), randSlice(r, c.wSize()), randSlice(r, c.K), randSlice(r, n*c.outSize())
		y, dx, dw, db := make([]float32, n*c.outSize()), make([]float32, n*c.inSize()), make([]float32, c.wSize()), make([]float32, c.K)
		sc := make([]float32, c.ScratchSize(n))
		a := testing.AllocsPerRun(50, func() {
			c.Forward(n, x, w, b, y, sc)
			c.BackwardData(n, dy, w, dx, sc)
			c.BackwardFilter(n, x, dy, dw, db, sc)
		})
		if a != 0 {
			t.Errorf("%+v: %v allocations per call", c, a)
		}
	}
}

// TestConvConcurrent: kernels called from several goroutines at once share
// the worker pool safely (run with -race).
func TestConvConcurrent(t *testing.T) {
	defer SetWorkers(SetWorkers(2))
	defer parallelConvs()()
	c := convCases[2]
	n := 4
	r := newRand(5)
	x, w := randSlice(r, n*c.inSize()), randSlice(r, c.wSize())
	want := make([]float32, n*c.outSize())
	c.ForwardRef(n, x, w, nil, want)
	done := make(chan []float32)
	for range 4 {
		go func() {
			y, sc := make([]float32, n*c.outSize()), make([]float32, c.ScratchSize(n))
			for range 20 {
				c.Forward(n, x, w, nil, y, sc)
			}
			done <- y
		}()
	}
	for range 4 {
		closeRel(t, "y", <-done, want, 1e-5)
	}
}
