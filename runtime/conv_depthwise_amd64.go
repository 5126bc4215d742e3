//go:build !purego

package runtime

// axpyAVX2: y[i] += a*x[i] for i < n (a multiple of 8).
//
//go:noescape
func axpyAVX2(n int, y, x *float32, a float32)

// dwConv3AVX2: y[i] += the nine taps of w over rows r0, r1, r2 from column
// i, for i < n (a multiple of 8; each row at least n+2 long).
//
//go:noescape
func dwConv3AVX2(n int, y, r0, r1, r2, w *float32)

// dwGrad3AVX2: lane l of acc's vector 3*kh+kw += d[i] * rkh[i+kw] over the
// i < n (a multiple of 8) with i%8 == l.
//
//go:noescape
func dwGrad3AVX2(n int, d, r0, r1, r2, acc *float32)

// dwConv3s2AVX2: y[i] += the nine taps of w over rows r0, r1, r2 from
// column 2i, for i < n (a multiple of 8; each row at least 2n+2 long).
//
//go:noescape
func dwConv3s2AVX2(n int, y, r0, r1, r2, w *float32)

// dwGrad3s2AVX2: dwGrad3AVX2 at stride 2: d[i] * rkh[2i+kw] (each row at
// least 2n+2 long).
//
//go:noescape
func dwGrad3s2AVX2(n int, d, r0, r1, r2, acc *float32)
