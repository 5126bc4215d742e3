package runtime

// GAP is average pooling to OHxOW: global (each channel's mean, (N,C,H,W)
// -> (N,C)) when OH and OW are 0 or 1, otherwise PyTorch's
// AdaptiveAvgPool2d to (N,C,OH,OW), whose bin i along an axis of in values
// spans [floor(i*in/out), ceil((i+1)*in/out)).
type GAP struct{ C, H, W, OH, OW int }

// out returns the output size, 1x1 for the zero values.
func (g GAP) out() (oh, ow int) { return max(g.OH, 1), max(g.OW, 1) }

// global reports a 1x1 output.
func (g GAP) global() bool { oh, ow := g.out(); return oh == 1 && ow == 1 }

func (g GAP) checkBufs(op string, n int, x, y []float32) {
	oh, ow := g.out()
	if g.C < 1 || g.H < 1 || g.W < 1 {
		panic("runtime." + op + ": sizes must be positive")
	}
	check(op, "x", x, n*g.C*g.H*g.W)
	check(op, "y", y, n*g.C*oh*ow)
}

// bin returns the input range [lo, hi) of output i of out along an axis of
// in values.
func bin(i, in, out int) (lo, hi int) { return i * in / out, ((i+1)*in + out - 1) / out }

// ForwardRef: x is (N,C,H,W), y is (N,C,OH,OW) (N,C when global).
func (g GAP) ForwardRef(n int, x, y []float32) {
	g.checkBufs("GAP.ForwardRef", n, x, y)
	oh, ow := g.out()
	hw := g.H * g.W
	for p := 0; p < n*g.C; p++ {
		for i := 0; i < oh; i++ {
			h0, h1 := bin(i, g.H, oh)
			for j := 0; j < ow; j++ {
				w0, w1 := bin(j, g.W, ow)
				var s float64
				for h := h0; h < h1; h++ {
					for w := w0; w < w1; w++ {
						s += float64(x[p*hw+h*g.W+w])
					}
				}
				y[(p*oh+i)*ow+j] = float32(s / float64((h1-h0)*(w1-w0)))
			}
		}
	}
}

// BackwardRef: dy is (N,C,OH,OW), dx is (N,C,H,W); every input of a bin
// gets dy / (the bin's size), added into dx.
func (g GAP) BackwardRef(n int, dy, dx []float32) {
	g.checkBufs("GAP.BackwardRef", n, dx, dy)
	oh, ow := g.out()
	hw := g.H * g.W
	for p := 0; p < n*g.C; p++ {
		for i := 0; i < oh; i++ {
			h0, h1 := bin(i, g.H, oh)
			for j := 0; j < ow; j++ {
				w0, w1 := bin(j, g.W, ow)
				d := float64(dy[(p*oh+i)*ow+j]) / float64((h1-h0)*(w1-w0))
				for h := h0; h < h1; h++ {
					for w := w0; w < w1; w++ {
						k := p*hw + h*g.W + w
						dx[k] = float32(float64(dx[k]) + d)
					}
				}
			}
		}
	}
}

// Forward is the fast twin of ForwardRef (float32 sums).
func (g GAP) Forward(n int, x, y []float32) {
	g.checkBufs("GAP.Forward", n, x, y)
	hw := g.H * g.W
	if !g.global() {
		for p := 0; p < n*g.C; p++ {
			g.forwardPlane(x[p*hw:(p+1)*hw], y[p*g.OH*g.OW:(p+1)*g.OH*g.OW])
		}
		return
	}
	inv := 1 / float32(hw)
	for i := range y {
		var s float32
		for _, v := range x[i*hw : (i+1)*hw] {
			s += v
		}
		y[i] = s * inv
	}
}

// forwardPlane pools one channel's map x into y (OHxOW).
func (g GAP) forwardPlane(x, y []float32) {
	for i := 0; i < g.OH; i++ {
		h0, h1 := bin(i, g.H, g.OH)
		for j := 0; j < g.OW; j++ {
			w0, w1 := bin(j, g.W, g.OW)
			var s float32
			for h := h0; h < h1; h++ {
				for _, v := range x[h*g.W+w0 : h*g.W+w1] {
					s += v
				}
			}
			y[i*g.OW+j] = s / float32((h1-h0)*(w1-w0))
		}
	}
}

// Backward is the fast twin of BackwardRef.
func (g GAP) Backward(n int, dy, dx []float32) {
	g.checkBufs("GAP.Backward", n, dx, dy)
	hw := g.H * g.W
	if !g.global() {
		for p := 0; p < n*g.C; p++ {
			g.backwardPlane(dy[p*g.OH*g.OW:(p+1)*g.OH*g.OW], dx[p*hw:(p+1)*hw])
		}
		return
	}
	inv := 1 / float32(hw)
	for i, d := range dy {
		d *= inv
		row := dx[i*hw : (i+1)*hw]
		for j := range row {
			row[j] += d
		}
	}
}

// backwardPlane adds one channel's share of dy (OHxOW) into dx.
func (g GAP) backwardPlane(dy, dx []float32) {
	for i := 0; i < g.OH; i++ {
		h0, h1 := bin(i, g.H, g.OH)
		for j := 0; j < g.OW; j++ {
			w0, w1 := bin(j, g.W, g.OW)
			d := dy[i*g.OW+j] / float32((h1-h0)*(w1-w0))
			for h := h0; h < h1; h++ {
				row := dx[h*g.W+w0 : h*g.W+w1]
				for k := range row {
					row[k] += d
				}
			}
		}
	}
}
