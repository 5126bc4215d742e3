package runtime

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"github.com/cnnc-dev/cnnc/runtime/gemm"
)

// Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016) for the inference
// forward of 3x3 stride-1 convolutions. The output is cut into 4x4 tiles;
// each tile reads a 6x6 patch d of each input channel, and
//
//	Y = Aᵀ [ Σ_c U(k,c) ⊙ V(c,tile) ] A,   U = G g Gᵀ,  V = Bᵀ d B
//
// so that a tile of 16 outputs costs 36 multiplications per input channel
// instead of 144: the sum over c is 36 matrix products (one per position ξ
// of the 6x6 transform), M_ξ (K x tiles) = U_ξ (K x C) · V_ξ (C x tiles),
// on the gemm's micro-kernels. U depends on the weights only: it is
// computed once by WinogradWeights (the generated package keeps it with the
// bn-folded weights, in Memory.Fold, refreshed by Refold when the
// parameters change). The transforms are plain Go; the products are most of
// the work from 64 channels up.
//
// The rounding differs from the direct convolution's: the transforms'
// constants (1/4, 1/6, 1/24; 4, 5, 8) scale the terms before they are
// summed. TestWinogradVsRef bounds the difference from the reference
// kernel (float64) per layer shape of the zoo.
const (
	winoM  = 4             // outputs per tile side
	winoA  = winoM + 2     // inputs per tile side (alpha)
	winoXi = winoA * winoA // products per tile and channel pair
)

// convWinograd lets ForwardWinograd use the transforms; tests turn it off
// to check that the fallback (Forward on the untransformed weights) gives
// the same result.
var convWinograd = true

// winoMinTiles is the fewest tiles (of all the images of a call) for which
// ForwardWinograd transforms, and winoMinWork the fewest tiles times
// channels (the smaller of C and K): below them the products' 48-column
// strips run mostly empty and the transforms cost more than they save.
// BenchmarkWinograd on one core, time against Forward's: one 14x14 image
// (16 tiles) 2.7 at 256 channels and 1.2 at 512; one 28x28 image (49
// tiles) 1.00 at 128 channels, 0.54 at 512; 56x56 at 64 channels 0.77.
// Tests lower both to 0.
var winoMinTiles, winoMinWork = 48, 48 * 160

// Winograd reports whether c's inference forward runs Winograd's F(4x4,
// 3x3): a 3x3 stride-1 undilated ungrouped convolution with at least 16
// input and output channels on maps of at least 8x8 outputs. Thinner
// layers spend more in the transforms than the products save, and smaller
// maps waste much of their last tile. The generated code asks at
// generation time and calls ForwardWinograd where it holds.
func (c Conv) Winograd() bool {
	return c.KH == 3 && c.KW == 3 && c.SH == 1 && c.SW == 1 && c.DH == 1 && c.DW == 1 && c.G == 1 &&
		c.C >= 16 && c.K >= 16 && c.OH >= 8 && c.OW >= 8
}

// WinogradSize returns the floats of the transformed weights: 36 matrices
// K x C.
func (c Conv) WinogradSize() int { return winoXi * c.K * c.C }

// winoG is G, which turns a 3-tap filter into its 6 transformed values.
var winoG = [winoA][3]float64{
	{1.0 / 4, 0, 0},
	{-1.0 / 6, -1.0 / 6, -1.0 / 6},
	{-1.0 / 6, 1.0 / 6, -1.0 / 6},
	{1.0 / 24, 1.0 / 12, 1.0 / 6},
	{1.0 / 24, -1.0 / 12, 1.0 / 6},
	{0, 0, 1},
}

// WinogradWeights writes U = G g Gᵀ of the weights w (K, C, 3, 3) into u
// (WinogradSize floats): U_ξ is the K x C matrix at u[ξ·K·C:], row k, column
// c. It is computed in float64 and rounded once, filters split among the
// workers.
func (c Conv) WinogradWeights(w, u []float32) {
	if !c.Winograd() {
		panic(fmt.Sprintf("runtime.Conv.WinogradWeights: not a Winograd conv: %+v", c))
	}
	check("Conv.WinogradWeights", "w", w, c.wSize())
	check("Conv.WinogradWeights", "u", u, c.WinogradSize())
	parts := min(c.K, 4*Workers())
	j := planeJob{f: winoWeightsPart, s: [9][]float32{w, u}, pool: Pool{C: c.C, H: c.K, W: parts}}
	runPlanes(parts, c.wSize(), parts, &j)
}

// winoWeightsPart is WinogradWeights for part i of the filters; j.pool
// carries the sizes: C channels, H filters, in W parts.
func winoWeightsPart(j *planeJob, _, i int) {
	w, u := j.s[0], j.s[1]
	cs, ks, parts := j.pool.C, j.pool.H, j.pool.W
	kc := ks * cs
	for k := i * ks / parts; k < (i+1)*ks/parts; k++ {
		for ch := 0; ch < cs; ch++ {
			g := w[(k*cs+ch)*9 : (k*cs+ch)*9+9]
			var gg [winoA][3]float64 // G g
			for a := range winoA {
				for b := range 3 {
					gg[a][b] = winoG[a][0]*float64(g[b]) + winoG[a][1]*float64(g[3+b]) + winoG[a][2]*float64(g[6+b])
				}
			}
			for a := range winoA {
				for b := range winoA {
					v := gg[a][0]*winoG[b][0] + gg[a][1]*winoG[b][1] + gg[a][2]*winoG[b][2]
					u[(a*winoA+b)*kc+k*cs+ch] = float32(v)
				}
			}
		}
	}
}

// winoTiles returns the tiles per image along the height and the width.
func (c Conv) winoTiles() (th, tw int) {
	return (c.OH + winoM - 1) / winoM, (c.OW + winoM - 1) / winoM
}

// winoChunk returns the tiles one work item transforms and multiplies: a
// multiple of the kernel's NR with the item's transformed inputs and
// products (36·(C+K) floats a tile) near 2 MiB, the L2 of one core.
func (c Conv) winoChunk(n int) int {
	nr := gemm.Packed().NR()
	th, tw := c.winoTiles()
	tb := max(nr, (1<<19)/(winoXi*(c.C+c.K))/nr*nr)
	return min(tb, (n*th*tw+nr-1)/nr*nr)
}

// winoLayout returns the floats of one worker's scratch for a chunk of tb
// tiles: the 36 packed V_ξ, the 36 products M_ξ, the transforms' rows
// (winoLanes) and, where the kernels
// cannot read U in place, one packed U_ξ.
func (c Conv) winoLayout(tb int) (vs, ms, per int) {
	p := gemm.Packed()
	vs, ms = p.BSize(c.C, tb), c.K*tb
	_, lanes := c.winoLanes(tb)
	per = winoXi*(vs+ms) + lanes + 8
	if !p.HasUnpackedA() {
		per += p.ASize(c.K, c.C)
	}
	return vs, ms, per
}

// winoScratch returns the scratch of ForwardWinograd at batches up to n
// (with u nil: the transformed weights first), and of BackwardData when it
// runs as the Winograd forward of the transposed conv (the flipped weights,
// then theirs).
func (c Conv) winoScratch(n int) int {
	size := 0
	if c.Winograd() {
		_, _, per := c.winoLayout(c.winoChunk(n))
		size = c.WinogradSize() + per*Workers()
	}
	if t := c.transposed(); c.dataAsConv() && t.Winograd() {
		_, _, per := t.winoLayout(t.winoChunk(n))
		size = max(size, c.wSize()+t.WinogradSize()+per*Workers())
	}
	return size
}

// winoUse reports whether a call on n images runs the transforms: enough
// tiles, convWinograd, and this package's gemm.
func (c Conv) winoUse(n int) bool {
	th, tw := c.winoTiles()
	tiles := n * th * tw
	return convWinograd && gemm.Native() && tiles >= winoMinTiles && tiles*min(c.C, c.K) >= winoMinWork
}

// ForwardWinograd is Forward by Winograd's F(4x4, 3x3): u holds
// WinogradWeights(w) (inference, where the generated code keeps them), or
// is nil, and the transform of w goes into scratch first (training, where
// w changes every step). For too little work (winoUse), or where the
// gemm in use is not this package's (gemm.Use), it runs Forward on w
// instead. scratch must hold ScratchSize floats.
func (c Conv) ForwardWinograd(n int, x, w, u, b, y, scratch []float32) {
	c.mustValid("ForwardWinograd")
	if !c.Winograd() {
		panic(fmt.Sprintf("runtime.Conv.ForwardWinograd: not a Winograd conv: %+v", c))
	}
	check("Conv.ForwardWinograd", "x", x, n*c.inSize())
	check("Conv.ForwardWinograd", "w", w, c.wSize())
	if u != nil {
		check("Conv.ForwardWinograd", "u", u, c.WinogradSize())
	}
	if b != nil {
		check("Conv.ForwardWinograd", "b", b, c.K)
	}
	check("Conv.ForwardWinograd", "y", y, n*c.outSize())
	if !c.winoUse(n) {
		c.Forward(n, x, w, b, y, scratch)
		return
	}
	if u == nil {
		checkMin("Conv.ForwardWinograd", "scratch", scratch, c.WinogradSize())
		u, scratch = scratch[:c.WinogradSize()], scratch[c.WinogradSize():]
		c.WinogradWeights(w, u)
	}
	c.winoRun(n, x, u, b, y, scratch, false)
}

// winoRun runs the transforms and products of ForwardWinograd on the
// workers; with add, y += the convolution (BackwardData).
func (c Conv) winoRun(n int, x, u, b, y, scratch []float32, add bool) {
	th, tw := c.winoTiles()
	tiles := n * th * tw
	tb := c.winoChunk(n)
	chunks := (tiles + tb - 1) / tb
	// Few chunks (small maps, one image) leave workers idle: each chunk's
	// products are then split by rows of K among parts, which transform the
	// chunk's inputs each.
	mr := gemm.Packed().MR()
	parts := 1
	if w := Workers(); chunks < w {
		parts = max(1, min(w/chunks, c.K/(4*mr)))
	}
	_, _, per := c.winoLayout(tb)
	j := winoJobs.get()
	*j = winoJob{c: c, n: n, x: x, u: u, b: b, y: y, scratch: scratch, per: per, tb: tb, tiles: tiles, parts: parts, add: add}
	parallelFor(chunks*parts, convSlots(chunks*parts, chunks*parts, per, scratch, n*c.MACs()), j)
	*j = winoJob{}
	winoJobs.put(j)
}

// winoJob is ForwardWinograd's parallel body: item i is rows part i%parts
// of K for the tiles of chunk i/parts.
type winoJob struct {
	c              Conv
	n              int
	x, u, b, y     []float32
	scratch        []float32
	per, tb, tiles int
	parts          int
	add            bool // y += the result
}

var winoJobs freeList[winoJob]

func (j *winoJob) run(slot, i int) {
	c := &j.c
	p := gemm.Packed()
	t0 := i / j.parts * j.tb
	nt := min(j.tb, j.tiles-t0)
	mr := p.MR()
	rows := (c.K + mr - 1) / mr
	pt := i % j.parts
	k0, k1 := pt*rows/j.parts*mr, min(c.K, (pt+1)*rows/j.parts*mr)
	if k0 >= k1 {
		return
	}
	sc := share(j.scratch, j.per, slot)
	vs, ms := p.BSize(c.C, nt), c.K*nt
	_, lanes := c.winoLanes(j.tb)
	v, m := sc[:winoXi*vs], sc[winoXi*vs:] // m is read a little beyond its end
	buf := sc[winoXi*(vs+ms) : winoXi*(vs+ms)+lanes]
	c.winoInput(j.x, t0, nt, v, vs, buf)
	kc := c.K * c.C
	for xi := range winoXi {
		ui := j.u[xi*kc : (xi+1)*kc]
		vi, mi := v[xi*vs:(xi+1)*vs], m[xi*ms:(xi+1)*ms]
		if p.HasUnpackedA() {
			p.MulPartA(k0, k1, c.K, nt, c.C, ui, c.C, vi, 0, mi, nt)
			continue
		}
		ap := sc[winoXi*(vs+ms)+lanes:]
		p.PackA(blas.NoTrans, c.K, c.C, ui, c.C, ap)
		p.MulPart(k0, k1, c.K, nt, c.C, ap, vi, 0, mi, nt)
	}
	c.winoOutput(m, ms, nt, t0, k0, k1, j.b, j.y, buf, j.add)
}

// The transforms run on whole rows of tiles (winoInput, winoOutput), so
// that each pass of Bᵀ d B and of Aᵀ M A is six rows in, six or four rows
// out, vectorised along the rows: winoBT and winoAT.

// winoBT sets the 6 rows out[i·outs:] (n floats each) to the rows of Bᵀ d
// for the 6 rows d_j = in[offs[j]:] (Bᵀ is TestWinoTransforms' winoBTm),
// with the matrix's common terms shared.
func winoBT(in []float32, offs *[winoA]int, out []float32, outs int, n int) {
	d0, d1, d2, d3, d4, d5 := winoRows(in, offs, out, winoA, outs, n)
	if hasAVX2 && n%8 == 0 {
		winoBTFMA(&in[0], offs, &out[0], outs, n)
		return
	}
	o0, o1, o2 := out[:n], out[outs:outs+n], out[2*outs:2*outs+n]
	o3, o4, o5 := out[3*outs:3*outs+n], out[4*outs:4*outs+n], out[5*outs:5*outs+n]
	for l := range o0 {
		t := d3[l] - d1[l]
		o0[l] = 4*d0[l] - 5*d2[l] + d4[l]
		o1[l] = d3[l] + d4[l] - 4*(d1[l]+d2[l])
		o2[l] = d4[l] - d3[l] + 4*(d1[l]-d2[l])
		o3[l] = d4[l] - d2[l] + 2*t
		o4[l] = d4[l] - d2[l] - 2*t
		o5[l] = d5[l] + 4*d1[l] - 5*d3[l]
	}
}

// winoAT sets the 4 rows out[i·outs:] (n floats each) to the rows of Aᵀ m
// for the 6 rows m_j = in[offs[j]:] (Aᵀ is TestWinoTransforms' winoATm),
// with the matrix's common terms shared.
func winoAT(in []float32, offs *[winoA]int, out []float32, outs int, n int) {
	m0, m1, m2, m3, m4, m5 := winoRows(in, offs, out, winoM, outs, n)
	if hasAVX2 && n%8 == 0 {
		winoATFMA(&in[0], offs, &out[0], outs, n)
		return
	}
	o0, o1, o2, o3 := out[:n], out[outs:outs+n], out[2*outs:2*outs+n], out[3*outs:3*outs+n]
	for l := range o0 {
		a, b, c, d := m1[l]+m2[l], m1[l]-m2[l], m3[l]+m4[l], m3[l]-m4[l]
		o0[l] = m0[l] + a + c
		o1[l] = b + 2*d
		o2[l] = a + 4*c
		o3[l] = b + m5[l] + 8*d
	}
}

// winoRows checks the bounds of a transform and returns its input rows.
func winoRows(in []float32, offs *[winoA]int, out []float32, rows, outs, n int) (r0, r1, r2, r3, r4, r5 []float32) {
	_ = out[(rows-1)*outs+n-1]
	return in[offs[0] : offs[0]+n], in[offs[1] : offs[1]+n], in[offs[2] : offs[2]+n],
		in[offs[3] : offs[3]+n], in[offs[4] : offs[4]+n], in[offs[5] : offs[5]+n]
}

// winoStride returns the offsets of 6 rows s apart.
func winoStride(s int) *[winoA]int {
	return &[winoA]int{0, s, 2 * s, 3 * s, 4 * s, 5 * s}
}

// winoLanes returns the row length of the input transform's buffers (a
// segment's tiles, one more for the gather, and 8 more for the
// vectorised gather's last step; a multiple of 8), and the floats of the
// transforms' buffers for chunks of tb tiles: at the input, the gathered
// and the half-transformed patches (24 rows each) and 6 rows for the second
// pass where it cannot write into the panels; at the output, 24 and 16 rows
// of tb lanes and one output row.
func (c Conv) winoLanes(tb int) (lp, size int) {
	_, tw := c.winoTiles()
	lp = (tw+8)/8*8 + 8
	tp := (tb + 7) / 8 * 8
	return lp, max(2*24*lp+winoA*lp, (24+16)*tp+winoM*lp)
}

var (
	winoDeintIdx = [8]int32{0, 4, 1, 5, 2, 6, 3, 7}
	winoIntIdx   = [8]int32{0, 2, 4, 6, 1, 3, 5, 7}
)

// winoDeintRow sets dst[r·lds+i] = src[4i+r] for r < 4 and i < n: the
// columns of n tiles, by phase.
func winoDeintRow(src []float32, n int, dst []float32, lds int) {
	if n <= 0 {
		return
	}
	_ = src[4*n-1]
	_ = dst[3*lds+n-1]
	i := 0
	if hasAVX2 && n >= 8 {
		i = n / 8 * 8
		winoDeint(&src[0], i, &dst[0], lds, &winoDeintIdx[0])
	}
	for ; i < n; i++ {
		dst[i], dst[lds+i], dst[2*lds+i], dst[3*lds+i] = src[4*i], src[4*i+1], src[4*i+2], src[4*i+3]
	}
}

// winoIntRow is winoDeintRow's inverse: dst[4i+e] = src[e·lds+i].
func winoIntRow(src []float32, lds, n int, dst []float32) {
	if n <= 0 {
		return
	}
	_ = src[3*lds+n-1]
	_ = dst[4*n-1]
	i := 0
	if hasAVX2 && n >= 8 {
		i = n / 8 * 8
		winoInt(&src[0], lds, i, &dst[0], &winoIntIdx[0])
	}
	for ; i < n; i++ {
		dst[4*i], dst[4*i+1], dst[4*i+2], dst[4*i+3] = src[i], src[lds+i], src[2*lds+i], src[3*lds+i]
	}
}

// winoSegments calls f for each segment of the tiles [t0, t0+nt): image,
// tile row, first tile column, tiles, and the first tile's index in the
// chunk.
func (c *Conv) winoSegments(t0, nt int, f func(img, ty, tx, l, tj int)) {
	th, tw := c.winoTiles()
	for t := t0; t < t0+nt; {
		img, r := t/(th*tw), t%(th*tw)
		ty, tx := r/tw, r%tw
		l := min(tw-tx, t0+nt-t)
		f(img, ty, tx, l, t-t0)
		t += l
	}
}

// winoInput writes V = Bᵀ d B of the tiles [t0, t0+nt) of every channel
// into the 36 packed panels v[ξ·vs:] (gemm.Panels' B layout, C x nt); buf
// holds winoLanes floats. A segment's patches are gathered by phase: d[a][r]
// (24 rows of lp floats) holds, for i <= l, the input at row a and column r
// of tile i's patch, r < 4; columns 4 and 5 are columns 0 and 1 of tile
// i+1. The first pass (over a) transforms all of them at once into e, the
// second (over the patch's columns) each a, straight into the panels.
func (c *Conv) winoInput(x []float32, t0, nt int, v []float32, vs int, buf []float32) {
	p := gemm.Packed()
	nr := p.NR()
	lp, _ := c.winoLanes(0)
	d, e, f := buf[:24*lp], buf[24*lp:48*lp], buf[48*lp:48*lp+winoA*lp]
	hw := c.H * c.W
	cols := &[winoA]int{0, lp, 2 * lp, 3 * lp, 1, lp + 1}
	c.winoSegments(t0, nt, func(img, ty, tx, l, tj0 int) {
		h0, w0 := ty*winoM-c.PH, tx*winoM-c.PW
		// The tiles [ia, ib) of the segment (and ib's first two columns)
		// read inside the map: their columns come by the vectorised
		// transpose; the others (over the padding) one by one.
		ia, ib := 0, 0
		if w0 < 0 {
			ia = (-w0 + winoM - 1) / winoM
		}
		if m := c.W - winoA - w0; m >= 0 {
			ib = min(l, m/winoM+1)
		}
		if ia >= ib {
			ia, ib = 0, 0
		}
		l8 := (l + 7) / 8 * 8
		direct := tj0%nr+l8 <= nr
		for ch := 0; ch < c.C; ch++ {
			xc := x[(img*c.C+ch)*hw : (img*c.C+ch+1)*hw]
			for a := range winoA {
				h := h0 + a
				da := d[a*winoM*lp : (a+1)*winoM*lp]
				if h < 0 || h >= c.H {
					clear(da)
					continue
				}
				xh := xc[h*c.W : (h+1)*c.W]
				if n := ib - ia; n > 0 {
					// The vectorised gather reads whole steps of 8 tiles,
					// beyond the row where x goes on; the lanes beyond ib
					// are written again below.
					at := (img*c.C+ch)*hw + h*c.W + w0 + winoM*ia
					if n8 := (n + 7) / 8 * 8; len(x)-at >= winoM*n8 {
						n = n8
					}
					winoDeintRow(x[at:], n, da[ia:], lp)
				}
				for r := range winoM {
					dr := da[r*lp : r*lp+l+1]
					for i := 0; i <= l; i++ {
						if i == ia && ib > ia {
							i = ib - 1 // done above
							continue
						}
						if w := w0 + winoM*i + r; w >= 0 && w < c.W {
							dr[i] = xh[w]
						} else {
							dr[i] = 0
						}
					}
				}
			}
			winoBT(d, winoStride(winoM*lp), e, winoM*lp, winoM*lp)
			off, stride := p.BRow(c.C, nt, ch)
			at := off + tj0/nr*stride + tj0%nr
			for a := range winoA {
				ea := e[a*winoM*lp:]
				if direct {
					// Lanes beyond l land on tiles that later segments
					// (or the padding below) write.
					winoBT(ea, cols, v[a*winoA*vs+at:], vs, l8)
					continue
				}
				winoBT(ea, cols, f, lp, l8)
				for b := range winoA {
					fx, vx := f[b*lp:b*lp+l], v[(a*winoA+b)*vs+off:]
					for i := 0; i < l; {
						tj := tj0 + i
						run := min(l-i, nr-tj%nr)
						copy(vx[tj/nr*stride+tj%nr:][:run], fx[i:i+run])
						i += run
					}
				}
			}
		}
	})
	// The packed panels' columns beyond nt, read by the kernels.
	for ch := 0; ch < c.C; ch++ {
		off, stride := p.BRow(c.C, nt, ch)
		for tj := nt; tj%nr != 0; tj++ {
			pos := off + tj/nr*stride + tj%nr
			for xi := range winoXi {
				v[xi*vs+pos] = 0
			}
		}
	}
}

// winoOutput writes Y = Aᵀ M A, plus the bias and the ReLU epilogue, for
// the filters [k0, k1) of the tiles [t0, t0+nt) into y; m holds the 36
// products M_ξ (K x nt, row stride nt) at m[ξ·ms:], and is read up to 7
// floats beyond the last; buf holds winoLanes floats. Both passes run on
// all nt tiles of a filter at once. With add, Y is added to y (b nil, no
// ReLU).
func (c *Conv) winoOutput(m []float32, ms, nt, t0, k0, k1 int, b, y []float32, buf []float32, add bool) {
	tp := (nt + 7) / 8 * 8
	s, o, row := buf[:24*tp], buf[24*tp:40*tp], buf[40*tp:]
	ohw := c.OH * c.OW
	rows := winoStride(winoA * ms)
	for k := k0; k < k1; k++ {
		// Columns (over the rows of M) of each column j, then the rows of
		// each of the 4 results.
		for j := range winoA {
			winoAT(m[j*ms+k*nt:], rows, s[j*tp:], winoA*tp, tp)
		}
		for i := range winoM {
			winoAT(s[i*winoA*tp:], winoStride(tp), o[i*winoM*tp:], tp, tp)
		}
		var bk float32
		if b != nil {
			bk = b[k]
		}
		c.winoSegments(t0, nt, func(img, ty, tx, l, tj0 int) {
			oh0, ow0 := ty*winoM, tx*winoM
			cols := min(winoM*l, c.OW-ow0)
			yk := y[(img*c.K+k)*ohw : (img*c.K+k+1)*ohw]
			for i := range min(winoM, c.OH-oh0) {
				winoIntRow(o[i*winoM*tp+tj0:], tp, l, row)
				yr := yk[(oh0+i)*c.OW+ow0 : (oh0+i)*c.OW+ow0+cols]
				if add {
					for q, v := range row[:cols] {
						yr[q] += v
					}
					continue
				}
				biasReLU(yr, row[:cols], bk, c.ReLU)
			}
		})
	}
}
