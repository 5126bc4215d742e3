package runtime

// relu: the kernel is its own reference (one comparison per element);
// TestReluAddConcat checks it element by element.

// ReluForward: x is any shape; x = max(x, 0) in place.
func ReluForward(x []float32) {
	for i, v := range x {
		x[i] = max(v, 0)
	}
}

// ReluBackward: y (the output of ReluForward) and dy have the same shape;
// the gradient flows through the same buffer as relu is in place, so dy is
// masked in place: dy = 0 where y <= 0 (PyTorch's threshold_backward).
func ReluBackward(y, dy []float32) {
	check("ReluBackward", "dy", dy, len(y))
	for i, v := range y {
		if v <= 0 {
			dy[i] = 0
		}
	}
}
