package runtime

import (
	"fmt"
	"math"
)

// Pool is the geometry shared by MaxPool and AvgPool (PyTorch's MaxPool2d
// and AvgPool2d without dilation): C channels of H x W, a KH x KW window,
// stride SH, SW, implicit padding PH, PW (at most half the window), output
// OH x OW computed with floor or, when Ceil is set, ceil mode.
type Pool struct {
	C, H, W int
	KH, KW  int
	SH, SW  int
	PH, PW  int
	Ceil    bool
	OH, OW  int
}

// MaxPool is max pooling; the argmax of each window is stored (int32 index
// h*W+w in the input plane) for the backward pass.
type MaxPool Pool

// AvgPool is average pooling with count_include_pad=True (PyTorch's
// default): the divisor is the window clipped to the padded input.
type AvgPool Pool

// PoolOutSize returns PyTorch's pooled length of one dimension. In ceil mode
// the last window must start inside the input or the left padding.
func PoolOutSize(in, k, stride, pad int, ceil bool) int {
	num := in + 2*pad - k
	var out int
	if ceil {
		out = (num+stride-1)/stride + 1
		if (out-1)*stride >= in+pad {
			out--
		}
	} else {
		out = num/stride + 1
	}
	return out
}

// Validate reports whether the geometry is consistent.
func (p Pool) Validate() error {
	switch {
	case p.C < 1 || p.H < 1 || p.W < 1 || p.KH < 1 || p.KW < 1 || p.SH < 1 || p.SW < 1:
		return fmt.Errorf("pool: sizes and strides must be positive: %+v", p)
	case p.PH < 0 || p.PW < 0 || 2*p.PH > p.KH || 2*p.PW > p.KW:
		return fmt.Errorf("pool: padding must be between 0 and half the window: %+v", p)
	case p.H+2*p.PH < p.KH || p.W+2*p.PW < p.KW:
		return fmt.Errorf("pool: window larger than the padded input: %+v", p)
	}
	oh := PoolOutSize(p.H, p.KH, p.SH, p.PH, p.Ceil)
	ow := PoolOutSize(p.W, p.KW, p.SW, p.PW, p.Ceil)
	if oh != p.OH || ow != p.OW {
		return fmt.Errorf("pool: output is %dx%d for %+v, geometry says %dx%d", oh, ow, p, p.OH, p.OW)
	}
	return nil
}

func (p Pool) mustValid(op string, n int, x, y []float32) {
	if err := p.Validate(); err != nil {
		panic("runtime." + op + ": " + err.Error())
	}
	check(op, "x", x, n*p.C*p.H*p.W)
	check(op, "y", y, n*p.C*p.OH*p.OW)
}

func checkIdx(op string, idx []int32, want int) {
	if len(idx) != want {
		panic(fmt.Sprintf("runtime.%s: len(argmax) = %d, want %d", op, len(idx), want))
	}
}

// window returns the input rows [h0, h1) of output row o clipped to the
// input, and the count-include-pad extent of the window.
func window(o, s, p, k, in int) (h0, h1, padded int) {
	h0 = o*s - p
	h1 = min(h0+k, in+p)
	padded = h1 - h0
	h0 = max(h0, 0)
	h1 = min(h1, in)
	return
}

// ForwardRef: x is (N,C,H,W), y and argmax are (N,C,OH,OW).
func (m MaxPool) ForwardRef(n int, x, y []float32, argmax []int32) {
	p := Pool(m)
	p.mustValid("MaxPool.ForwardRef", n, x, y)
	checkIdx("MaxPool.ForwardRef", argmax, len(y))
	for i := 0; i < n*p.C; i++ {
		for oh := 0; oh < p.OH; oh++ {
			for ow := 0; ow < p.OW; ow++ {
				best, arg := float32(math.Inf(-1)), int32(-1)
				for kh := 0; kh < p.KH; kh++ {
					ih := oh*p.SH - p.PH + kh
					for kw := 0; kw < p.KW; kw++ {
						iw := ow*p.SW - p.PW + kw
						if ih < 0 || ih >= p.H || iw < 0 || iw >= p.W {
							continue
						}
						v := x[(i*p.H+ih)*p.W+iw]
						if arg < 0 || v > best || v != v {
							best, arg = v, int32(ih*p.W+iw)
						}
					}
				}
				o := (i*p.OH+oh)*p.OW + ow
				y[o], argmax[o] = best, arg
			}
		}
	}
}

// BackwardRef: dy and argmax are (N,C,OH,OW), dx is (N,C,H,W); dx += dy at
// the argmax of each window.
func (m MaxPool) BackwardRef(n int, dy []float32, argmax []int32, dx []float32) {
	p := Pool(m)
	p.mustValid("MaxPool.BackwardRef", n, dx, dy)
	checkIdx("MaxPool.BackwardRef", argmax, len(dy))
	for i := 0; i < n*p.C; i++ {
		for o := 0; o < p.OH*p.OW; o++ {
			dx[i*p.H*p.W+int(argmax[i*p.OH*p.OW+o])] += dy[i*p.OH*p.OW+o]
		}
	}
}

// Forward is the fast twin of ForwardRef (clipped windows, no branches in
// the inner loop; planes split over the workers).
//
// With argmax nil (inference, where nothing goes backward) it only takes the
// maxima, which is cheaper.
func (m MaxPool) Forward(n int, x, y []float32, argmax []int32) {
	p := Pool(m)
	p.mustValid("MaxPool.Forward", n, x, y)
	f := maxForwardPlane
	if argmax == nil {
		f = maxOnlyPlane
	} else {
		checkIdx("MaxPool.Forward", argmax, len(y))
	}
	j := planeJob{f: f, pool: p, s: [9][]float32{x, y}, idx: argmax}
	runPlanes(n*p.C, len(x), n*p.C, &j)
}

// maxOnlyPlane is maxForwardPlane without the argmax; a NaN in a window
// wins, as in PyTorch (a maximum of -0 and +0 may have either sign).
func maxOnlyPlane(j *planeJob, _, i int) {
	p := &j.pool
	hw, ohw := p.H*p.W, p.OH*p.OW
	xi, yi := j.s[0][i*hw:(i+1)*hw], j.s[1][i*ohw:(i+1)*ohw]
	if hasAVX2 && p.KH == 2 && p.KW == 2 && p.SH == 2 && p.SW == 2 && p.PH == 0 && p.PW == 0 && 2*p.OH == p.H && 2*p.OW == p.W {
		maxPlane2x2(p, xi, yi)
		return
	}
	owa, owb := p.wholeCols()
	for oh := 0; oh < p.OH; oh++ {
		h0, h1, _ := window(oh, p.SH, p.PH, p.KH, p.H)
		yr := yi[oh*p.OW : (oh+1)*p.OW]
		for ow := 0; ow < p.OW; ow++ {
			if ow == owa && owb > owa {
				ow = owb - 1 // the whole windows, below
				continue
			}
			w0, w1, _ := window(ow, p.SW, p.PW, p.KW, p.W)
			m := xi[h0*p.W+w0]
			for ih := h0; ih < h1; ih++ {
				for _, v := range xi[ih*p.W+w0 : ih*p.W+w1] {
					m = max(m, v) // NaN wins, as in PyTorch
				}
			}
			yr[ow] = m
		}
		if owb > owa {
			// Row by row: the maxima of the first row's windows, then
			// each further row's taken in.
			for ih := h0; ih < h1; ih++ {
				maxRow(yr[owa:owb], xi[ih*p.W+owa*p.SW-p.PW:(ih+1)*p.W], p.KW, p.SW, ih == h0)
			}
		}
	}
}

// maxPlane2x2 is maxOnlyPlane for a plane cut whole into 2x2 windows
// (LeNet-5's, VGG's): each output row in whole steps of 8 where the plane
// goes on beyond it (the lanes past the row land on the next output row,
// which is written after), maxRow for the rest.
func maxPlane2x2(p *Pool, x, y []float32) {
	ow8 := (p.OW + 7) / 8 * 8
	for oh := 0; oh < p.OH; oh++ {
		r0, r1 := x[2*oh*p.W:], x[(2*oh+1)*p.W:]
		if oh*p.OW+ow8 <= len(y) && 2*ow8 <= len(r1) {
			maxPairsAVX2(&y[oh*p.OW], &r0[0], ow8, true)
			maxPairsAVX2(&y[oh*p.OW], &r1[0], ow8, false)
			continue
		}
		yr := y[oh*p.OW : (oh+1)*p.OW]
		maxRow(yr, r0, 2, 2, true)
		maxRow(yr, r1, 2, 2, false)
	}
}

// wholeCols returns the output columns [owa, owb) whose windows lie whole
// inside the input's columns.
func (p *Pool) wholeCols() (owa, owb int) {
	owa = (p.PW + p.SW - 1) / p.SW
	if p.W+p.PW-p.KW >= 0 {
		owb = min(p.OW, (p.W+p.PW-p.KW)/p.SW+1)
	}
	return owa, max(owa, owb)
}

// maxRow sets y[q] to the maximum of r[q*s : q*s+k] (first), or takes it
// into y[q]; NaN wins.
func maxRow(y, r []float32, k, s int, first bool) {
	if len(y) == 0 {
		return
	}
	switch {
	case k == 2 && s == 2:
		r = r[:2*len(y)]
		if hasAVX2 && len(y) >= 8 {
			n := len(y) / 8 * 8
			maxPairsAVX2(&y[0], &r[0], n, first)
			y, r = y[n:], r[2*n:]
		}
		if first {
			for q := range y {
				y[q] = max(r[2*q], r[2*q+1])
			}
			return
		}
		for q := range y {
			y[q] = max(y[q], r[2*q], r[2*q+1])
		}
	case k == 3 && s == 2:
		r = r[:2*len(y)+1]
		if first {
			for q := range y {
				y[q] = max(r[2*q], r[2*q+1], r[2*q+2])
			}
			return
		}
		for q := range y {
			y[q] = max(y[q], r[2*q], r[2*q+1], r[2*q+2])
		}
	default:
		for q := range y {
			w := r[q*s : q*s+k]
			m := w[0]
			if !first {
				m = max(m, y[q])
			}
			for _, v := range w[1:] {
				m = max(m, v)
			}
			y[q] = m
		}
	}
}

func maxForwardPlane(j *planeJob, _, i int) {
	p := &j.pool
	hw, ohw := p.H*p.W, p.OH*p.OW
	xi, yi, ai := j.s[0][i*hw:(i+1)*hw], j.s[1][i*ohw:(i+1)*ohw], j.idx[i*ohw:(i+1)*ohw]
	for oh := 0; oh < p.OH; oh++ {
		h0, h1, _ := window(oh, p.SH, p.PH, p.KH, p.H)
		for ow := 0; ow < p.OW; ow++ {
			w0, w1, _ := window(ow, p.SW, p.PW, p.KW, p.W)
			if p.KH == 3 && p.KW == 3 && h1-h0 == 3 && w1-w0 == 3 {
				// The common whole 3x3 window (AlexNet, GoogLeNet,
				// ResNet), unrolled.
				if arg, ok := argmax3x3(xi, h0*p.W+w0, p.W); ok {
					yi[oh*p.OW+ow], ai[oh*p.OW+ow] = xi[arg], int32(arg)
					continue
				}
			}
			if p.KH == 2 && p.KW == 2 && h1-h0 == 2 && w1-w0 == 2 {
				// The whole 2x2 window (LeNet, VGG), unrolled.
				if arg, ok := argmax2x2(xi, h0*p.W+w0, p.W); ok {
					yi[oh*p.OW+ow], ai[oh*p.OW+ow] = xi[arg], int32(arg)
					continue
				}
			}
			arg := windowArgmax(xi, p.W, h0, h1, w0, w1)
			yi[oh*p.OW+ow], ai[oh*p.OW+ow] = xi[arg], int32(arg)
		}
	}
}

// windowArgmax returns the index in x (rows of width w) of PyTorch's argmax
// of the window [h0,h1) x [w0,w1): the first maximum, or the last NaN.
// Comparisons of random data mispredict, so the maximum is found on
// order-preserving integer keys with a branch-free integer max (CMOV), NaNs
// are detected on the bits, and only then the first position of the maximum
// is searched (one mispredicted branch per window).
func windowArgmax(x []float32, w, h0, h1, w0, w1 int) int {
	best, nan := int32(math.MinInt32), int32(0)
	for ih := h0; ih < h1; ih++ {
		for _, v := range x[ih*w+w0 : ih*w+w1] {
			b := int32(math.Float32bits(v))
			best = max(best, b^(b>>31&0x7fffffff))
			nan |= 0x7f800000 - b&0x7fffffff // negative iff v is NaN
		}
	}
	if nan < 0 {
		arg := 0
		for ih := h0; ih < h1; ih++ {
			for iw := w0; iw < w1; iw++ {
				if v := x[ih*w+iw]; v != v {
					arg = ih*w + iw
				}
			}
		}
		return arg
	}
	bv := math.Float32frombits(uint32(best ^ (best >> 31 & 0x7fffffff)))
	for ih := h0; ih < h1; ih++ {
		for iw := w0; iw < w1; iw++ {
			if x[ih*w+iw] == bv { // -0 == +0: the first of them, as PyTorch
				return ih*w + iw
			}
		}
	}
	return h0*w + w0 // not reached
}

// maxKey maps a float to an int32 whose order is the floats' order, with
// -0 and +0 equal (NaNs are handled by the caller).
func maxKey(v float32) int32 {
	b := int32(math.Float32bits(v))
	k := b ^ (b >> 31 & 0x7fffffff)
	if k == -1 { // -0
		k = 0
	}
	return k
}

// argmax3x3 is windowArgmax for the whole 3x3 window at i0 (rows of width
// w): nine keys compared in order with a strict >, which the compiler turns
// into conditional moves, keep the first maximum. ok is false if the window
// holds a NaN (windowArgmax then finds the last one).
func argmax3x3(x []float32, i0, w int) (arg int, ok bool) {
	r0 := x[i0 : i0+3 : i0+3]
	r1 := x[i0+w : i0+w+3 : i0+w+3]
	r2 := x[i0+2*w : i0+2*w+3 : i0+2*w+3]
	var nan int32
	for _, v := range [9]float32{r0[0], r0[1], r0[2], r1[0], r1[1], r1[2], r2[0], r2[1], r2[2]} {
		nan |= 0x7f800000 - int32(math.Float32bits(v))&0x7fffffff // negative iff v is NaN
	}
	if nan < 0 {
		return 0, false
	}
	best, a := maxKey(r0[0]), 0
	if k := maxKey(r0[1]); k > best {
		best, a = k, 1
	}
	if k := maxKey(r0[2]); k > best {
		best, a = k, 2
	}
	if k := maxKey(r1[0]); k > best {
		best, a = k, w
	}
	if k := maxKey(r1[1]); k > best {
		best, a = k, w+1
	}
	if k := maxKey(r1[2]); k > best {
		best, a = k, w+2
	}
	if k := maxKey(r2[0]); k > best {
		best, a = k, 2*w
	}
	if k := maxKey(r2[1]); k > best {
		best, a = k, 2*w+1
	}
	if k := maxKey(r2[2]); k > best {
		a = 2*w + 2
	}
	return i0 + a, true
}

// argmax2x2 is argmax3x3 for a whole 2x2 window.
func argmax2x2(x []float32, i0, w int) (arg int, ok bool) {
	r0 := x[i0 : i0+2 : i0+2]
	r1 := x[i0+w : i0+w+2 : i0+w+2]
	var nan int32
	for _, v := range [4]float32{r0[0], r0[1], r1[0], r1[1]} {
		nan |= 0x7f800000 - int32(math.Float32bits(v))&0x7fffffff // negative iff v is NaN
	}
	if nan < 0 {
		return 0, false
	}
	best, a := maxKey(r0[0]), 0
	if k := maxKey(r0[1]); k > best {
		best, a = k, 1
	}
	if k := maxKey(r1[0]); k > best {
		best, a = k, w
	}
	if k := maxKey(r1[1]); k > best {
		a = w + 1
	}
	return i0 + a, true
}

// Backward: dx += dy routed to the argmax (see BackwardRef).
func (m MaxPool) Backward(n int, dy []float32, argmax []int32, dx []float32) {
	p := Pool(m)
	p.mustValid("MaxPool.Backward", n, dx, dy)
	checkIdx("MaxPool.Backward", argmax, len(dy))
	j := planeJob{f: maxBackwardPlane, pool: p, s: [9][]float32{dy, dx}, idx: argmax}
	runPlanes(n*p.C, len(dx), n*p.C, &j)
}

func maxBackwardPlane(j *planeJob, _, i int) {
	p := &j.pool
	hw, ohw := p.H*p.W, p.OH*p.OW
	dyi, dxi, ai := j.s[0][i*ohw:(i+1)*ohw], j.s[1][i*hw:(i+1)*hw], j.idx[i*ohw:(i+1)*ohw]
	for o, a := range ai {
		dxi[a] += dyi[o]
	}
}

// ForwardRef: x is (N,C,H,W), y is (N,C,OH,OW); y = window sum / divisor
// where the divisor counts the window clipped to the padded input.
func (a AvgPool) ForwardRef(n int, x, y []float32) {
	p := Pool(a)
	p.mustValid("AvgPool.ForwardRef", n, x, y)
	for i := 0; i < n*p.C; i++ {
		for oh := 0; oh < p.OH; oh++ {
			for ow := 0; ow < p.OW; ow++ {
				var s float64
				hs, ws := oh*p.SH-p.PH, ow*p.SW-p.PW
				he, we := min(hs+p.KH, p.H+p.PH), min(ws+p.KW, p.W+p.PW)
				div := (he - hs) * (we - ws)
				for ih := hs; ih < he; ih++ {
					for iw := ws; iw < we; iw++ {
						if ih >= 0 && ih < p.H && iw >= 0 && iw < p.W {
							s += float64(x[(i*p.H+ih)*p.W+iw])
						}
					}
				}
				y[(i*p.OH+oh)*p.OW+ow] = float32(s / float64(div))
			}
		}
	}
}

// BackwardRef: dy is (N,C,OH,OW), dx is (N,C,H,W); dx += dy / divisor over
// each window.
func (a AvgPool) BackwardRef(n int, dy, dx []float32) {
	p := Pool(a)
	p.mustValid("AvgPool.BackwardRef", n, dx, dy)
	for i := 0; i < n*p.C; i++ {
		for oh := 0; oh < p.OH; oh++ {
			for ow := 0; ow < p.OW; ow++ {
				hs, ws := oh*p.SH-p.PH, ow*p.SW-p.PW
				he, we := min(hs+p.KH, p.H+p.PH), min(ws+p.KW, p.W+p.PW)
				g := float64(dy[(i*p.OH+oh)*p.OW+ow]) / float64((he-hs)*(we-ws))
				for ih := hs; ih < he; ih++ {
					for iw := ws; iw < we; iw++ {
						if ih >= 0 && ih < p.H && iw >= 0 && iw < p.W {
							dx[(i*p.H+ih)*p.W+iw] += float32(g)
						}
					}
				}
			}
		}
	}
}

// Forward is the fast twin of ForwardRef (planes split over the workers).
func (a AvgPool) Forward(n int, x, y []float32) {
	p := Pool(a)
	p.mustValid("AvgPool.Forward", n, x, y)
	j := planeJob{f: avgForwardPlane, pool: p, s: [9][]float32{x, y}}
	runPlanes(n*p.C, len(x), n*p.C, &j)
}

func avgForwardPlane(j *planeJob, _, i int) {
	p := &j.pool
	hw, ohw := p.H*p.W, p.OH*p.OW
	xi, yi := j.s[0][i*hw:(i+1)*hw], j.s[1][i*ohw:(i+1)*ohw]
	for oh := 0; oh < p.OH; oh++ {
		h0, h1, dh := window(oh, p.SH, p.PH, p.KH, p.H)
		for ow := 0; ow < p.OW; ow++ {
			w0, w1, dw := window(ow, p.SW, p.PW, p.KW, p.W)
			var s float32
			for ih := h0; ih < h1; ih++ {
				for _, v := range xi[ih*p.W+w0 : ih*p.W+w1] {
					s += v
				}
			}
			yi[oh*p.OW+ow] = s / float32(dh*dw)
		}
	}
}

// Backward is the fast twin of BackwardRef.
func (a AvgPool) Backward(n int, dy, dx []float32) {
	p := Pool(a)
	p.mustValid("AvgPool.Backward", n, dx, dy)
	j := planeJob{f: avgBackwardPlane, pool: p, s: [9][]float32{dy, dx}}
	runPlanes(n*p.C, len(dx), n*p.C, &j)
}

func avgBackwardPlane(j *planeJob, _, i int) {
	p := &j.pool
	hw, ohw := p.H*p.W, p.OH*p.OW
	dyi, dxi := j.s[0][i*ohw:(i+1)*ohw], j.s[1][i*hw:(i+1)*hw]
	for oh := 0; oh < p.OH; oh++ {
		h0, h1, dh := window(oh, p.SH, p.PH, p.KH, p.H)
		for ow := 0; ow < p.OW; ow++ {
			w0, w1, dw := window(ow, p.SW, p.PW, p.KW, p.W)
			g := dyi[oh*p.OW+ow] / float32(dh*dw)
			for ih := h0; ih < h1; ih++ {
				row := dxi[ih*p.W+w0 : ih*p.W+w1]
				for k := range row {
					row[k] += g
				}
			}
		}
	}
}
