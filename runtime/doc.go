// Package runtime is cnnc's kernel library: float32 NCHW kernels for every op
// of the .cnn language, forward and backward side by side, each fast kernel
// next to a plain reference twin (naive loops, float64 accumulation) that the
// tests compare it with.
//
// Conventions (see docs/runtime.md for the full list):
//
//   - Tensors are []float32 in NCHW order, batch first. Weights use PyTorch's
//     layouts: conv (K, C/G, KH, KW), fc (Out, In).
//   - Shapes are plain ints: each op has a geometry value type (Conv, Pool,
//     LRN, BN, FC, ...) with exported fields and no batch size; the batch size
//     n is the first argument of every method. Generated code declares these
//     values as package-level variables with constant fields.
//   - Backward kernels ACCUMULATE (+=) into gradient buffers; callers zero
//     them once per step.
//   - Kernels never allocate in steady state. Scratch space is passed in; its
//     size in floats is given by the op's ScratchSize(n).
//   - A buffer of the wrong length is a bug in the caller: kernels panic with
//     a message naming the op and the buffer.
//   - Random numbers come from RNG (PCG from math/rand/v2, seeded explicitly),
//     never from a global source.
//
// The fast convolution kernels split the batch across up to Workers()
// goroutines (see SetWorkers); each worker uses its own slice of the scratch
// buffer.
//
// Tests: `go test ./runtime/` runs everything (finite differences, fast vs
// reference, PyTorch golden data in testdata/torch, zero-allocation checks).
// Benchmarks: `go test ./runtime/ -run '^$' -bench Conv`.
package runtime
