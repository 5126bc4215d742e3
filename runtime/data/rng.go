package data

import "math/bits"

// rng is SplitMix64 (Steele, Lea, Flood 2014): one uint64 of state, so a
// loader's position in its random streams is a number that fits a
// checkpoint. The streams of this package are fixed: a seed gives the same
// batches on every platform and Go version.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns a uniform integer in [0, n), n > 0, without bias (Lemire's
// multiply-and-reject).
func (r *rng) intn(n int) int {
	un := uint64(n)
	hi, lo := bits.Mul64(r.next(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.next(), un)
		}
	}
	return int(hi)
}

// seedState derives independent stream states from one seed.
func seedState(seed, stream uint64) uint64 {
	r := rng{seed ^ stream*0xd1b54a32d192ed03}
	return r.next()
}
