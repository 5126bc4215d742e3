package safetensors

import "math"

// F16ToFloat32 converts an IEEE 754 half-precision value (exactly).
func F16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN (payload kept)
		return math.Float32frombits(sign | 0xff<<23 | man<<13)
	case exp == 0 && man == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: man * 2^-24
		f := float32(man) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(f))
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
}

// Float32ToF16 rounds f to the nearest half-precision value, ties to even,
// as numpy and PyTorch do; out-of-range values become ±Inf, NaN stays NaN.
func Float32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return sign | 0x7e00 | uint16(man>>13) // quiet NaN
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal or zero: value = (1.man) * 2^(exp-127); half subnormal
		// unit is 2^-24, so the integer mantissa is m >> shift.
		if e < -10 {
			return sign // rounds to zero (below half the smallest subnormal)
		}
		m := man | 0x800000
		shift := uint32(14 - e) // 13 + (1 - e)
		return sign | uint16(roundShift(m, shift))
	}
	// Normal: rounding may carry into the exponent, which is what we want
	// (and gives Inf at the top).
	v := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || rem == 0x1000 && v&1 == 1 {
		v++
	}
	return sign | uint16(v)
}

// roundShift returns m >> s rounded to nearest, ties to even.
func roundShift(m, s uint32) uint32 {
	q := m >> s
	rem := m & (1<<s - 1)
	half := uint32(1) << (s - 1)
	if rem > half || rem == half && q&1 == 1 {
		q++
	}
	return q
}

// Float32ToBF16 rounds f to the nearest bfloat16, ties to even, as PyTorch
// does; NaN stays NaN.
func Float32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40 // quiet NaN
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
