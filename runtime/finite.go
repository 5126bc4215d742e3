package runtime

import "math"

// AllFinite reports whether no value of x is NaN or infinite: the check
// before an optimizer step that would spread them into the parameters.
func AllFinite(x []float32) bool {
	const exp = 0x7f800000 // exponent all ones: Inf or NaN
	for _, v := range x {
		if math.Float32bits(v)&exp == exp {
			return false
		}
	}
	return true
}
