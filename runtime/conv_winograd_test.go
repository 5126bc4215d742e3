package runtime

import (
	"fmt"
	"testing"

	"github.com/cnnc-dev/cnnc/runtime/gemm"
)

// winoCases are Winograd convs with edges: maps that are not multiples of
// the 4x4 tile, padding 0, 1 and 2, rectangular maps, channel counts that
// are not multiples of the kernels' MR, and chunks of several images.
var winoCases = []Conv{
	{C: 16, H: 8, W: 8, K: 16, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 8, OW: 8},
	{C: 17, H: 13, W: 11, K: 21, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 13, OW: 11, ReLU: true},
	{C: 24, H: 12, W: 10, K: 40, KH: 3, KW: 3, SH: 1, SW: 1, PH: 0, PW: 0, DH: 1, DW: 1, G: 1, OH: 10, OW: 8},
	{C: 32, H: 9, W: 15, K: 19, KH: 3, KW: 3, SH: 1, SW: 1, PH: 2, PW: 1, DH: 1, DW: 1, G: 1, OH: 11, OW: 15, ReLU: true},
	{C: 64, H: 28, W: 28, K: 64, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 28, OW: 28},
}

// TestWinogradVsRef compares ForwardWinograd with the reference kernel
// (float64 sums) at 1, 2 and 3 workers and batches of 1 and 3, with and
// without bias, and its fallback (Forward on w) with the same.
func TestWinogradVsRef(t *testing.T) {
	r := newRand(3)
	for ci, c := range winoCases {
		if err := c.Validate(); err != nil || !c.Winograd() {
			t.Fatalf("case %d: %v (Winograd %v)", ci, err, c.Winograd())
		}
		x1 := randSlice(r, 3*c.inSize())
		w := randSlice(r, c.wSize())
		b := randSlice(r, c.K)
		u := make([]float32, c.WinogradSize())
		c.WinogradWeights(w, u)
		for _, workers := range []int{1, 2, 3} {
			for _, n := range []int{1, 3} {
				for _, fallback := range []bool{false, true} {
					t.Run(fmt.Sprintf("%d/w%d/n%d/fallback=%v", ci, workers, n, fallback), func(t *testing.T) {
						defer SetWorkers(SetWorkers(workers))
						defer parallelConvs()()
						defer func(old bool, oldT, oldW int) {
							convWinograd, winoMinTiles, winoMinWork = old, oldT, oldW
						}(convWinograd, winoMinTiles, winoMinWork)
						convWinograd, winoMinTiles, winoMinWork = !fallback, 0, 0
						defer func(old int) { dataAsConvMinC = old }(dataAsConvMinC)
						dataAsConvMinC = 1 // BackwardData as a conv from 16 channels
						x := x1[:n*c.inSize()]
						sc := make([]float32, c.ScratchSize(n))
						yRef, y := make([]float32, n*c.outSize()), make([]float32, n*c.outSize())
						c.ForwardRef(n, x, w, b, yRef)
						c.ForwardWinograd(n, x, w, u, b, y, sc)
						closeRel(t, "y", y, yRef, 1e-5)
						c.ForwardRef(n, x, w, nil, yRef)
						c.ForwardWinograd(n, x, w, u, nil, y, sc)
						closeRel(t, "y (no bias)", y, yRef, 1e-5)
						// Training: the weights' transform in the scratch.
						c.ForwardRef(n, x, w, b, yRef)
						c.ForwardWinograd(n, x, w, nil, b, y, sc)
						closeRel(t, "y (u nil)", y, yRef, 1e-5)
						// BackwardData as the transposed conv's Winograd
						// forward, accumulating onto dx.
						dy := randSlice(r, n*c.outSize())
						dxRef := randSlice(r, n*c.inSize())
						dx := append([]float32(nil), dxRef...)
						c.BackwardDataRef(n, dy, w, dxRef)
						c.BackwardData(n, dy, w, dx, sc)
						closeRel(t, "dx", dx, dxRef, 1e-5)
					})
				}
			}
		}
	}
}

// TestWinogradZooError measures, on the Winograd layers of VGG16 and
// ResNet-50 at their sizes (one image), the error of ForwardWinograd and of
// Forward against the float64 reference, relative to max |y|, with inputs
// and weights scaled as He's initialisation does. Winograd's must stay
// within 4e-6 (it is about 10 times Forward's: both are logged).
func TestWinogradZooError(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	if !gemm.Native() {
		t.Skip("another gemm is in use")
	}
	r := newRand(4)
	for _, c := range []Conv{
		{C: 64, H: 56, W: 56, K: 64, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 56, OW: 56},
		{C: 256, H: 28, W: 28, K: 256, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 28, OW: 28},
		{C: 512, H: 14, W: 14, K: 512, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 14, OW: 14},
	} {
		x := randSlice(r, c.inSize())
		w := randSlice(r, c.wSize())
		for i := range w {
			w[i] *= float32(3.5 / float64(9*c.C)) // He's uniform bound, sqrt(6/fan_in), roughly
		}
		b := randSlice(r, c.K)
		u := make([]float32, c.WinogradSize())
		c.WinogradWeights(w, u)
		sc := make([]float32, c.ScratchSize(1))
		yRef, yW, yF := make([]float32, c.outSize()), make([]float32, c.outSize()), make([]float32, c.outSize())
		c.ForwardRef(1, x, w, b, yRef)
		c.ForwardWinograd(1, x, w, u, b, yW, sc)
		c.Forward(1, x, w, b, yF, sc)
		ew := closeRel(t, "winograd", yW, yRef, 4e-6)
		ef := closeRel(t, "forward", yF, yRef, 1e-6)
		t.Logf("C=K=%d %dx%d: max |diff| / max |y|: winograd %.3g, forward %.3g (%.1fx)", c.C, c.H, c.W, ew, ef, ew/ef)
	}
}

// winoBenchCases are the 3x3 stride-1 layers of VGG16 and the ResNets.
var winoBenchCases = []Conv{
	{C: 64, H: 224, W: 224, K: 64, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 224, OW: 224, ReLU: true},
	{C: 128, H: 112, W: 112, K: 128, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 112, OW: 112, ReLU: true},
	{C: 64, H: 56, W: 56, K: 64, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 56, OW: 56, ReLU: true},
	{C: 256, H: 56, W: 56, K: 256, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 56, OW: 56, ReLU: true},
	{C: 128, H: 28, W: 28, K: 128, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 28, OW: 28, ReLU: true},
	{C: 512, H: 28, W: 28, K: 512, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 28, OW: 28, ReLU: true},
	{C: 256, H: 14, W: 14, K: 256, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 14, OW: 14, ReLU: true},
	{C: 512, H: 14, W: 14, K: 512, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 14, OW: 14, ReLU: true},
}

// BenchmarkWinograd times ForwardWinograd against Forward on the layers of
// winoBenchCases at batches 1 and 8 (GFLOP/s counts the direct
// convolution's multiply-adds for both, so the ratio is the speed-up):
// BenchmarkWinograd/<C>x<H>/n=<n>/<winograd|forward>.
func BenchmarkWinograd(b *testing.B) {
	r := newRand(5)
	for _, c := range winoBenchCases {
		for _, n := range []int{1, 8} {
			x := randSlice(r, n*c.inSize())
			w := randSlice(r, c.wSize())
			bias := randSlice(r, c.K)
			u := make([]float32, c.WinogradSize())
			c.WinogradWeights(w, u)
			sc := make([]float32, c.ScratchSize(n))
			y := make([]float32, n*c.outSize())
			for _, way := range []string{"winograd", "forward"} {
				b.Run(fmt.Sprintf("%dx%d/n=%d/%s", c.C, c.H, n, way), func(b *testing.B) {
					for b.Loop() {
						if way == "winograd" {
							c.ForwardWinograd(n, x, w, u, bias, y, sc)
						} else {
							c.Forward(n, x, w, bias, y, sc)
						}
					}
					b.ReportMetric(2*float64(n*c.MACs())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// Bᵀ and Aᵀ, the matrices winoBT and winoAT apply.
var (
	winoBTm = [winoA * winoA]float32{
		4, 0, -5, 0, 1, 0,
		0, -4, -4, 1, 1, 0,
		0, 4, -4, -1, 1, 0,
		0, -2, -1, 2, 1, 0,
		0, 2, -1, -2, 1, 0,
		0, 4, 0, -5, 0, 1,
	}
	winoATm = [winoM * winoA]float32{
		1, 1, 1, 1, 1, 0,
		0, 1, -1, 2, -2, 0,
		0, 1, 1, 4, 4, 0,
		0, 1, -1, 8, -8, 1,
	}
)

// TestWinoTransforms compares winoBT and winoAT (vectorised where the CPU
// has AVX2 and FMA and n is a multiple of 8, in Go otherwise) with the
// products by the matrices Bᵀ and Aᵀ in float64.
func TestWinoTransforms(t *testing.T) {
	r := newRand(6)
	for _, tr := range []struct {
		name string
		m    []float32
		rows int
		f    func([]float32, *[winoA]int, []float32, int, int)
	}{{"BT", winoBTm[:], winoA, winoBT}, {"AT", winoATm[:], winoM, winoAT}} {
		for _, n := range []int{1, 7, 8, 16, 40, 96} {
			ins, outs := n+3, n+5
			offs := &[winoA]int{0, ins, 2 * ins, 3 * ins, 1, ins + 1} // as winoInput's second pass
			in := randSlice(r, 4*ins+n)
			got, want := make([]float32, (tr.rows-1)*outs+n), make([]float32, (tr.rows-1)*outs+n)
			tr.f(in, offs, got, outs, n)
			for i := range tr.rows {
				for l := range n {
					var s float64
					for j := range winoA {
						s += float64(tr.m[i*winoA+j]) * float64(in[offs[j]+l])
					}
					want[i*outs+l] = float32(s)
				}
			}
			closeRel(t, fmt.Sprintf("%s n %d", tr.name, n), got, want, 1e-6)
		}
	}
}

// TestWinoDeint checks winoDeintRow and winoIntRow (vectorised for each 8
// tiles where the CPU has AVX2) against their definitions, and that one
// undoes the other.
func TestWinoDeint(t *testing.T) {
	r := newRand(7)
	for n := 1; n <= 27; n++ {
		lds := n + 2
		src := randSlice(r, 4*n)
		ph := make([]float32, 4*lds)
		winoDeintRow(src, n, ph, lds)
		for i := range n {
			for p := range 4 {
				if ph[p*lds+i] != src[4*i+p] {
					t.Fatalf("n %d: phase %d of tile %d is %v, want %v", n, p, i, ph[p*lds+i], src[4*i+p])
				}
			}
		}
		back := make([]float32, 4*n)
		winoIntRow(ph, lds, n, back)
		for i := range back {
			if back[i] != src[i] {
				t.Fatalf("n %d: winoIntRow(winoDeintRow(x))[%d] = %v, want %v", n, i, back[i], src[i])
			}
		}
	}
}
