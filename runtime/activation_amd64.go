//go:build !purego

package runtime

// expNegAVX2 is expScalar over 8 floats at a time (len(e) a multiple of
// 8), in activation_amd64.s.
//
//go:noescape
func expNegAVX2(e []float32)

// sigmoidAVX2 is sigmoids over 8 floats at a time (len(x) a multiple of
// 8), in activation_amd64.s.
//
//go:noescape
func sigmoidAVX2(x, s []float32)

// tanhAVX2 and ncdfAVX2 are tanhs and ncdfs over 8 floats at a time
// (len(x) a multiple of 8; pdf nil or as long as x), in
// activation_amd64.s.
//
//go:noescape
func tanhAVX2(x, t []float32)

//go:noescape
func ncdfAVX2(x, c, pdf []float32)

// biasReLUAVX2 is biasReLU over n floats, n a multiple of 8, in
// activation_amd64.s; maxPairsAVX2 is maxRow's 2x2 stride-2 case over n
// outputs, n a multiple of 8.
//
//go:noescape
func biasReLUAVX2(dst, src *float32, n int, bk float32, relu bool)

//go:noescape
func maxPairsAVX2(y, r *float32, n int, first bool)

// clampAVX2 is x = min(max(x, lo), hi) over n floats, n a multiple of 8,
// in activation_amd64.s.
//
//go:noescape
func clampAVX2(x *float32, n int, lo, hi float32)

// dot4AVX2 is four dot products of rows w, w+ldw, w+2ldw, w+3ldw with x
// over k floats (k a multiple of 8) into out[0:4], in activation_amd64.s.
//
//go:noescape
func dot4AVX2(k int, w *float32, ldw int, x *float32, out *float32)
