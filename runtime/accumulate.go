package runtime

// Accumulate adds src into dst (dst += src): the backward of a copy, used
// when an in-place op (relu, dropout) had to work on a copy of its input
// because the input has other readers.
func Accumulate(dst, src []float32) {
	check("Accumulate", "src", src, len(dst))
	for i, v := range src {
		dst[i] += v
	}
}
