package runtime

// Scale multiplies each channel of a (N,C,H,W) map by its factor, one per
// image and channel, (N,C): squeeze-and-excitation's x * se(x)
// (`scale { ... }`); HW is H*W.
type Scale struct{ C, HW int }

func (s Scale) checkBufs(op string, n int, x, f, y []float32) {
	check(op, "x", x, n*s.C*s.HW)
	check(op, "f", f, n*s.C)
	check(op, "y", y, n*s.C*s.HW)
}

// ForwardRef: y[i,c,:] = x[i,c,:] * f[i,c].
func (s Scale) ForwardRef(n int, x, f, y []float32) {
	s.checkBufs("Scale.ForwardRef", n, x, f, y)
	for ic, v := range f {
		for j := ic * s.HW; j < (ic+1)*s.HW; j++ {
			y[j] = x[j] * v
		}
	}
}

// BackwardRef: dx[i,c,:] += dy[i,c,:] * f[i,c] and df[i,c] += the sum of
// dy[i,c,:] * x[i,c,:] (in float64); dx or df is nil when that input
// needs no gradient.
func (s Scale) BackwardRef(n int, x, f, dy, dx, df []float32) {
	s.checkBufs("Scale.BackwardRef", n, x, f, dy)
	if dx != nil {
		check("Scale.BackwardRef", "dx", dx, len(x))
	}
	if df != nil {
		check("Scale.BackwardRef", "df", df, len(f))
	}
	for ic, v := range f {
		var sum float64
		for j := ic * s.HW; j < (ic+1)*s.HW; j++ {
			if dx != nil {
				dx[j] = float32(float64(dx[j]) + float64(dy[j])*float64(v))
			}
			sum += float64(dy[j]) * float64(x[j])
		}
		if df != nil {
			df[ic] = float32(float64(df[ic]) + sum)
		}
	}
}

// Forward is the fast twin of ForwardRef.
func (s Scale) Forward(n int, x, f, y []float32) {
	s.checkBufs("Scale.Forward", n, x, f, y)
	hw := s.HW
	for ic, v := range f {
		xs, ys := x[ic*hw:(ic+1)*hw], y[ic*hw:(ic+1)*hw]
		for j, u := range xs {
			ys[j] = u * v
		}
	}
}

// Backward is the fast twin of BackwardRef (float32 sums).
func (s Scale) Backward(n int, x, f, dy, dx, df []float32) {
	s.checkBufs("Scale.Backward", n, x, f, dy)
	if dx != nil {
		check("Scale.Backward", "dx", dx, len(x))
	}
	if df != nil {
		check("Scale.Backward", "df", df, len(f))
	}
	hw := s.HW
	for ic, v := range f {
		xs, dys := x[ic*hw:(ic+1)*hw], dy[ic*hw:(ic+1)*hw]
		if dx != nil {
			dxs := dx[ic*hw : (ic+1)*hw]
			for j, d := range dys {
				dxs[j] += d * v
			}
		}
		if df != nil {
			var sum float32
			for j, d := range dys {
				sum += d * xs[j]
			}
			df[ic] += sum
		}
	}
}
