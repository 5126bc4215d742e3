package runtime

// GAP is global average pooling: (N,C,H,W) -> (N,C).
type GAP struct{ C, H, W int }

// ForwardRef: x is (N,C,H,W), y is (N,C).
func (g GAP) ForwardRef(n int, x, y []float32) {
	hw := g.H * g.W
	check("GAP.ForwardRef", "x", x, n*g.C*hw)
	check("GAP.ForwardRef", "y", y, n*g.C)
	for i := range y {
		var s float64
		for _, v := range x[i*hw : (i+1)*hw] {
			s += float64(v)
		}
		y[i] = float32(s / float64(hw))
	}
}

// BackwardRef: dy is (N,C), dx is (N,C,H,W); dx += dy / (H*W).
func (g GAP) BackwardRef(n int, dy, dx []float32) {
	hw := g.H * g.W
	check("GAP.BackwardRef", "dx", dx, n*g.C*hw)
	check("GAP.BackwardRef", "dy", dy, n*g.C)
	for i := range dy {
		for j := i * hw; j < (i+1)*hw; j++ {
			dx[j] = float32(float64(dx[j]) + float64(dy[i])/float64(hw))
		}
	}
}

// Forward is the fast twin of ForwardRef (float32 sums).
func (g GAP) Forward(n int, x, y []float32) {
	hw := g.H * g.W
	check("GAP.Forward", "x", x, n*g.C*hw)
	check("GAP.Forward", "y", y, n*g.C)
	inv := 1 / float32(hw)
	for i := range y {
		var s float32
		for _, v := range x[i*hw : (i+1)*hw] {
			s += v
		}
		y[i] = s * inv
	}
}

// Backward is the fast twin of BackwardRef.
func (g GAP) Backward(n int, dy, dx []float32) {
	hw := g.H * g.W
	check("GAP.Backward", "dx", dx, n*g.C*hw)
	check("GAP.Backward", "dy", dy, n*g.C)
	inv := 1 / float32(hw)
	for i, d := range dy {
		d *= inv
		row := dx[i*hw : (i+1)*hw]
		for j := range row {
			row[j] += d
		}
	}
}
