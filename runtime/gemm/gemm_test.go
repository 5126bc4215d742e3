package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Tolerance: every element of C must satisfy
//
//	|got - ref| <= tolRel * (|alpha| * sum_p |A[i][p]*B[p][j]| + |beta*C[i][j]|) + tolAbs
//
// where ref is computed in float64. float32 accumulation over k <= 300 terms
// stays far below this bound (the worst case is about k*2^-24 ≈ 1.8e-5; the
// observed maximum is printed by the tests with -v).
const (
	tolRel = 2e-5
	tolAbs = 1e-30
)

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans}

// mat is a random op(X) stored with leading dimension ld (>= needed), with
// the padding filled with a sentinel.
func randMat(rng *rand.Rand, rows, cols, ld int) []float32 {
	if rows == 0 {
		return nil
	}
	s := make([]float32, (rows-1)*ld+cols)
	for i := range s {
		s[i] = 999 // padding sentinel
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			s[i*ld+j] = float32(rng.NormFloat64())
		}
	}
	return s
}

type gemmCase struct {
	tA, tB      blas.Transpose
	m, n, k     int
	alpha, beta float32
	lda, ldb    int
	ldc         int
}

func (g gemmCase) String() string {
	t := func(x blas.Transpose) string {
		switch x {
		case blas.NoTrans:
			return "N"
		case blas.ConjTrans:
			return "C"
		}
		return "T"
	}
	return fmt.Sprintf("%s%s m=%d n=%d k=%d alpha=%g beta=%g lda=%d ldb=%d ldc=%d",
		t(g.tA), t(g.tB), g.m, g.n, g.k, g.alpha, g.beta, g.lda, g.ldb, g.ldc)
}

// operands makes A, B, C for the case; A is stored m×k (k×m if
// transposed), B k×n (n×k if transposed).
func (g gemmCase) operands(rng *rand.Rand) (a, b, c []float32) {
	if g.tA == blas.NoTrans {
		a = randMat(rng, g.m, g.k, g.lda)
	} else {
		a = randMat(rng, g.k, g.m, g.lda)
	}
	if g.tB == blas.NoTrans {
		b = randMat(rng, g.k, g.n, g.ldb)
	} else {
		b = randMat(rng, g.n, g.k, g.ldb)
	}
	c = randMat(rng, g.m, g.n, g.ldc)
	return a, b, c
}

func at(x []float32, ld int, trans bool, i, j int) float64 {
	if trans {
		return float64(x[j*ld+i])
	}
	return float64(x[i*ld+j])
}

// check compares got (the result of the case on c0) with a float64
// reference and returns the largest error relative to the bound's scale.
func (g gemmCase) check(t *testing.T, name string, a, b, c0, got []float32) float64 {
	t.Helper()
	aT, bT := g.tA != blas.NoTrans, g.tB != blas.NoTrans
	worst := 0.0
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.ldc; j++ {
			idx := i*g.ldc + j
			if idx >= len(got) {
				break
			}
			if j >= g.n {
				if got[idx] != c0[idx] {
					t.Fatalf("%s %v: C[%d][%d] outside n changed: %v -> %v", name, g, i, j, c0[idx], got[idx])
				}
				continue
			}
			var sum, mag float64
			for p := 0; p < g.k; p++ {
				v := at(a, g.lda, aT, i, p) * at(b, g.ldb, bT, p, j)
				sum += v
				mag += math.Abs(v)
			}
			ref := float64(g.alpha) * sum
			mag *= math.Abs(float64(g.alpha))
			if g.beta != 0 {
				ref += float64(g.beta) * float64(c0[idx])
				mag += math.Abs(float64(g.beta) * float64(c0[idx]))
			}
			diff := math.Abs(float64(got[idx]) - ref)
			if !(diff <= tolRel*mag+tolAbs) {
				t.Fatalf("%s %v: C[%d][%d] = %v, want %v (diff %.3g, bound %.3g)", name, g, i, j, got[idx], ref, diff, tolRel*mag+tolAbs)
			}
			if mag > 0 {
				worst = max(worst, diff/mag)
			}
		}
	}
	return worst
}

func randCase(rng *rand.Rand, maxDim int) gemmCase {
	alphas := []float32{1, 0, -1, 0.5, 2.5}
	betas := []float32{0, 1, -0.5, 2}
	// ConjTrans is Trans for real matrices.
	trans := []blas.Transpose{blas.NoTrans, blas.Trans, blas.NoTrans, blas.ConjTrans}
	g := gemmCase{
		tA: trans[rng.IntN(4)], tB: trans[rng.IntN(4)],
		m: 1 + rng.IntN(maxDim), n: 1 + rng.IntN(maxDim), k: 1 + rng.IntN(maxDim),
		alpha: alphas[rng.IntN(len(alphas))], beta: betas[rng.IntN(len(betas))],
	}
	pad := func() int {
		if rng.IntN(2) == 0 {
			return 0
		}
		return 1 + rng.IntN(7)
	}
	g.lda, g.ldb, g.ldc = g.k, g.n, g.n
	if g.tA != blas.NoTrans {
		g.lda = g.m
	}
	if g.tB != blas.NoTrans {
		g.ldb = g.k
	}
	g.lda += pad()
	g.ldb += pad()
	g.ldc += pad()
	return g
}

func copyOf(x []float32) []float32 { return append([]float32(nil), x...) }

func (g gemmCase) run(s Sgemmer, a, b, c []float32) {
	s.Sgemm(g.tA, g.tB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, c, g.ldc)
}

// kernelImpl runs Sgemm with one particular micro-kernel.
type kernelImpl struct{ k *kernel }

func (ki kernelImpl) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(ki.k, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// TestSgemmRandom checks every usable micro-kernel and gonum against the
// float64 reference on random shapes (1..300), transposes, alpha, beta and
// leading dimensions, and ours against gonum.
func TestSgemmRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := 60
	if testing.Short() {
		cases = 15
	}
	worst := map[string]float64{}
	for range cases {
		maxDim := 300
		if rng.IntN(3) == 0 {
			maxDim = 20
		}
		g := randCase(rng, maxDim)
		a, b, c0 := g.operands(rng)
		want := copyOf(c0)
		g.run(gonum.Implementation{}, a, b, want)
		worst["gonum"] = max(worst["gonum"], g.check(t, "gonum", a, b, c0, want))
		for _, kn := range usable {
			got := copyOf(c0)
			g.run(kernelImpl{kn}, a, b, got)
			worst[kn.name] = max(worst[kn.name], g.check(t, kn.name, a, b, c0, got))
			// Against gonum directly: both within the bound of the reference.
			for i := range got {
				if d := math.Abs(float64(got[i]) - float64(want[i])); d > 1e-3*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("%s %v: C[%d] = %v, gonum %v", kn.name, g, i, got[i], want[i])
				}
			}
		}
	}
	for name, w := range worst {
		t.Logf("%-14s max |got-ref| / (|alpha| sum|a*b| + |beta*c|) = %.3g (tolerance %g)", name, w, tolRel)
	}
}

// TestSgemmEdges covers sizes 0 and 1, sizes around the tile and block
// sizes of every kernel, and the parallel split.
func TestSgemmEdges(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	dims := map[int]bool{0: true, 1: true, 2: true}
	for _, kn := range usable {
		for _, d := range []int{kn.mr, kn.nr, kn.kc, 16, 32, kn.nr + 16, kn.nr + 32} {
			dims[d-1], dims[d], dims[d+1] = true, true, true
		}
	}
	var ds []int
	for d := range dims {
		if d >= 0 {
			ds = append(ds, d)
		}
	}
	for _, kn := range usable {
		for _, m := range ds {
			for _, n := range []int{1, 16, kn.nr + 1, kn.nr + 32, 2*kn.nr - 1} {
				k := ds[rng.IntN(len(ds))]
				g := gemmCase{tA: transposes[rng.IntN(2)], tB: transposes[rng.IntN(2)], m: m, n: n, k: k, alpha: 1.5, beta: 0.5}
				g.lda, g.ldb, g.ldc = max(1, k), max(1, n), max(1, n)
				if g.tA == blas.Trans {
					g.lda = max(1, m)
				}
				if g.tB == blas.Trans {
					g.ldb = max(1, k)
				}
				a, b, c0 := g.operands(rng)
				got := copyOf(c0)
				g.run(kernelImpl{kn}, a, b, got)
				g.check(t, kn.name, a, b, c0, got)
			}
		}
	}
	// Large enough for the worker pool, split by rows and by columns.
	for _, g := range []gemmCase{
		{m: 300, n: 37, k: 200, alpha: 1, beta: 0},
		{m: 37, n: 500, k: 120, alpha: -1, beta: 1},
		{m: 200, n: 200, k: 700, alpha: 1, beta: 0.25},
	} {
		g.tA, g.tB = blas.NoTrans, blas.NoTrans
		g.lda, g.ldb, g.ldc = g.k, g.n, g.n
		a, b, c0 := g.operands(rng)
		got := copyOf(c0)
		g.run(Implementation{}, a, b, got)
		g.check(t, "parallel", a, b, c0, got)
	}
}

// TestBetaZeroIgnoresC: with beta == 0, NaN and Inf in C must not reach
// the result (C is not read), also for alpha == 0 and k == 0.
func TestBetaZeroIgnoresC(t *testing.T) {
	for _, kn := range usable {
		for _, sz := range [][3]int{{5, 7, 3}, {kn.mr, kn.nr, 9}, {70, 130, 40}, {4, 4, 0}} {
			for _, alpha := range []float32{1, 0} {
				m, n, k := sz[0], sz[1], sz[2]
				a := make([]float32, m*max(1, k))
				b := make([]float32, max(1, k*n))
				for i := range a {
					a[i] = 1
				}
				for i := range b {
					b[i] = 2
				}
				c := make([]float32, m*n)
				for i := range c {
					c[i] = float32(math.NaN())
					if i%2 == 1 {
						c[i] = float32(math.Inf(-1))
					}
				}
				sgemm(kn, blas.NoTrans, blas.NoTrans, m, n, k, alpha, a, max(1, k), b, n, 0, c, n)
				want := alpha * float32(2*k)
				for i, v := range c {
					if v != want {
						t.Fatalf("%s m=%d n=%d k=%d alpha=%g: C[%d] = %v, want %v", kn.name, m, n, k, alpha, i, v, want)
					}
				}
			}
		}
	}
}

// TestKernels compares every usable micro-kernel (assembly included) with
// the generic Go kernel on the same packed panels.
func TestKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, kn := range usable {
		for _, kc := range []int{1, 2, 3, 4, 5, 7, 8, 9, 17, 64, 255} {
			for _, beta := range []float32{0, 1, -0.75} {
				a := randMat(rng, 1, kc*kn.mr, kc*kn.mr)
				ldb := kn.nr + rng.IntN(2)*(1+rng.IntN(40)) // packed or in place
				b := randMat(rng, kc, kn.nr, ldb)
				ldc := kn.nr + 3
				c0 := randMat(rng, kn.mr, ldc, ldc)
				got, want := copyOf(c0), copyOf(c0)
				kn.fn(kc, &a[0], &b[0], ldb, &got[0], ldc, 1.25, beta)
				kernelGeneric(kn.mr, kn.nr, kc, a, b, ldb, want, ldc, 1.25, beta)
				for i := range got {
					scale := 1e-6 * float64(kc) * (1 + math.Abs(float64(want[i])))
					if math.Abs(float64(got[i]-want[i])) > scale {
						t.Fatalf("%s kc=%d beta=%g: c[%d] = %v, generic %v", kn.name, kc, beta, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestEdgeKernels compares the narrow kernels for the last strip of B with
// the generic Go kernel on packed panels (ldb = nr of the main kernel).
func TestEdgeKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, kn := range usable {
		for _, e := range kn.edge {
			for _, kc := range []int{1, 3, 4, 9, 100} {
				for _, beta := range []float32{0, 1, 0.5} {
					a := randMat(rng, 1, kc*kn.mr, kc*kn.mr)
					b := randMat(rng, kc, kn.nr, kn.nr)
					ldc := e.cols + 5
					c0 := randMat(rng, kn.mr, ldc, ldc)
					got, want := copyOf(c0), copyOf(c0)
					e.fn(kc, &a[0], &b[0], kn.nr, &got[0], ldc, -0.5, beta)
					kernelGeneric(kn.mr, e.cols, kc, a, b, kn.nr, want, ldc, -0.5, beta)
					for i := range got {
						if math.Abs(float64(got[i]-want[i])) > 1e-6*float64(kc)*(1+math.Abs(float64(want[i]))) {
							t.Fatalf("%s edge %d kc=%d beta=%g: c[%d] = %v, generic %v", kn.name, e.cols, kc, beta, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestPuregoAgainstAssembly runs whole products with the pure-Go kernel and
// with the default (assembly where available) one.
func TestPuregoAgainstAssembly(t *testing.T) {
	if best == goKernel {
		t.Skip("no assembly kernel on this platform/build")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 10 {
		g := randCase(rng, 260)
		a, b, c0 := g.operands(rng)
		got, want := copyOf(c0), copyOf(c0)
		g.run(kernelImpl{best}, a, b, got)
		g.run(kernelImpl{goKernel}, a, b, want)
		for i := range got {
			if d := math.Abs(float64(got[i]) - float64(want[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%v: %s C[%d] = %v, %s %v", g, best.name, i, got[i], goKernel.name, want[i])
			}
		}
	}
}

func panicMsg(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// TestPanicsLikeGonum: bad arguments panic with gonum's message, and only
// where gonum panics.
func TestPanicsLikeGonum(t *testing.T) {
	buf := make([]float32, 100)
	type args struct {
		tA, tB        blas.Transpose
		m, n, k       int
		lda, ldb, ldc int
		la, lb, lc    int
	}
	for _, c := range []args{
		{blas.NoTrans, blas.NoTrans, 3, 4, 5, 5, 4, 4, 100, 100, 100},
		{'x', blas.NoTrans, 3, 4, 5, 5, 4, 4, 100, 100, 100},
		{blas.NoTrans, 0, 3, 4, 5, 5, 4, 4, 100, 100, 100},
		{blas.NoTrans, blas.NoTrans, -1, 4, 5, 5, 4, 4, 100, 100, 100},
		{blas.NoTrans, blas.NoTrans, 3, -1, 5, 5, 4, 4, 100, 100, 100},
		{blas.NoTrans, blas.NoTrans, 3, 4, -1, 5, 4, 4, 100, 100, 100},
		{blas.NoTrans, blas.NoTrans, 3, 4, 5, 4, 4, 4, 100, 100, 100},
		{blas.Trans, blas.NoTrans, 3, 4, 5, 2, 4, 4, 100, 100, 100},
		{blas.NoTrans, blas.NoTrans, 3, 4, 5, 5, 3, 4, 100, 100, 100},
		{blas.NoTrans, blas.Trans, 3, 4, 5, 5, 4, 4, 100, 100, 100},
		{blas.NoTrans, blas.NoTrans, 3, 4, 5, 5, 4, 3, 100, 100, 100},
		{blas.NoTrans, blas.NoTrans, 3, 4, 5, 5, 4, 4, 14, 100, 100},
		{blas.NoTrans, blas.NoTrans, 3, 4, 5, 5, 4, 4, 100, 19, 100},
		{blas.NoTrans, blas.NoTrans, 3, 4, 5, 5, 4, 4, 100, 100, 11},
		{blas.NoTrans, blas.NoTrans, 0, 4, 5, 5, 4, 4, 0, 0, 0},
		{blas.NoTrans, blas.NoTrans, 3, 4, 0, 1, 4, 4, 0, 0, 12},
		{blas.ConjTrans, blas.ConjTrans, 3, 4, 5, 3, 5, 4, 100, 100, 100},
	} {
		call := func(s Sgemmer) string {
			return panicMsg(func() {
				s.Sgemm(c.tA, c.tB, c.m, c.n, c.k, 1, buf[:c.la], c.lda, buf[:c.lb], c.ldb, 0, make([]float32, c.lc), c.ldc)
			})
		}
		got, want := call(Implementation{}), call(gonum.Implementation{})
		if got != want {
			t.Errorf("%+v: panic %q, gonum %q", c, got, want)
		}
	}
}

// TestNoAllocs: steady-state calls allocate nothing, on the calling
// goroutine and through the worker pool.
func TestNoAllocs(t *testing.T) {
	for _, sz := range [][3]int{{33, 47, 29}, {256, 256, 256}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		f := func() { Sgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a, k, b, k, 0.5, c, n) }
		if allocs := testing.AllocsPerRun(20, f); allocs != 0 {
			t.Errorf("m=%d n=%d k=%d: %v allocations per call", m, n, k, allocs)
		}
	}
}

// TestConcurrent: concurrent callers (the pool busy for all but one) get
// correct results.
func TestConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	g := gemmCase{tA: blas.NoTrans, tB: blas.NoTrans, m: 130, n: 150, k: 140, alpha: 1, beta: 0, lda: 140, ldb: 150, ldc: 150}
	a, b, c0 := g.operands(rng)
	want := copyOf(c0)
	g.run(gonum.Implementation{}, a, b, want)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				got := copyOf(c0)
				g.run(Implementation{}, a, b, got)
				for i := range got {
					if math.Abs(float64(got[i]-want[i])) > 1e-3 {
						errs <- fmt.Sprintf("C[%d] = %v, want %v", i, got[i], want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestUse(t *testing.T) {
	old := Use(gonum.Implementation{})
	if _, ok := old.(Implementation); !ok {
		t.Fatalf("default implementation is %T, want gemm.Implementation", old)
	}
	a, b, c := []float32{1, 2}, []float32{3, 4}, []float32{0}
	Sgemm(blas.NoTrans, blas.NoTrans, 1, 1, 2, 1, a, 2, b, 1, 0, c, 1)
	Use(old)
	if c[0] != 11 {
		t.Fatalf("gonum through Use: got %v, want 11", c[0])
	}
}

// TestTranspose8 compares the assembly 8×8 transposer (where there is one)
// with the Go version.
func TestTranspose8(t *testing.T) {
	if transpose8x8 == nil {
		t.Skip("no assembly transposer on this platform/build")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct{ n8, lds, ldd int }{{1, 8, 8}, {3, 29, 8}, {5, 40, 48}, {2, 16, 19}} {
		src := randMat(rng, 8, c.lds, c.lds)
		got := make([]float32, 8*c.n8*c.ldd)
		want := make([]float32, len(got))
		transpose8x8(c.n8, &src[0], c.lds, &got[0], c.ldd)
		transpose8Go(c.n8, src, c.lds, want, c.ldd)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%+v: dst[%d] = %v, want %v", c, i, got[i], want[i])
			}
		}
	}
}

// TestPoolStress hands many small back-to-back products to the worker pool
// (the hand-off races between jobs) and checks them all.
func TestPoolStress(t *testing.T) {
	const m, n, k = 128, 128, 128 // 2^21 multiply-adds: two parts
	rng := rand.New(rand.NewPCG(15, 16))
	a, b := randMat(rng, m, k, k), randMat(rng, k, n, n)
	want := make([]float32, m*n)
	gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, want, n)
	c := make([]float32, m*n)
	calls := 3000
	if testing.Short() {
		calls = 300
	}
	for i := range calls {
		clear(c)
		Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
		for j := range c {
			if math.Abs(float64(c[j]-want[j])) > 1e-3 {
				t.Fatalf("call %d: C[%d] = %v, want %v", i, j, c[j], want[j])
			}
		}
	}
}

// TestBlocking: the scratch sizes assume MC and NC are multiples of the
// tile (blocks never rounds a block past them).
func TestBlocking(t *testing.T) {
	for _, kn := range usable {
		if kn.mc%kn.mr != 0 || kn.nc%kn.nr != 0 || kn.kc < 1 {
			t.Errorf("%s: mc=%d nc=%d kc=%d for a %dx%d tile", kn.name, kn.mc, kn.nc, kn.kc, kn.mr, kn.nr)
		}
		for length := 1; length < 3*kn.mc; length += 7 {
			if b := blocks(length, kn.mc, kn.mr); b > kn.mc || b%kn.mr != 0 {
				t.Fatalf("%s: blocks(%d, %d, %d) = %d", kn.name, length, kn.mc, kn.mr, b)
			}
		}
	}
}
