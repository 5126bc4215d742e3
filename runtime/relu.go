package runtime

import "math"

// relu: the kernel is its own reference (one comparison per element);
// TestReluAddConcat checks it element by element. Large tensors are split
// in chunks over the workers.

// chunk is the number of elements per parallel item of element-wise ops.
const chunk = 1 << 15

func chunks(n int) int { return (n + chunk - 1) / chunk }

func chunkOf(s []float32, i int) []float32 { return s[i*chunk : min(len(s), (i+1)*chunk)] }

// ReluForward: x is any shape; x = max(x, 0) in place.
func ReluForward(x []float32) {
	j := planeJob{f: reluForwardChunk, s: [9][]float32{x}}
	runPlanes(chunks(len(x)), len(x), chunks(len(x)), &j)
}

func reluForwardChunk(j *planeJob, _, i int) {
	x := chunkOf(j.s[0], i)
	for k, v := range x {
		x[k] = max(v, 0)
	}
}

// ReluBackward: y (the output of ReluForward) and dy have the same shape;
// the gradient flows through the same buffer as relu is in place, so dy is
// masked in place: dy = 0 where y <= 0 (PyTorch's threshold_backward).
func ReluBackward(y, dy []float32) {
	check("ReluBackward", "dy", dy, len(y))
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
