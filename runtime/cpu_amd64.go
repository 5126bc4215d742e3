//go:build !purego

package runtime

import "golang.org/x/sys/cpu"

// hasAVX2 says that the CPU runs the package's AVX2 + FMA assembly loops
// (activations, epilogues, pooling rows, depthwise rows, Winograd's
// transforms, fc's matrix-vector product); without it they run in Go.
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA
