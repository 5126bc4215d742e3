package runtime

import "math"

// relu: the kernel is its own reference (one comparison per element);
// TestReLUAddConcat checks it element by element. Large tensors are split
// in chunks over the workers.

// chunk is the number of elements per parallel item of element-wise ops.
const chunk = 1 << 15

func chunks(n int) int { return (n + chunk - 1) / chunk }

func chunkOf(s []float32, i int) []float32 { return s[i*chunk : min(len(s), (i+1)*chunk)] }

// ReLUForward: x is any shape; x = max(x, 0) in place.
func ReLUForward(x []float32) {
	j := planeJob{f: reluForwardChunk, s: [9][]float32{x}}
	runPlanes(chunks(len(x)), len(x), chunks(len(x)), &j)
}

func reluForwardChunk(j *planeJob, _, i int) {
	x := chunkOf(j.s[0], i)
	biasReLU(x, x, 0, true)
}

// ReLUBackward: y (the output of ReLUForward) and dy have the same shape;
// the gradient flows through the same buffer as relu is in place, so dy is
// masked in place: dy = 0 where y <= 0 (PyTorch's threshold_backward).
func ReLUBackward(y, dy []float32) {
	check("ReLUBackward", "dy", dy, len(y))
	j := planeJob{f: reluBackwardChunk, s: [9][]float32{y, dy}}
	runPlanes(chunks(len(y)), len(y), chunks(len(y)), &j)
}

func reluBackwardChunk(j *planeJob, _, i int) {
	y, dy := chunkOf(j.s[0], i), chunkOf(j.s[1], i)
	dy = dy[:len(y)]
	for k, v := range y {
		m := uint32(0) // a mask instead of a branch: random signs mispredict
		if v > 0 {
			m = math.MaxUint32
		}
		dy[k] = math.Float32frombits(math.Float32bits(dy[k]) & m)
	}
}

// LeakyReLU is x for x > 0 and Slope*x otherwise, in place (PyTorch's
// nn.LeakyReLU); 0 < Slope < 1, so the sign of y tells the sign of x.
// Like relu it is its own reference; TestLeakyReLU checks it against
// PyTorch's golden tensors and finite differences.
type LeakyReLU struct{ Slope float32 }

// Forward: y = x > 0 ? x : Slope*x, in place.
func (l LeakyReLU) Forward(y []float32) {
	j := planeJob{f: leakyForwardChunk, s: [9][]float32{y}, a: l.Slope}
	runPlanes(chunks(len(y)), len(y), chunks(len(y)), &j)
}

func leakyForwardChunk(j *planeJob, _, i int) {
	y := chunkOf(j.s[0], i)
	for k, v := range y {
		if v <= 0 {
			y[k] = v * j.a
		}
	}
}

// Backward: y is the output of Forward; dy is scaled in place by Slope
// where y <= 0.
func (l LeakyReLU) Backward(y, dy []float32) {
	check("LeakyReLU.Backward", "dy", dy, len(y))
	j := planeJob{f: leakyBackwardChunk, s: [9][]float32{y, dy}, a: l.Slope}
	runPlanes(chunks(len(y)), len(y), chunks(len(y)), &j)
}

func leakyBackwardChunk(j *planeJob, _, i int) {
	y, dy := chunkOf(j.s[0], i), chunkOf(j.s[1], i)
	dy = dy[:len(y)]
	for k, v := range y {
		if v <= 0 {
			dy[k] *= j.a
		}
	}
}
