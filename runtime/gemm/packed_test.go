package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// TestPanels: for every usable kernel, Mul on operands packed by PackA and
// by PackB, and on a B written element by element through BRow (as the
// convolution's im2col writes it), matches the float64 reference; shapes
// cover partial strips and several k blocks (k up to 700, KC 256).
func TestPanels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cases := 40
	if testing.Short() {
		cases = 10
	}
	for i := range cases {
		maxDim := 120
		if i%4 == 0 {
			maxDim = 700
		}
		g := randCase(rng, maxDim)
		g.alpha = 1
		if i%3 == 0 {
			g.m, g.n, g.k = 1+rng.IntN(20), 1+rng.IntN(20), 1+rng.IntN(20)
			g.lda, g.ldb, g.ldc = 20+rng.IntN(3), 20+rng.IntN(3), 20+rng.IntN(3)
		}
		a, b, c0 := g.operands(rng)
		for _, kn := range usable {
			p := Panels{kn}
			ap := make([]float32, p.ASize(g.m, g.k))
			p.PackA(g.tA, g.m, g.k, a, g.lda, ap)
			bp := make([]float32, p.BSize(g.k, g.n))
			p.PackB(g.tB, g.k, g.n, b, g.ldb, bp)
			got := copyOf(c0)
			p.Mul(g.m, g.n, g.k, ap, bp, g.beta, got, g.ldc)
			g.check(t, kn.name+" Mul(PackA, PackB)", a, b, c0, got)
			// The same by two row parts: the same bits.
			split := min(g.m, rng.IntN(g.m/kn.mr+1)*kn.mr)
			parts := copyOf(c0)
			p.MulPart(0, split, g.m, g.n, g.k, ap, bp, g.beta, parts, g.ldc)
			p.MulPart(split, g.m, g.m, g.n, g.k, ap, bp, g.beta, parts, g.ldc)
			for j := range parts {
				if parts[j] != got[j] && !(parts[j] != parts[j] && got[j] != got[j]) {
					t.Fatalf("%s %v: MulPart split at %d differs from Mul at %d: %v, %v", kn.name, g, split, j, parts[j], got[j])
				}
			}
			// A unpacked (the rows of op(A) written out): the same bits.
			if p.HasUnpackedA() {
				au := g.rowsOfA(a)
				un := copyOf(c0)
				p.MulPartA(0, split, g.m, g.n, g.k, au, g.k, bp, g.beta, un, g.ldc)
				p.MulPartA(split, g.m, g.m, g.n, g.k, au, g.k, bp, g.beta, un, g.ldc)
				sameBits(t, kn.name+" MulPartA", un, got)
			}

			// The same B through BRow: every element written once, the
			// padding (columns beyond n) zero as PackB leaves it.
			bq := make([]float32, len(bp))
			for j := range bq {
				bq[j] = 777
			}
			bT := g.tB != blas.NoTrans
			np := roundUp(g.n, kn.nr)
			for q := 0; q < g.k; q++ {
				off, stride := p.BRow(g.k, g.n, q)
				for j := 0; j < np; j++ {
					v := float32(0)
					if j < g.n {
						v = float32(at(b, g.ldb, bT, q, j))
					}
					bq[off+j/kn.nr*stride+j%kn.nr] = v
				}
			}
			for j := range bq {
				if bq[j] != bp[j] {
					t.Fatalf("%s %v: BRow layout differs from PackB at %d: %v, PackB %v", kn.name, g, j, bq[j], bp[j])
				}
			}
		}
	}
}

// TestPanelsNoAllocs: Mul allocates nothing in steady state.
func TestPanelsNoAllocs(t *testing.T) {
	p := Packed()
	m, n, k := 64, 448, 576
	ap, bp, c := make([]float32, p.ASize(m, k)), make([]float32, p.BSize(k, n)), make([]float32, m*n)
	if allocs := testing.AllocsPerRun(10, func() { p.Mul(m, n, k, ap, bp, 1, c, n) }); allocs != 0 {
		t.Errorf("Mul: %v allocations per call", allocs)
	}
}

// TestMulIndirect: for every usable kernel, B rows read at random
// (overlapping, unordered) offsets match the same B written out, for
// shapes with partial strips and several k blocks.
func TestMulIndirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 40 {
		maxDim := 100
		if i%4 == 0 {
			maxDim = 600
		}
		g := randCase(rng, maxDim)
		g.tB, g.alpha, g.ldb = blas.NoTrans, 1, g.n
		a, _, c0 := g.operands(rng)
		for _, kn := range usable {
			p := Panels{kn}
			span := 1 + rng.IntN(3*g.n+10)
			b := make([]float32, span+roundUp(g.n, kn.nr))
			for j := range b {
				b[j] = float32(rng.NormFloat64())
			}
			offs := make([]int32, g.k)
			bm := make([]float32, g.k*g.n) // B written out
			for q := range offs {
				offs[q] = int32(rng.IntN(span))
				copy(bm[q*g.n:(q+1)*g.n], b[offs[q]:])
			}
			ap := make([]float32, p.ASize(g.m, g.k))
			p.PackA(g.tA, g.m, g.k, a, g.lda, ap)
			got := copyOf(c0)
			p.MulIndirect(g.m, g.n, g.k, ap, b, offs, g.beta, got, g.ldc)
			g.check(t, kn.name+" MulIndirect", a, bm, c0, got)
			split := min(g.m, rng.IntN(g.m/kn.mr+1)*kn.mr)
			parts := copyOf(c0)
			p.MulIndirectPart(0, split, g.m, g.n, g.k, ap, b, offs, g.beta, parts, g.ldc)
			p.MulIndirectPart(split, g.m, g.m, g.n, g.k, ap, b, offs, g.beta, parts, g.ldc)
			for j := range parts {
				if parts[j] != got[j] && !(parts[j] != parts[j] && got[j] != got[j]) {
					t.Fatalf("%s %v: MulIndirectPart split at %d differs from MulIndirect at %d: %v, %v", kn.name, g, split, j, parts[j], got[j])
				}
			}
			if p.HasUnpackedA() {
				au := g.rowsOfA(a)
				un := copyOf(c0)
				p.MulIndirectPartA(0, split, g.m, g.n, g.k, au, g.k, b, offs, g.beta, un, g.ldc)
				p.MulIndirectPartA(split, g.m, g.m, g.n, g.k, au, g.k, b, offs, g.beta, un, g.ldc)
				sameBits(t, kn.name+" MulIndirectPartA", un, got)
			}
		}
	}
	// An offset table that reaches beyond b panics instead of reading it.
	p := Packed()
	ap := make([]float32, p.ASize(2, 2))
	if msg := panicMsg(func() {
		p.MulIndirect(2, 3, 2, ap, make([]float32, p.NR()), []int32{0, 1}, 0, make([]float32, 6), 3)
	}); msg == "" {
		t.Error("MulIndirect: no panic for offsets outside b")
	}
}

// TestPackBCols: B packed eight columns at a time from rows of Bᵀ equals
// PackB of the same matrix, for every usable kernel.
func TestPackBCols(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, kn := range usable {
		p := Panels{kn}
		for _, sz := range [][2]int{{1, 1}, {7, 9}, {8, 48}, {300, 50}, {715, 363}, {17, 100}} {
			k, n := sz[0], sz[1]
			lds := k + rng.IntN(3)
			bt := randMat(rng, roundUp(n, 8), k, lds) // Bᵀ: row j is column j of B
			for j := n; j < roundUp(n, 8); j++ {
				clear(bt[j*lds : j*lds+k])
			}
			want := make([]float32, p.BSize(k, n))
			p.PackB(blas.Trans, k, n, bt, lds, want)
			got := make([]float32, len(want))
			for q0 := 0; q0 < roundUp(n, 8); q0 += 8 {
				p.PackBCols(k, n, q0, bt[q0*lds:], lds, got)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s k=%d n=%d: PackBCols differs from PackB at %d: %v, want %v", kn.name, k, n, i, got[i], want[i])
				}
			}
		}
	}
}

// sameBits fails unless got and want hold the same values (NaN matching
// NaN).
func sameBits(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for j := range got {
		if got[j] != want[j] && !(got[j] != got[j] && want[j] != want[j]) {
			t.Fatalf("%s: element %d is %v, want %v", name, j, got[j], want[j])
		}
	}
}

// TestPackBAt: B packed from pieces of columns equals PackB of the whole.
func TestPackBAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, kn := range usable {
		p := Panels{kn}
		for _, sz := range [][2]int{{1, 1}, {5, 49}, {64, 196}, {300, 100}} {
			k, n := sz[0], sz[1]
			b := randMat(rng, k, n, n)
			want := make([]float32, p.BSize(k, n))
			p.PackB(blas.NoTrans, k, n, b, n, want)
			got := make([]float32, len(want))
			for i := range got {
				got[i] = 777
			}
			for j0 := 0; j0 < n; {
				cols := min(n-j0, 1+rng.IntN(60))
				p.PackBAt(k, n, j0, cols, b[j0:], n, got)
				j0 += cols
			}
			sameBits(t, fmt.Sprintf("%s k=%d n=%d PackBAt", kn.name, k, n), got, want)
		}
	}
}

// rowsOfA writes op(A) of the case out row-major (m×k, leading dimension k),
// the unpacked A of MulPartA and MulIndirectPartA.
func (g gemmCase) rowsOfA(a []float32) []float32 {
	au := make([]float32, g.m*g.k)
	for r := 0; r < g.m; r++ {
		for q := 0; q < g.k; q++ {
			au[r*g.k+q] = float32(at(a, g.lda, g.tA != blas.NoTrans, r, q))
		}
	}
	return au
}
