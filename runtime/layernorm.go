package runtime

import (
	"fmt"
	"math"
)

// LayerNorm is layer normalisation over the channels at every position of
// (N,C,H,W) tensors, as torchvision's LayerNorm2d (ConvNeXt): the map
// permuted to channels-last, nn.LayerNorm(C, eps), permuted back. With
// H = W = 1 it is nn.LayerNorm(C) on (N, C) vectors. Each position of each
// image is normalised with its own mean and biased variance over the C
// channels, then scaled and shifted per channel: y = (x - mean) * rstd *
// gamma[c] + beta[c], rstd = 1/sqrt(var + Eps). Eps of 0 means 1e-6
// (torchvision's ConvNeXt). Training and inference compute the same.
type LayerNorm struct {
	C, H, W int
	Eps     float32
}

func (l LayerNorm) eps() float32 {
	if l.Eps == 0 {
		return 1e-6
	}
	return l.Eps
}

// ScratchSize is the floats Backward needs for a batch of n: two per
// position for each worker, and the partial gradients of gamma and beta of
// each image (summed in image order afterwards, so that the result does
// not depend on which worker took which image).
func (l LayerNorm) ScratchSize(n int) int { return 2*l.H*l.W*Workers() + 2*l.C*n }

func (l LayerNorm) check(op string, n int, x, y, gamma, beta, stats []float32) {
	check(op, "x", x, n*l.C*l.H*l.W)
	check(op, "y", y, n*l.C*l.H*l.W)
	check(op, "gamma", gamma, l.C)
	check(op, "beta", beta, l.C)
	check(op, "stats", stats, 2*n*l.H*l.W)
	if l.C < 1 {
		panic(fmt.Sprintf("runtime.%s: C = %d", op, l.C))
	}
}

// stats returns image i's means and 1/stds (H*W each) in the statistics
// Forward keeps for Backward: (N, 2, H, W), the means then the 1/stds.
func (l LayerNorm) stats(stats []float32, i int) (mean, rstd []float32) {
	hw := l.H * l.W
	return stats[2*i*hw : (2*i+1)*hw], stats[(2*i+1)*hw : (2*i+2)*hw]
}

// Forward: x and y are (N,C,H,W), gamma and beta (C); stats (N,2,H,W)
// receives each position's mean and 1/std for Backward. Sums run
// over the channels with the positions in the inner loop (contiguous in
// NCHW), in float32 after subtracting the mean (two passes).
func (l LayerNorm) Forward(n int, x, y, gamma, beta, stats []float32) {
	l.check("LayerNorm.Forward", n, x, y, gamma, beta, stats)
	j := planeJob{f: layerNormForwardImage, ln: l, s: [9][]float32{x, y, gamma, beta, stats}}
	runPlanes(n, len(x), n, &j)
}

func layerNormForwardImage(j *planeJob, _, i int) {
	l := &j.ln
	x, y, gamma, beta := j.s[0], j.s[1], j.s[2], j.s[3]
	hw := l.H * l.W
	inv := 1 / float32(l.C)
	eps := l.eps()
	xs, ys := x[i*l.C*hw:(i+1)*l.C*hw], y[i*l.C*hw:(i+1)*l.C*hw]
	mu, rs := l.stats(j.s[4], i)
	copy(mu, xs[:hw])
	for c := 1; c < l.C; c++ {
		addTo(mu, xs[c*hw:(c+1)*hw])
	}
	for p := range mu {
		mu[p] *= inv
	}
	clear(rs)
	for c := 0; c < l.C; c++ {
		xc := xs[c*hw : (c+1)*hw]
		xc, rs := xc[:len(mu)], rs[:len(mu)]
		for p, m := range mu {
			d := xc[p] - m
			rs[p] += d * d
		}
	}
	for p, v := range rs {
		rs[p] = float32(1 / math.Sqrt(float64(v*inv+eps)))
	}
	for c := 0; c < l.C; c++ {
		g, b := gamma[c], beta[c]
		xc, yc := xs[c*hw:(c+1)*hw], ys[c*hw:(c+1)*hw]
		xc, yc, rs := xc[:len(mu)], yc[:len(mu)], rs[:len(mu)]
		for p, m := range mu {
			yc[p] = (xc[p]-m)*rs[p]*g + b
		}
	}
}

// addTo is a += b.
func addTo(a, b []float32) {
	b = b[:len(a)]
	for i, v := range b {
		a[i] += v
	}
}

// Backward: x and dy are (N,C,H,W), gamma (C), stats Forward's;
// with xhat = (x - mean) * rstd and g = dy * gamma over the channels of one
// position: dx += rstd * (g - mean_c(g) - xhat * mean_c(g * xhat)),
// dgamma += sum dy * xhat, dbeta += sum dy. scratch holds ScratchSize(n)
// floats (with less, fewer workers run; at least 2*H*W + 2*C*n).
func (l LayerNorm) Backward(n int, x, dy, gamma, stats, dx, dgamma, dbeta, scratch []float32) {
	l.check("LayerNorm.Backward", n, x, dy, gamma, dbeta, stats)
	check("LayerNorm.Backward", "dx", dx, len(x))
	check("LayerNorm.Backward", "dgamma", dgamma, l.C)
	hw := l.H * l.W
	checkMin("LayerNorm.Backward", "scratch", scratch, 2*hw+2*l.C*n)
	parts := scratch[:2*l.C*n]
	slots := (len(scratch) - len(parts)) / (2 * hw)
	j := planeJob{f: layerNormBackwardImage, ln: l, s: [9][]float32{x, dy, gamma, stats, dx, parts, scratch[len(parts):]}}
	runPlanes(n, len(x), slots, &j)
	for i := 0; i < n; i++ {
		addTo(dgamma, parts[2*i*l.C:(2*i+1)*l.C])
		addTo(dbeta, parts[(2*i+1)*l.C:(2*i+2)*l.C])
	}
}

func layerNormBackwardImage(j *planeJob, slot, i int) {
	l := &j.ln
	x, dy, gamma, dx := j.s[0], j.s[1], j.s[2], j.s[4]
	hw := l.H * l.W
	inv := 1 / float32(l.C)
	o := i * l.C * hw
	mu, rs := l.stats(j.s[3], i)
	dg, db := j.s[5][2*i*l.C:(2*i+1)*l.C], j.s[5][(2*i+1)*l.C:(2*i+2)*l.C]
	a, b := j.s[6][2*slot*hw:(2*slot+1)*hw], j.s[6][(2*slot+1)*hw:(2*slot+2)*hw]
	clear(a)
	clear(b)
	for c := 0; c < l.C; c++ {
		g := gamma[c]
		xc, dc := x[o+c*hw:o+(c+1)*hw], dy[o+c*hw:o+(c+1)*hw]
		xc, dc, a, b, rs := xc[:len(mu)], dc[:len(mu)], a[:len(mu)], b[:len(mu)], rs[:len(mu)]
		var sdy, sdyx float32
		for p, m := range mu {
			xh := (xc[p] - m) * rs[p]
			d := dc[p]
			sdy += d
			sdyx += d * xh
			a[p] += d * g
			b[p] += d * g * xh
		}
		db[c] = sdy
		dg[c] = sdyx
	}
	for p := range a {
		a[p] *= inv
		b[p] *= inv
	}
	for c := 0; c < l.C; c++ {
		g := gamma[c]
		xc, dc, dxc := x[o+c*hw:o+(c+1)*hw], dy[o+c*hw:o+(c+1)*hw], dx[o+c*hw:o+(c+1)*hw]
		xc, dc, dxc, a, b, rs := xc[:len(mu)], dc[:len(mu)], dxc[:len(mu)], a[:len(mu)], b[:len(mu)], rs[:len(mu)]
		for p, m := range mu {
			xh := (xc[p] - m) * rs[p]
			dxc[p] += rs[p] * (dc[p]*g - a[p] - xh*b[p])
		}
	}
}

// ForwardRef is the naive twin of Forward (float64, element by element).
func (l LayerNorm) ForwardRef(n int, x, y, gamma, beta, stats []float32) {
	l.check("LayerNorm.ForwardRef", n, x, y, gamma, beta, stats)
	hw := l.H * l.W
	at := func(i, c, p int) int { return (i*l.C+c)*hw + p }
	for i := 0; i < n; i++ {
		for p := 0; p < hw; p++ {
			var s float64
			for c := 0; c < l.C; c++ {
				s += float64(x[at(i, c, p)])
			}
			mu := s / float64(l.C)
			var ss float64
			for c := 0; c < l.C; c++ {
				d := float64(x[at(i, c, p)]) - mu
				ss += d * d
			}
			r := 1 / math.Sqrt(ss/float64(l.C)+float64(l.eps()))
			for c := 0; c < l.C; c++ {
				y[at(i, c, p)] = float32((float64(x[at(i, c, p)])-mu)*r*float64(gamma[c]) + float64(beta[c]))
			}
			stats[2*i*hw+p], stats[(2*i+1)*hw+p] = float32(mu), float32(r)
		}
	}
}

// BackwardRef is the naive twin of Backward (float64, no scratch).
func (l LayerNorm) BackwardRef(n int, x, dy, gamma, stats, dx, dgamma, dbeta []float32) {
	l.check("LayerNorm.BackwardRef", n, x, dy, gamma, dbeta, stats)
	check("LayerNorm.BackwardRef", "dx", dx, len(x))
	check("LayerNorm.BackwardRef", "dgamma", dgamma, l.C)
	hw := l.H * l.W
	at := func(i, c, p int) int { return (i*l.C+c)*hw + p }
	for i := 0; i < n; i++ {
		for p := 0; p < hw; p++ {
			mu, r := float64(stats[2*i*hw+p]), float64(stats[(2*i+1)*hw+p])
			xhat := func(c int) float64 { return (float64(x[at(i, c, p)]) - mu) * r }
			var a, b float64
			for c := 0; c < l.C; c++ {
				g := float64(dy[at(i, c, p)]) * float64(gamma[c])
				a += g
				b += g * xhat(c)
				dgamma[c] += float32(float64(dy[at(i, c, p)]) * xhat(c))
				dbeta[c] += dy[at(i, c, p)]
			}
			a /= float64(l.C)
			b /= float64(l.C)
			for c := 0; c < l.C; c++ {
				g := float64(dy[at(i, c, p)]) * float64(gamma[c])
				dx[at(i, c, p)] += float32(r * (g - a - xhat(c)*b))
			}
		}
	}
}
