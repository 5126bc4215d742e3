package runtime

import "math"

// The float32 functions of the fast activation kernels: exp (Cephes'
// expf), sigmoid, tanh (Cephes' tanhf) and the normal distribution's cdf
// (Abramowitz and Stegun 7.1.26 for erf), over slices: each is a loop
// without calls (exp's body is written in expScalar's loop once, the
// other functions run it over a block), which the CPU overlaps from one
// element to the next. With AVX2 (activation_amd64.s) exp, sigmoids,
// tanhs and ncdfs run 8 floats at a time, the same operations in the same
// order, and the scalar loops take the remainder (TestExpVector). The
// reference kernels compute in float64 with package math;
// TestActivationMath bounds the differences.

// actBlock is the length of the temporary blocks (on the stack) of the
// kernels that need one.
const actBlock = 256

// expInPlace: e[k] = exp(e[k]) for e[k] <= 0 (the activations need no
// more), within 2 ulp down to -87; below, the argument is clamped to -87
// (e^-87 is 1.6e-38), so that 2^n below is a normal number. NaN stays NaN.
func expInPlace(e []float32) {
	if hasAVX2 {
		n := len(e) &^ 7
		expNegAVX2(e[:n])
		e = e[n:]
	}
	expScalar(e)
}

// expScalar is expInPlace one float at a time.
func expScalar(e []float32) {
	for k, x := range e {
		if x < -87 {
			x = -87
		}
		// x = n ln2 + r, |r| <= ln2/2 (n rounded to nearest by the
		// 1.5*2^23 trick; ln2 in two parts, the first exact in few bits).
		const magic = 12582912
		n := x*1.44269504 + magic
		n -= magic
		r := x - n*0.693359375
		r -= n * -2.12194440e-4
		p := float32(1.9875691500e-4)
		p = p*r + 1.3981999507e-3
		p = p*r + 8.3334519073e-3
		p = p*r + 4.1665795894e-2
		p = p*r + 1.6666665459e-1
		p = p*r + 5.0000001201e-1
		e[k] = (p*r*r + r + 1) * math.Float32frombits(uint32(int32(n)+127)<<23)
	}
}

// pick returns a when x's sign bit is set (x < 0, or -0), else b, without
// a branch (random signs mispredict).
func pick(x, a, b float32) float32 {
	m := uint32(int32(math.Float32bits(x)) >> 31)
	ab, bb := math.Float32bits(a), math.Float32bits(b)
	return math.Float32frombits(bb ^ (ab^bb)&m)
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// sigmoids: s[k] = 1/(1+e^-x[k]) (s must not be x), computed from
// e^-|x| so that it keeps its relative precision for large negative x.
func sigmoids(x, s []float32) {
	s = s[:len(x)]
	if hasAVX2 {
		n := len(x) &^ 7
		sigmoidAVX2(x[:n], s[:n])
		x, s = x[n:], s[n:]
	}
	for k, v := range x {
		s[k] = -abs32(v)
	}
	expInPlace(s)
	for k, v := range x {
		e := s[k]
		s[k] = pick(v, e, 1) / (1 + e)
	}
}

// tanhs: t[k] = tanh(x[k]) (t may be x), with e a block of len(x) floats:
// an odd polynomial for |x| < 0.625, (1 - e^-2|x|)/(1 + e^-2|x|) above.
func tanhs(x, t, e []float32) {
	t, e = t[:len(x)], e[:len(x)]
	if hasAVX2 {
		n := len(x) &^ 7
		tanhAVX2(x[:n], t[:n])
		x, t, e = x[n:], t[n:], e[n:]
	}
	for k, v := range x {
		e[k] = -2 * abs32(v)
	}
	expInPlace(e)
	for k, v := range x {
		z := v * v
		p := float32(-5.70498872745e-3)
		p = p*z + 2.06390887954e-2
		p = p*z - 5.37397155531e-2
		p = p*z + 1.33314422036e-1
		p = p*z - 3.33332819422e-1
		small := p*z*v + v
		big := (1 - e[k]) / (1 + e[k])
		big = math.Float32frombits(math.Float32bits(big) | math.Float32bits(v)&(1<<31))
		t[k] = pick(abs32(v)-0.625, small, big)
	}
}

// ncdfs: c[k] = Phi(x[k]) = (1 + erf(x/sqrt2))/2, the normal
// distribution's cdf, and, when pdf is not nil, pdf[k] = phi(x[k]), its
// density (c may not be x; pdf is a block of len(x) floats, or nil). erf is
// Abramowitz and Stegun's 7.1.26 (absolute error <= 1.5e-7), written as
// Phi(-|x|) = t*P(t)*e^(-x^2/2)/2 so that the small tail is not 1 minus
// something.
func ncdfs(x, c, pdf []float32) {
	c = c[:len(x)]
	if hasAVX2 {
		n := len(x) &^ 7
		var p []float32
		if pdf != nil {
			p = pdf[:n]
			pdf = pdf[n:len(x)]
		}
		ncdfAVX2(x[:n], c[:n], p)
		x, c = x[n:], c[n:]
	}
	for k, v := range x {
		c[k] = -0.5 * v * v
	}
	expInPlace(c)
	if pdf != nil {
		pdf = pdf[:len(x)]
		for k, e := range c {
			pdf[k] = 0.39894228 * e
		}
	}
	for k, v := range x {
		a := abs32(v) * 0.70710678 // |x|/sqrt2
		t := 1 / (1 + 0.3275911*a)
		p := float32(1.061405429)
		p = p*t - 1.453152027
		p = p*t + 1.421413741
		p = p*t - 0.284496736
		p = p*t + 0.254829592
		tail := 0.5 * t * p * c[k] // Phi(-|x|)
		c[k] = pick(-v, 1-tail, tail)
	}
}

// GELU's tanh form's constants: sqrt(2/pi) and the cubic's coefficient.
const (
	geluK = 0.7978845608028654
	geluC = 0.044715
)
