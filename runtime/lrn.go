package runtime

import "math"

// LRN is local response normalisation across channels, as
// torch.nn.LocalResponseNorm(Size, Alpha, Beta, K):
//
//	scale[c] = K + Alpha/Size * sum_{c' = c-Size/2}^{c+(Size-1)/2} x[c']^2
//	y[c]     = x[c] * scale[c]^-Beta
//
// with channels outside [0, C) counting as zero. AlexNet uses Size 5,
// Alpha 1e-4, Beta 0.75, K 2.
type LRN struct {
	C, H, W        int
	Size           int
	Alpha, Beta, K float32
}

func (l LRN) checkBufs(op string, n int, bufs ...[]float32) {
	if l.Size < 1 || l.C < 1 || l.H < 1 || l.W < 1 {
		panic("runtime." + op + ": LRN sizes must be positive")
	}
	for _, b := range bufs {
		check(op, "tensor", b, n*l.C*l.H*l.W)
	}
}

// ForwardRef: x, y and scale are (N,C,H,W); scale is saved for backward.
func (l LRN) ForwardRef(n int, x, y, scale []float32) {
	l.checkBufs("LRN.ForwardRef", n, x, y, scale)
	hw := l.H * l.W
	for i := 0; i < n; i++ {
		for c := 0; c < l.C; c++ {
			for p := 0; p < hw; p++ {
				var s float64
				for cc := c - l.Size/2; cc <= c+(l.Size-1)/2; cc++ {
					if cc >= 0 && cc < l.C {
						v := float64(x[(i*l.C+cc)*hw+p])
						s += v * v
					}
				}
				sc := float64(l.K) + float64(l.Alpha)/float64(l.Size)*s
				o := (i*l.C+c)*hw + p
				scale[o] = float32(sc)
				y[o] = float32(float64(x[o]) * math.Pow(sc, -float64(l.Beta)))
			}
		}
	}
}

// BackwardRef: x, y, scale, dy, dx are (N,C,H,W); dx += dL/dx:
//
//	dx[c] = dy[c]*scale[c]^-Beta
//	        - 2*Alpha*Beta/Size * x[c] * sum_{c' : c in window(c')} dy[c']*y[c']/scale[c']
func (l LRN) BackwardRef(n int, x, y, scale, dy, dx []float32) {
	l.checkBufs("LRN.BackwardRef", n, x, y, scale, dy, dx)
	hw := l.H * l.W
	f := 2 * float64(l.Alpha) * float64(l.Beta) / float64(l.Size)
	for i := 0; i < n; i++ {
		for c := 0; c < l.C; c++ {
			for p := 0; p < hw; p++ {
				var s float64
				for cc := c - (l.Size-1)/2; cc <= c+l.Size/2; cc++ {
					if cc >= 0 && cc < l.C {
						o := (i*l.C+cc)*hw + p
						s += float64(dy[o]) * float64(y[o]) / float64(scale[o])
					}
				}
				o := (i*l.C+c)*hw + p
				g := float64(dy[o])*math.Pow(float64(scale[o]), -float64(l.Beta)) - f*float64(x[o])*s
				dx[o] += float32(g)
			}
		}
	}
}

// powNeg returns s^-beta, with a fast path for AlexNet's 0.75.
func powNeg(s, beta float32) float32 {
	if beta == 0.75 {
		r := float32(math.Sqrt(float64(s)))
		return 1 / (r * float32(math.Sqrt(float64(r))))
	}
	return float32(math.Pow(float64(s), -float64(beta)))
}

// Forward is the fast twin of ForwardRef: a plane at a time (planes split
// over the workers), the sum of squares over the window accumulated
// directly (no running sum, so no cancellation). scratch has at least H*W
// floats (ScratchSize() for all workers).
func (l LRN) Forward(n int, x, y, scale, scratch []float32) {
	l.checkBufs("LRN.Forward", n, x, y, scale)
	hw := l.H * l.W
	checkMin("LRN.Forward", "scratch", scratch, hw)
	j := planeJob{f: lrnForwardPlane, lrn: l, s: [9][]float32{x, y, scale, scratch}}
	runPlanes(n*l.C, len(x), len(scratch)/hw, &j)
}

func lrnForwardPlane(j *planeJob, slot, item int) {
	l := &j.lrn
	x, y, scale := j.s[0], j.s[1], j.s[2]
	hw := l.H * l.W
	sum := j.s[3][slot*hw : (slot+1)*hw]
	a := l.Alpha / float32(l.Size)
	i, c := item/l.C, item%l.C
	base := i * l.C * hw
	clear(sum)
	for cc := max(0, c-l.Size/2); cc <= min(l.C-1, c+(l.Size-1)/2); cc++ {
		xs := x[base+cc*hw : base+(cc+1)*hw]
		xs = xs[:len(sum)]
		for p, v := range xs {
			sum[p] += v * v
		}
	}
	o := base + c*hw
	xs, ys, ss := x[o:o+hw], y[o:o+hw], scale[o:o+hw]
	for p, s := range sum {
		sc := l.K + a*s
		ss[p] = sc
		ys[p] = xs[p] * powNeg(sc, l.Beta)
	}
}

// ScratchSize returns the floats Forward and Backward need: Size+1 planes
// per worker (Forward uses one).
func (l LRN) ScratchSize() int { return (l.Size + 1) * l.H * l.W * Workers() }

// Backward is the fast twin of BackwardRef, an image per worker: the ratios
// dy*y/scale are computed once per element into a ring of Size planes as the
// channel window slides, and each channel sums its window from the ring.
// scratch has at least (Size+1)*H*W floats (ScratchSize() for all workers).
func (l LRN) Backward(n int, x, y, scale, dy, dx, scratch []float32) {
	l.checkBufs("LRN.Backward", n, x, y, scale, dy, dx)
	per := (l.Size + 1) * l.H * l.W
	checkMin("LRN.Backward", "scratch", scratch, per)
	j := planeJob{f: lrnBackwardImage, lrn: l, s: [9][]float32{x, y, scale, dy, dx, scratch}}
	runPlanes(n, len(x), len(scratch)/per, &j)
}

func lrnBackwardImage(j *planeJob, slot, i int) {
	l := &j.lrn
	hw := l.H * l.W
	base := i * l.C * hw
	x, y, scale, dy, dx := j.s[0][base:base+l.C*hw], j.s[1][base:base+l.C*hw], j.s[2][base:base+l.C*hw],
		j.s[3][base:base+l.C*hw], j.s[4][base:base+l.C*hw]
	sc := j.s[5][slot*(l.Size+1)*hw : (slot+1)*(l.Size+1)*hw]
	ring, sum := sc[:l.Size*hw], sc[l.Size*hw:]
	f := 2 * l.Alpha * l.Beta / float32(l.Size)
	lo, hi := (l.Size-1)/2, l.Size/2 // channel c sums ratios of c' in [c-lo, c+hi]
	ratio := func(cc int) {
		r := ring[(cc%l.Size)*hw : (cc%l.Size+1)*hw]
		d, yy, s := dy[cc*hw:(cc+1)*hw], y[cc*hw:(cc+1)*hw], scale[cc*hw:(cc+1)*hw]
		for p := range r {
			r[p] = d[p] * yy[p] / s[p]
		}
	}
	for cc := 0; cc < min(hi, l.C); cc++ {
		ratio(cc)
	}
	for c := 0; c < l.C; c++ {
		if cc := c + hi; cc < l.C {
			ratio(cc)
		}
		c0, c1 := max(0, c-lo), min(l.C-1, c+hi)
		copy(sum, ring[(c0%l.Size)*hw:(c0%l.Size+1)*hw])
		for cc := c0 + 1; cc <= c1; cc++ {
			axpy(sum, ring[(cc%l.Size)*hw:(cc%l.Size+1)*hw])
		}
		xs, ds, ss, dxs := x[c*hw:(c+1)*hw], dy[c*hw:(c+1)*hw], scale[c*hw:(c+1)*hw], dx[c*hw:(c+1)*hw]
		for p := range dxs {
			dxs[p] += ds[p]*powNeg(ss[p], l.Beta) - f*xs[p]*sum[p]
		}
	}
}
