package runtime

// add (residual connections): the kernel is its own reference.

// AddForward: a, b and y have the same shape; y = a + b (y may alias a or b).
func AddForward(a, b, y []float32) {
	check("AddForward", "b", b, len(a))
	check("AddForward", "y", y, len(a))
	for i := range y {
		y[i] = a[i] + b[i]
	}
}

// AddBackward: da += dy and db += dy.
func AddBackward(dy, da, db []float32) {
	check("AddBackward", "da", da, len(dy))
	check("AddBackward", "db", db, len(dy))
	for i, v := range dy {
		da[i] += v
		db[i] += v
	}
}
