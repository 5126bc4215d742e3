package runtime

import (
	"math"
	"math/rand/v2"
)

// RNG is the only source of randomness of the runtime (initialisers,
// dropout): a PCG generator from math/rand/v2, reproducible across runs and
// machines (normals, computed with math.Log/Cos in float64, could differ in
// a last bit on architectures that fuse multiply-adds). NewRNG(seed) seeds PCG with (seed, splitmix64(seed)); use
// SeedFor to derive one independent stream per named tensor or layer.
// Normals use the Box-Muller transform. The state marshals with
// MarshalBinary/UnmarshalBinary (for checkpoints).
type RNG struct {
	pcg rand.PCG
}

// NewRNG returns a generator seeded with seed.
func NewRNG(seed uint64) *RNG {
	r := &RNG{}
	r.pcg.Seed(seed, splitmix64(seed))
	return r
}

// SeedFor derives the seed of the stream called name from a run's seed:
// splitmix64(seed ^ fnv1a64(name)).
func SeedFor(seed uint64, name string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return splitmix64(seed ^ h)
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Uint64 returns 64 random bits.
func (r *RNG) Uint64() uint64 { return r.pcg.Uint64() }

// Float64 returns a uniform value in [0, 1) with 53 random bits.
func (r *RNG) Float64() float64 { return float64(r.pcg.Uint64()>>11) / (1 << 53) }

// Uniform returns a uniform value in [lo, hi).
func (r *RNG) Uniform(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// Normal returns a standard normal value (Box-Muller, one value per call).
func (r *RNG) Normal() float64 {
	u1 := 1 - r.Float64() // (0, 1]
	u2 := r.Float64()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// MarshalBinary returns the generator state.
func (r *RNG) MarshalBinary() ([]byte, error) { return r.pcg.MarshalBinary() }

// UnmarshalBinary restores a state returned by MarshalBinary.
func (r *RNG) UnmarshalBinary(b []byte) error { return r.pcg.UnmarshalBinary(b) }
