package runtime

import "math"

// The activations after 2015, element-wise as relu: relu6, tanh (in place;
// their backward reads their output), sigmoid (its own output buffer, its
// backward reads it), silu, gelu, hardswish and hardsigmoid (their own
// output buffer; their backward reads their input). Each matches PyTorch's
// module of the same name, forward and backward, at its kinks too.
// Backward kernels of the ops with their own buffer accumulate into dx
// (dx += ...), those in place scale dy in place, as relu's. Large tensors
// are split in chunks over the workers (relu.go's chunk).
//
// The kernels with a transcendental function compute it in float32
// (activation_math.go: loops over slices, 8 floats at a time with AVX2 in
// activation_amd64.s) and have a float64 reference twin (...Ref); the
// piecewise-linear ones are their own reference.

// elementwiseRun runs f over the chunks of s[0] (the other slices have its
// length) on the workers, with the scalar a.
func elementwiseRun(f func(j *planeJob, slot, item int), a float32, s ...[]float32) {
	n := len(s[0])
	j := planeJob{f: f, a: a}
	copy(j.s[:], s)
	runPlanes(chunks(n), n, chunks(n), &j)
}

// chunks2 and chunks3 are the i-th chunks of j's first two or three slices.
func chunks2(j *planeJob, i int) ([]float32, []float32) {
	x := chunkOf(j.s[0], i)
	return x, chunkOf(j.s[1], i)[:len(x)]
}

func chunks3(j *planeJob, i int) ([]float32, []float32, []float32) {
	x := chunkOf(j.s[0], i)
	return x, chunkOf(j.s[1], i)[:len(x)], chunkOf(j.s[2], i)[:len(x)]
}

// ReLU6Forward: x = min(max(x, 0), 6) in place (nn.ReLU6).
func ReLU6Forward(x []float32) { elementwiseRun(relu6ForwardChunk, 0, x) }

func relu6ForwardChunk(j *planeJob, _, i int) {
	x := chunkOf(j.s[0], i)
	if hasAVX2 && len(x) >= 8 {
		n := len(x) / 8 * 8
		clampAVX2(&x[0], n, 0, 6)
		x = x[n:]
	}
	for k, v := range x {
		x[k] = min(max(v, 0), 6)
	}
}

// ReLU6Backward: y is the output of ReLU6Forward; dy = 0 in place where
// y <= 0 or y >= 6 (PyTorch's hardtanh_backward: the gradient is 0 at 0 and
// at 6).
func ReLU6Backward(y, dy []float32) {
	check("ReLU6Backward", "dy", dy, len(y))
	elementwiseRun(relu6BackwardChunk, 0, y, dy)
}

func relu6BackwardChunk(j *planeJob, _, i int) {
	y, dy := chunks2(j, i)
	const six = 0x40c00000 // the bits of 6
	for k, v := range y {
		m := uint32(0)
		if math.Float32bits(v)-1 < six-1 { // 0 < v < 6 in one comparison
			m = math.MaxUint32
		}
		dy[k] = math.Float32frombits(math.Float32bits(dy[k]) & m)
	}
}

// TanhForward: x = tanh(x) in place (nn.Tanh).
func TanhForward(x []float32) { elementwiseRun(tanhForwardChunk, 0, x) }

func tanhForwardChunk(j *planeJob, _, i int) {
	var e [actBlock]float32
	x := chunkOf(j.s[0], i)
	for b := 0; b < len(x); b += actBlock {
		xb := x[b:min(b+actBlock, len(x))]
		tanhs(xb, xb, e[:])
	}
}

// TanhForwardRef is TanhForward in float64.
func TanhForwardRef(x []float32) {
	for k, v := range x {
		x[k] = float32(math.Tanh(float64(v)))
	}
}

// TanhBackward: y is the output of TanhForward; dy *= 1 - y*y in place.
func TanhBackward(y, dy []float32) {
	check("TanhBackward", "dy", dy, len(y))
	elementwiseRun(tanhBackwardChunk, 0, y, dy)
}

func tanhBackwardChunk(j *planeJob, _, i int) {
	y, dy := chunks2(j, i)
	for k, v := range y {
		dy[k] *= 1 - v*v
	}
}

// SigmoidForward: y = 1/(1+e^-x) (nn.Sigmoid).
func SigmoidForward(x, y []float32) {
	check("SigmoidForward", "y", y, len(x))
	elementwiseRun(sigmoidForwardChunk, 0, x, y)
}

func sigmoidForwardChunk(j *planeJob, _, i int) {
	x, y := chunks2(j, i)
	sigmoids(x, y)
}

// SigmoidForwardRef is SigmoidForward in float64.
func SigmoidForwardRef(x, y []float32) {
	check("SigmoidForwardRef", "y", y, len(x))
	for k, v := range x {
		y[k] = float32(sigmoid64(float64(v)))
	}
}

func sigmoid64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// SigmoidBackward: y is the output of SigmoidForward; dx += dy*y*(1-y).
func SigmoidBackward(y, dy, dx []float32) {
	check("SigmoidBackward", "dy", dy, len(y))
	check("SigmoidBackward", "dx", dx, len(y))
	elementwiseRun(sigmoidBackwardChunk, 0, y, dy, dx)
}

func sigmoidBackwardChunk(j *planeJob, _, i int) {
	y, dy, dx := chunks3(j, i)
	for k, v := range y {
		dx[k] += dy[k] * (1 - v) * v
	}
}

// SiLUForward: y = x*sigmoid(x) (nn.SiLU, also called swish).
func SiLUForward(x, y []float32) {
	check("SiLUForward", "y", y, len(x))
	elementwiseRun(siluForwardChunk, 0, x, y)
}

func siluForwardChunk(j *planeJob, _, i int) {
	x, y := chunks2(j, i)
	sigmoids(x, y)
	for k, v := range x {
		y[k] *= v
	}
}

// SiLUBackward: x is the input of SiLUForward; dx += dy*s*(1 + x*(1-s)),
// s = sigmoid(x) (PyTorch's silu_backward).
func SiLUBackward(x, dy, dx []float32) {
	check("SiLUBackward", "dy", dy, len(x))
	check("SiLUBackward", "dx", dx, len(x))
	elementwiseRun(siluBackwardChunk, 0, x, dy, dx)
}

func siluBackwardChunk(j *planeJob, _, i int) {
	var s [actBlock]float32
	x, dy, dx := chunks3(j, i)
	for b := 0; b < len(x); b += actBlock {
		xb := x[b:min(b+actBlock, len(x))]
		dyb, dxb := dy[b:b+len(xb)], dx[b:b+len(xb)]
		sigmoids(xb, s[:])
		for k, v := range xb {
			dxb[k] += dyb[k] * s[k] * (1 + v*(1-s[k]))
		}
	}
}

// SiLUForwardRef and SiLUBackwardRef are SiLU's kernels in float64.
func SiLUForwardRef(x, y []float32) {
	check("SiLUForwardRef", "y", y, len(x))
	for k, v := range x {
		y[k] = float32(float64(v) * sigmoid64(float64(v)))
	}
}

func SiLUBackwardRef(x, dy, dx []float32) {
	check("SiLUBackwardRef", "dy", dy, len(x))
	check("SiLUBackwardRef", "dx", dx, len(x))
	for k, v := range x {
		s, x := sigmoid64(float64(v)), float64(v)
		dx[k] += float32(float64(dy[k]) * s * (1 + x*(1-s)))
	}
}

// GELU is x*Phi(x), Phi the standard normal distribution's cdf (nn.GELU);
// with Tanh, PyTorch's approximate='tanh' form,
// x/2*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3))).
type GELU struct{ Tanh bool }

// Forward: y = gelu(x).
func (g GELU) Forward(x, y []float32) {
	check("GELU.Forward", "y", y, len(x))
	f := geluForwardChunk
	if g.Tanh {
		f = geluTanhForwardChunk
	}
	elementwiseRun(f, 0, x, y)
}

func geluForwardChunk(j *planeJob, _, i int) {
	x, y := chunks2(j, i)
	ncdfs(x, y, nil)
	for k, v := range x {
		y[k] *= v
	}
}

func geluTanhForwardChunk(j *planeJob, _, i int) {
	var e [actBlock]float32
	x, y := chunks2(j, i)
	for b := 0; b < len(x); b += actBlock {
		xb, yb := x[b:min(b+actBlock, len(x))], y[b:]
		for k, v := range xb {
			yb[k] = geluK * (v + geluC*v*v*v)
		}
		tanhs(yb[:len(xb)], yb, e[:])
		for k, v := range xb {
			yb[k] = 0.5 * v * (1 + yb[k])
		}
	}
}

// Backward: x is the input of Forward; dx += dy*gelu'(x), which is
// Phi(x) + x*phi(x) (phi the normal density), and for the tanh form
// (1+t)/2 + x/2*(1-t^2)*sqrt(2/pi)*(1 + 3*0.044715*x^2), t the tanh.
func (g GELU) Backward(x, dy, dx []float32) {
	check("GELU.Backward", "dy", dy, len(x))
	check("GELU.Backward", "dx", dx, len(x))
	f := geluBackwardChunk
	if g.Tanh {
		f = geluTanhBackwardChunk
	}
	elementwiseRun(f, 0, x, dy, dx)
}

func geluBackwardChunk(j *planeJob, _, i int) {
	var c, pdf [actBlock]float32
	x, dy, dx := chunks3(j, i)
	for b := 0; b < len(x); b += actBlock {
		xb := x[b:min(b+actBlock, len(x))]
		dyb, dxb := dy[b:b+len(xb)], dx[b:b+len(xb)]
		ncdfs(xb, c[:], pdf[:])
		for k, v := range xb {
			dxb[k] += dyb[k] * (c[k] + v*pdf[k])
		}
	}
}

func geluTanhBackwardChunk(j *planeJob, _, i int) {
	var t, e [actBlock]float32
	x, dy, dx := chunks3(j, i)
	for b := 0; b < len(x); b += actBlock {
		xb := x[b:min(b+actBlock, len(x))]
		dyb, dxb := dy[b:b+len(xb)], dx[b:b+len(xb)]
		for k, v := range xb {
			t[k] = geluK * (v + geluC*v*v*v)
		}
		tb := t[:len(xb)]
		tanhs(tb, tb, e[:])
		for k, v := range xb {
			u := tb[k]
			dxb[k] += dyb[k] * (0.5*(1+u) + 0.5*v*(1-u*u)*geluK*(1+3*geluC*v*v))
		}
	}
}

// ForwardRef and BackwardRef are GELU's kernels in float64.
func (g GELU) ForwardRef(x, y []float32) {
	check("GELU.ForwardRef", "y", y, len(x))
	for k, v := range x {
		y[k] = float32(g.ref(float64(v), false))
	}
}

func (g GELU) BackwardRef(x, dy, dx []float32) {
	check("GELU.BackwardRef", "dy", dy, len(x))
	check("GELU.BackwardRef", "dx", dx, len(x))
	for k, v := range x {
		dx[k] += float32(float64(dy[k]) * g.ref(float64(v), true))
	}
}

// ref is gelu(x), or its derivative.
func (g GELU) ref(x float64, deriv bool) float64 {
	if g.Tanh {
		t := math.Tanh(geluK * (x + geluC*x*x*x))
		if deriv {
			return 0.5*(1+t) + 0.5*x*(1-t*t)*geluK*(1+3*geluC*x*x)
		}
		return 0.5 * x * (1 + t)
	}
	cdf := 0.5 * math.Erfc(-x/math.Sqrt2)
	if deriv {
		return cdf + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
	}
	return x * cdf
}

// HardswishForward: y = x*min(max(x+3, 0), 6)/6 (nn.Hardswish).
func HardswishForward(x, y []float32) {
	check("HardswishForward", "y", y, len(x))
	elementwiseRun(hardswishForwardChunk, 0, x, y)
}

func hardswishForwardChunk(j *planeJob, _, i int) {
	x, y := chunks2(j, i)
	for k, v := range x {
		y[k] = v * min(max(v+3, 0), 6) / 6
	}
}

// HardswishBackward: x is the input of HardswishForward; dx += dy*g with
// g = 0 for x < -3, x/3 + 1/2 for -3 <= x < 3, 1 for x >= 3: PyTorch's
// hardswish_backward as its vectorised loop computes it (1.13 and 2.x),
// which is every value of a tensor but its last few; the scalar loop of the
// remainder takes x = 3 in the middle piece (3/2).
func HardswishBackward(x, dy, dx []float32) {
	check("HardswishBackward", "dy", dy, len(x))
	check("HardswishBackward", "dx", dx, len(x))
	elementwiseRun(hardswishBackwardChunk, 0, x, dy, dx)
}

func hardswishBackwardChunk(j *planeJob, _, i int) {
	x, dy, dx := chunks3(j, i)
	for k, v := range x {
		g := pick(v+3, 0, v/3+0.5) // v+3 and v-3 are exact near the kinks
		dx[k] += dy[k] * pick(v-3, g, 1)
	}
}

// HardsigmoidForward: y = min(max(x+3, 0), 6)/6 (nn.Hardsigmoid).
func HardsigmoidForward(x, y []float32) {
	check("HardsigmoidForward", "y", y, len(x))
	elementwiseRun(hardsigmoidForwardChunk, 0, x, y)
}

func hardsigmoidForwardChunk(j *planeJob, _, i int) {
	x, y := chunks2(j, i)
	for k, v := range x {
		y[k] = min(max(v+3, 0), 6) / 6
	}
}

// HardsigmoidBackward: x is the input of HardsigmoidForward; dx += dy/6
// where -3 < x < 3 (PyTorch's hardsigmoid_backward: 0 at both kinks).
func HardsigmoidBackward(x, dy, dx []float32) {
	check("HardsigmoidBackward", "dy", dy, len(x))
	check("HardsigmoidBackward", "dx", dx, len(x))
	elementwiseRun(hardsigmoidBackwardChunk, 0, x, dy, dx)
}

func hardsigmoidBackwardChunk(j *planeJob, _, i int) {
	x, dy, dx := chunks3(j, i)
	for k, v := range x {
		dx[k] += dy[k] * pick(abs32(v)-3, 1.0/6, 0) // |x| - 3 < 0; +0 at the kinks
	}
}
