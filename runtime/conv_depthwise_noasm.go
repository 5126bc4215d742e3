//go:build !amd64 || purego

package runtime

// Without the assembly loops, the depthwise kernels run in Go.

func dwConv3AVX2(n int, y, r0, r1, r2, w *float32)     { panic("runtime: no dwConv3AVX2") }
func dwGrad3AVX2(n int, d, r0, r1, r2, acc *float32)   { panic("runtime: no dwGrad3AVX2") }
func dwConv3s2AVX2(n int, y, r0, r1, r2, w *float32)   { panic("runtime: no dwConv3s2AVX2") }
func dwGrad3s2AVX2(n int, d, r0, r1, r2, acc *float32) { panic("runtime: no dwGrad3s2AVX2") }
func axpyAVX2(n int, y, x *float32, a float32)         { panic("runtime: no axpyAVX2") }
