//go:build !amd64 || purego

package runtime

// hasAVX2 is false: every loop runs in Go.
const hasAVX2 = false
