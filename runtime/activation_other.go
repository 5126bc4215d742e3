//go:build !amd64 || purego

package runtime

func expNegAVX2([]float32) { panic("runtime: expNegAVX2 without amd64") }

func sigmoidAVX2(_, _ []float32) { panic("runtime: sigmoidAVX2 without amd64") }

func tanhAVX2(_, _ []float32) { panic("runtime: tanhAVX2 without amd64") }

func ncdfAVX2(_, _, _ []float32) { panic("runtime: ncdfAVX2 without amd64") }

func biasReLUAVX2(*float32, *float32, int, float32, bool) {
	panic("runtime: biasReLUAVX2 without amd64")
}

func maxPairsAVX2(*float32, *float32, int, bool) { panic("runtime: maxPairsAVX2 without amd64") }

func clampAVX2(*float32, int, float32, float32) { panic("runtime: clampAVX2 without amd64") }

func dot4AVX2(int, *float32, int, *float32, *float32) { panic("runtime: dot4AVX2 without amd64") }
