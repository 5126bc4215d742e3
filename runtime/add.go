package runtime

// add (residual connections): the kernel is its own reference. Large
// tensors are split in chunks over the workers.

// AddForward: a, b and y have the same shape; y = a + b (y may alias a or b).
func AddForward(a, b, y []float32) {
	check("AddForward", "b", b, len(a))
	check("AddForward", "y", y, len(a))
	j := planeJob{f: addForwardChunk, s: [9][]float32{a, b, y}}
	runPlanes(chunks(len(a)), len(a), chunks(len(a)), &j)
}

func addForwardChunk(j *planeJob, _, i int) {
	a, b, y := chunkOf(j.s[0], i), chunkOf(j.s[1], i), chunkOf(j.s[2], i)
	b, y = b[:len(a)], y[:len(a)]
	for k, v := range a {
		y[k] = v + b[k]
	}
}

// AddBackward: da += dy and db += dy.
func AddBackward(dy, da, db []float32) {
	check("AddBackward", "da", da, len(dy))
	check("AddBackward", "db", db, len(dy))
	j := planeJob{f: addBackwardChunk, s: [9][]float32{dy, da, db}}
	runPlanes(chunks(len(dy)), len(dy), chunks(len(dy)), &j)
}

func addBackwardChunk(j *planeJob, _, i int) {
	dy, da, db := chunkOf(j.s[0], i), chunkOf(j.s[1], i), chunkOf(j.s[2], i)
	da, db = da[:len(dy)], db[:len(dy)]
	for k, v := range dy {
		da[k] += v
		db[k] += v
	}
}
