//go:build !amd64 || purego

package runtime

// expAVX2 is false: expInPlace runs expScalar only.
const expAVX2 = false

func expNegAVX2([]float32) { panic("runtime: expNegAVX2 without amd64") }

func sigmoidAVX2(_, _ []float32) { panic("runtime: sigmoidAVX2 without amd64") }

func tanhAVX2(_, _ []float32) { panic("runtime: tanhAVX2 without amd64") }

func ncdfAVX2(_, _, _ []float32) { panic("runtime: ncdfAVX2 without amd64") }
