package runtime

// The depthwise convolution: a Conv with one filter per input channel
// (G == C == K, PyTorch's Conv2d(C, C, k, groups=C), the word dwconv).
// Its products are too thin for the gemm (one row of KH*KW per group), so
// it runs direct sliding-window kernels on each (image, channel) plane
// (NCHW), in parallel over the planes, with no scratch and no allocation:
//
//	Forward         per output row, the taps of every input row it reads,
//	                accumulated along the row (the rows with all taps
//	                inside the input; the edges tap by tap); 3x3 at stride
//	                1 and 2 with all three rows inside runs one fused
//	                nine-tap loop (dw3x3s1, dw3x3s2)
//	BackwardData    stride 1: the forward of the transposed conv (dy
//	                padded by the dilated kernel less the padding, the
//	                kernel rotated by 180 degrees), accumulated into dx;
//	                other strides scatter each dy row into the dx rows it
//	                came from, tap by tap (three taps fused for 3x3)
//	BackwardFilter  per channel (over all images, so that no two workers
//	                write the same weights): each tap's weight gradient is
//	                a dot product of a dy row with the input row it saw
//
// conv_ref.go's reference kernels are their reference (TestDepthwise).

// depthwise reports whether the depthwise kernels run the conv.
func (c Conv) depthwise() bool { return convDepthwise && c.G == c.C && c.K == c.C }

// dwJob is the parallel body of a depthwise pass; item is a plane (image
// and channel) for the forward and the input gradient, a channel for the
// filter gradient.
type dwJob struct {
	c      Conv
	pass   int
	n      int
	chunk  int       // planes per item (forward, data)
	a, w   []float32 // x (forward, filter) or dy (data); the weights or dw
	b      []float32 // the bias, or db
	out    []float32 // y (forward), dx (data), dy (filter)
	flipOK bool      // data: stride 1, the transposed conv exists
}

const (
	dwForward = iota
	dwData
	dwFilter
)

var dwJobs freeList[dwJob]

// maxFlip is the largest kernel (taps) the stride-1 input gradient rotates
// on the stack; larger ones scatter.
const maxFlip = 64

// dwPadMax is the largest padded plane (floats) that the forward, the
// stride-1 input gradient and the filter gradient copy into a buffer on the
// stack with its zero border, so that every output is inside the window
// loops: small maps (MobileNet's 14x14 and 7x7), whose edges would
// otherwise cost as much as their interior. The buffer is cleared once
// per item (a chunk of planes, or a channel), its border stays zero.
const dwPadMax = 1024

// dwPadLimit is the padded plane size up to which the padded buffer is
// used: dwPadMax; tests set 0 to cover the edge loops on small shapes.
var dwPadLimit = dwPadMax

// dwSIMD lets the 3x3 stride-1 kernels run their AVX2 loops where the CPU
// has them (hasAVX2); tests turn it off to cover the Go loops.
var dwSIMD = true

// dwVector reports whether the AVX2 loops run.
func dwVector() bool { return dwSIMD && hasAVX2 }

// dwFlat reports whether a plane of g (padded: no padding) runs as one
// flat run along its rows (dwFlat3x3, dwFlatGrad3x3): 3x3, stride 1, no
// dilation, with the vector loops.
func (g *Conv) dwFlat() bool {
	return g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 && dwVector()
}

// dwFlatAny reports whether a plane of g (padded: no padding) runs as one
// flat run per tap (dwFlatTaps): stride 1, no dilation, with the vector
// loops.
func (g *Conv) dwFlatAny() bool {
	return g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 && dwVector()
}

// dwPads reports whether the padded plane of c fits dwPadLimit.
func (c *Conv) dwPads() bool {
	return c.PH+c.PW > 0 && (c.H+2*c.PH)*(c.W+2*c.PW) <= min(dwPadLimit, dwPadMax)
}

// dwPadded is the geometry of c on the padded plane: no padding.
func (c *Conv) dwPadded() Conv {
	p := *c
	p.H, p.W, p.PH, p.PW = c.H+2*c.PH, c.W+2*c.PW, 0, 0
	return p
}

// dwPadInto copies plane x into the interior of buf (the padded plane).
func (c *Conv) dwPadInto(x, buf []float32) {
	pw := c.W + 2*c.PW
	for h := 0; h < c.H; h++ {
		copy(buf[(h+c.PH)*pw+c.PW:(h+c.PH)*pw+c.PW+c.W], x[h*c.W:(h+1)*c.W])
	}
}

func (c Conv) dwRun(pass, n int, a, w, b, out []float32) {
	if n == 0 {
		return
	}
	slots := Workers()
	if n*(c.inSize()+c.outSize()) < minParallelElems {
		slots = 1
	}
	planes := n * c.C
	// Chunks of planes: a few items per worker, at most 64 planes each.
	chunk := max(1, min(64, planes/(4*slots)))
	items := (planes + chunk - 1) / chunk
	if pass == dwFilter {
		items = c.C
	}
	j := dwJobs.get()
	*j = dwJob{c: c, pass: pass, n: n, chunk: chunk, a: a, w: w, b: b, out: out,
		flipOK: c.SH == 1 && c.SW == 1 && c.PH <= c.DH*(c.KH-1) && c.PW <= c.DW*(c.KW-1) && c.KH*c.KW <= maxFlip}
	parallelFor(items, slots, j)
	*j = dwJob{}
	dwJobs.put(j)
}

func (j *dwJob) run(_, item int) {
	c := &j.c
	switch {
	case j.pass == dwFilter:
		if c.dwPads() {
			j.filterPadded(item)
			return
		}
		j.filter(item)
	case j.pass == dwData && j.flipOK:
		t := c.dwTransposed()
		if t.dwPads() {
			j.planesPadded(&t, item)
			return
		}
		j.planes(item)
	case j.pass == dwForward && c.dwPads():
		j.planesPadded(c, item)
	default:
		j.planes(item)
	}
}

// planeRange returns the planes of item.
func (j *dwJob) planeRange(item int) (lo, hi int) {
	return item * j.chunk, min((item+1)*j.chunk, j.n*j.c.C)
}

// planes runs the forward or the input gradient of the planes of item.
func (j *dwJob) planes(item int) {
	c := &j.c
	hw, ohw, kk := c.H*c.W, c.OH*c.OW, c.KH*c.KW
	lo, hi := j.planeRange(item)
	for p := lo; p < hi; p++ {
		ch := p % c.C
		w := j.w[ch*kk : (ch+1)*kk]
		switch {
		case j.pass == dwForward:
			var b float32
			if j.b != nil {
				b = j.b[ch]
			}
			c.dwPlane(j.a[p*hw:(p+1)*hw], w, b, j.out[p*ohw:(p+1)*ohw], false)
		case j.flipOK:
			var wf [maxFlip]float32
			for t := range kk {
				wf[t] = w[kk-1-t]
			}
			t := c.dwTransposed()
			t.dwPlane(j.a[p*ohw:(p+1)*ohw], wf[:kk], 0, j.out[p*hw:(p+1)*hw], true)
		default:
			c.dwDataPlane(j.a[p*ohw:(p+1)*ohw], w, j.out[p*hw:(p+1)*hw])
		}
	}
}

// planesPadded runs the planes of item through the padded buffer: the
// forward (g is c), or the stride-1 input gradient as the forward of the
// transposed conv g with the rotated kernel, accumulated into dx.
func (j *dwJob) planesPadded(g *Conv, item int) {
	var buf, tmp [dwPadMax]float32
	c := &j.c
	pg := g.dwPadded()
	flat := pg.dwFlat()
	in, out, kk := g.H*g.W, g.OH*g.OW, c.KH*c.KW
	pad := buf[:pg.H*pg.W]
	lo, hi := j.planeRange(item)
	for p := lo; p < hi; p++ {
		ch := p % c.C
		w := j.w[ch*kk : (ch+1)*kk]
		g.dwPadInto(j.a[p*in:(p+1)*in], pad)
		y := j.out[p*out : (p+1)*out]
		var b float32
		if j.pass == dwForward && j.b != nil {
			b = j.b[ch]
		}
		if j.pass == dwData {
			var wf [maxFlip]float32
			for t := range kk {
				wf[t] = w[kk-1-t]
			}
			w = wf[:kk]
		}
		switch {
		case flat:
			pg.dwFlat3x3(pad, w, b, y, tmp[:], j.pass == dwData)
		case pg.dwFlatAny():
			pg.dwFlatTaps(pad, w, b, y, tmp[:], j.pass == dwData)
		default:
			pg.dwPlane(pad, w, b, y, j.pass == dwData)
		}
	}
}

// filter runs the filter gradient of channel ch over the batch.
func (j *dwJob) filter(ch int) {
	c := &j.c
	hw, ohw, kk := c.H*c.W, c.OH*c.OW, c.KH*c.KW
	dw := j.w[ch*kk : (ch+1)*kk]
	for i := 0; i < j.n; i++ {
		p := i*c.C + ch
		dy := j.out[p*ohw : (p+1)*ohw]
		c.dwFilterPlane(j.a[p*hw:(p+1)*hw], dy, dw)
		if j.b != nil {
			j.b[ch] += sum32(dy)
		}
	}
}

// filterPadded is filter through the padded buffer.
func (j *dwJob) filterPadded(ch int) {
	var buf, tmp [dwPadMax]float32
	c := &j.c
	pc := c.dwPadded()
	flat := pc.dwFlat()
	hw, ohw, kk := c.H*c.W, c.OH*c.OW, c.KH*c.KW
	pad := buf[:pc.H*pc.W]
	dw := j.w[ch*kk : (ch+1)*kk]
	for i := 0; i < j.n; i++ {
		p := i*c.C + ch
		dy := j.out[p*ohw : (p+1)*ohw]
		c.dwPadInto(j.a[p*hw:(p+1)*hw], pad)
		if flat {
			pc.dwFlatGrad3x3(pad, dy, dw, tmp[:])
		} else {
			pc.dwFilterPlane(pad, dy, dw)
		}
		if j.b != nil {
			j.b[ch] += sum32(dy)
		}
	}
}

// dwTransposed is the geometry of one plane of the stride-1 input
// gradient as a forward: dy (OHxOW) in, dx (HxW) out, the padding the
// rest of the dilated kernel.
func (c *Conv) dwTransposed() Conv {
	return Conv{C: 1, K: 1, G: 1, H: c.OH, W: c.OW, OH: c.H, OW: c.W, KH: c.KH, KW: c.KW, SH: 1, SW: 1,
		PH: c.DH*(c.KH-1) - c.PH, PW: c.DW*(c.KW-1) - c.PW, DH: c.DH, DW: c.DW}
}

// dwFlat3x3 computes one plane of a 3x3 stride-1 conv g without padding
// (a padded plane) as one run along the flattened rows of x: the outputs at
// x's width, each row's last two of which straddle two rows and are
// dropped, into tmp; then y = tmp + b (and the ReLU), or with acc y += tmp.
func (g *Conv) dwFlat3x3(x, w []float32, b float32, y, tmp []float32, acc bool) {
	ld := g.W
	t := tmp[:(g.OH-1)*ld+g.OW]
	clear(t)
	dw3x3s1(t, x, x[ld:], x[2*ld:], w)
	g.dwFlatOut(t, b, y, acc)
}

// dwFlatTaps is dwFlat3x3 for any kernel at stride 1 without dilation
// (EfficientNet's 5x5): one vectorised axpy along the flattened rows per
// tap.
func (g *Conv) dwFlatTaps(x, w []float32, b float32, y, tmp []float32, acc bool) {
	ld := g.W
	t := tmp[:(g.OH-1)*ld+g.OW]
	clear(t)
	for kh := 0; kh < g.KH; kh++ {
		for kw := 0; kw < g.KW; kw++ {
			axpyTo(t, x[kh*ld+kw:], w[kh*g.KW+kw])
		}
	}
	g.dwFlatOut(t, b, y, acc)
}

// dwFlatOut writes the outputs of a flat run t (at x's width) into y: y = t
// + b (and the ReLU), or with acc y += t.
func (g *Conv) dwFlatOut(t []float32, b float32, y []float32, acc bool) {
	ld := g.W
	for oh := 0; oh < g.OH; oh++ {
		yr, src := y[oh*g.OW:(oh+1)*g.OW], t[oh*ld:oh*ld+g.OW]
		switch {
		case acc:
			for i, v := range src {
				yr[i] += v
			}
		default:
			biasReLU(yr, src, b, g.ReLU)
		}
	}
}

// dwFlatGrad3x3 adds one plane's weight gradient of a 3x3 stride-1 conv g
// without padding into dw: dy is laid out at x's width in tmp, zeros in
// the columns that straddle two rows, and the nine taps' sums run along
// the flattened rows.
func (g *Conv) dwFlatGrad3x3(x, dy, dw, tmp []float32) {
	ld := g.W
	t := tmp[:(g.OH-1)*ld+g.OW]
	for oh := 0; oh < g.OH; oh++ {
		copy(t[oh*ld:oh*ld+g.OW], dy[oh*g.OW:(oh+1)*g.OW])
		if oh < g.OH-1 {
			clear(t[oh*ld+g.OW : (oh+1)*ld])
		}
	}
	var acc [9]float32
	dwGrad3x3(t, x, x[ld:], x[2*ld:], 1, &acc)
	for i, v := range acc {
		dw[i] += v
	}
}

// dwInterior returns the outputs [lo, hi) of a row whose taps all fall
// inside the input row.
func (c *Conv) dwInterior() (lo, hi int) {
	lo = min((c.PW+c.SW-1)/c.SW, c.OW)
	last := c.W - 1 + c.PW - c.DW*(c.KW-1) // the last start inside
	hi = 0
	if last >= 0 {
		hi = min(last/c.SW+1, c.OW)
	}
	return lo, max(lo, hi)
}

// dwPlane computes one plane of the forward: y (OHxOW) = the correlation
// of x (HxW) with w (KHxKW) plus b, then the ReLU; with acc, y += the
// correlation (no bias, no ReLU).
func (c *Conv) dwPlane(x, w []float32, b float32, y []float32, acc bool) {
	lo, hi := c.dwInterior()
	fused3 := c.KH == 3 && c.KW == 3 && c.DH == 1 && c.DW == 1 && (c.SW == 1 || c.SW == 2) && hi > lo
	for oh := 0; oh < c.OH; oh++ {
		yr := y[oh*c.OW : (oh+1)*c.OW]
		if !acc {
			for i := range yr {
				yr[i] = b
			}
		}
		ih0 := oh*c.SH - c.PH
		if fused3 && ih0 >= 0 && ih0+2 < c.H {
			x0 := lo*c.SW - c.PW
			r0, r1, r2 := x[ih0*c.W+x0:(ih0+1)*c.W], x[(ih0+1)*c.W+x0:(ih0+2)*c.W], x[(ih0+2)*c.W+x0:(ih0+3)*c.W]
			if c.SW == 1 {
				dw3x3s1(yr[lo:hi], r0, r1, r2, w)
			} else {
				dw3x3s2(yr[lo:hi], r0, r1, r2, w)
			}
		} else if hi > lo {
			for kh := 0; kh < c.KH; kh++ {
				ih := ih0 + kh*c.DH
				if ih < 0 || ih >= c.H {
					continue
				}
				xr := x[ih*c.W : (ih+1)*c.W]
				for kw, wv := range w[kh*c.KW : (kh+1)*c.KW] {
					start := lo*c.SW - c.PW + kw*c.DW
					if c.SW == 1 {
						axpyTo(yr[lo:hi], xr[start:], wv)
					} else {
						axpyStrided(yr[lo:hi], xr[start:], c.SW, wv)
					}
				}
			}
		}
		// The edges: the outputs whose window hangs over the row's ends.
		for ow := 0; ow < c.OW; ow++ {
			if ow == lo {
				ow = max(hi, lo)
				if ow >= c.OW {
					break
				}
			}
			var s float32
			for kh := 0; kh < c.KH; kh++ {
				ih := ih0 + kh*c.DH
				if ih < 0 || ih >= c.H {
					continue
				}
				for kw := 0; kw < c.KW; kw++ {
					iw := ow*c.SW - c.PW + kw*c.DW
					if iw >= 0 && iw < c.W {
						s += w[kh*c.KW+kw] * x[ih*c.W+iw]
					}
				}
			}
			yr[ow] += s
		}
		if c.ReLU && !acc {
			for i, v := range yr {
				yr[i] = max(v, 0)
			}
		}
	}
}

// dwDataPlane adds one plane of the input gradient into dx by scattering
// each dy row into the input rows its taps read.
func (c *Conv) dwDataPlane(dy, w, dx []float32) {
	for oh := 0; oh < c.OH; oh++ {
		dyr := dy[oh*c.OW : (oh+1)*c.OW]
		for kh := 0; kh < c.KH; kh++ {
			ih := oh*c.SH - c.PH + kh*c.DH
			if ih < 0 || ih >= c.H {
				continue
			}
			dxr := dx[ih*c.W : (ih+1)*c.W]
			wr := w[kh*c.KW : (kh+1)*c.KW]
			if c.KW == 3 && c.DW == 1 {
				lo, hi := c.dwInterior()
				if hi > lo {
					scatter3(dxr[lo*c.SW-c.PW:], c.SW, dyr[lo:hi], wr)
				}
				for ow := 0; ow < c.OW; ow++ {
					if ow == lo {
						ow = hi
						if ow >= c.OW {
							break
						}
					}
					for kw, wv := range wr {
						if iw := ow*c.SW - c.PW + kw; iw >= 0 && iw < c.W {
							dxr[iw] += wv * dyr[ow]
						}
					}
				}
				continue
			}
			for kw, wv := range wr {
				lo, hi := c.tapRange(kw)
				for ow := lo; ow < hi; ow++ {
					dxr[ow*c.SW-c.PW+kw*c.DW] += wv * dyr[ow]
				}
			}
		}
	}
}

// tapRange returns the outputs [lo, hi) of a row for which tap kw falls
// inside the input row.
func (c *Conv) tapRange(kw int) (lo, hi int) {
	off := kw*c.DW - c.PW // the input column of output 0
	if off < 0 {
		lo = (-off + c.SW - 1) / c.SW
	}
	hi = 0
	if last := c.W - 1 - off; last >= 0 {
		hi = last/c.SW + 1
	}
	lo, hi = min(lo, c.OW), min(hi, c.OW)
	return lo, max(lo, hi)
}

// dwFilterPlane adds one plane's weight gradient into dw (KHxKW): each
// tap's is the dot product of the dy rows with the input rows it read.
func (c *Conv) dwFilterPlane(x, dy, dw []float32) {
	if lo, hi := c.dwInterior(); c.KH == 3 && c.KW == 3 && c.DH == 1 && c.DW == 1 && hi > lo {
		c.dwFilterPlane3x3(x, dy, dw, lo, hi)
		return
	}
	for oh := 0; oh < c.OH; oh++ {
		dyr := dy[oh*c.OW : (oh+1)*c.OW]
		for kh := 0; kh < c.KH; kh++ {
			ih := oh*c.SH - c.PH + kh*c.DH
			if ih < 0 || ih >= c.H {
				continue
			}
			xr := x[ih*c.W : (ih+1)*c.W]
			for kw := 0; kw < c.KW; kw++ {
				lo, hi := c.tapRange(kw)
				if hi <= lo {
					continue
				}
				start := lo*c.SW - c.PW + kw*c.DW
				if c.SW == 1 {
					dw[kh*c.KW+kw] += dotTo(dyr[lo:hi], xr[start:])
				} else {
					dw[kh*c.KW+kw] += dotStrided(dyr[lo:hi], xr[start:], c.SW)
				}
			}
		}
	}
}

// dwFilterPlane3x3 is dwFilterPlane for 3x3 undilated kernels: the nine
// taps' sums over the interior columns [lo, hi) of every output row are
// formed in one pass (dwGrad3x3, or a row at a time, dwGrad3, where the
// window hangs over the top or bottom), the edge columns tap by tap.
func (c *Conv) dwFilterPlane3x3(x, dy, dw []float32, lo, hi int) {
	var acc [9]float32
	x0 := lo*c.SW - c.PW
	for oh := 0; oh < c.OH; oh++ {
		dyr := dy[oh*c.OW : (oh+1)*c.OW]
		ih0 := oh*c.SH - c.PH
		if ih0 >= 0 && ih0+2 < c.H {
			dwGrad3x3(dyr[lo:hi], x[ih0*c.W+x0:(ih0+1)*c.W], x[(ih0+1)*c.W+x0:(ih0+2)*c.W], x[(ih0+2)*c.W+x0:(ih0+3)*c.W], c.SW, &acc)
		} else {
			for kh := 0; kh < 3; kh++ {
				if ih := ih0 + kh; ih >= 0 && ih < c.H {
					dwGrad3(dyr[lo:hi], x[ih*c.W+x0:(ih+1)*c.W], c.SW, (*[3]float32)(acc[3*kh:]))
				}
			}
		}
		for ow := 0; ow < c.OW; ow++ {
			if ow == lo {
				ow = hi
				if ow >= c.OW {
					break
				}
			}
			d := dyr[ow]
			for kh := 0; kh < 3; kh++ {
				ih := ih0 + kh
				if ih < 0 || ih >= c.H {
					continue
				}
				for kw := 0; kw < 3; kw++ {
					if iw := ow*c.SW - c.PW + kw; iw >= 0 && iw < c.W {
						acc[3*kh+kw] += d * x[ih*c.W+iw]
					}
				}
			}
		}
	}
	for t, v := range acc {
		dw[t] += v
	}
}
