package runtime

import "math"

// Initialisers fill a tensor from an RNG (see RNG for seeding). Fans follow
// torch.nn.init: for a weight (Out, In, KH, KW) fanIn = In*KH*KW and
// fanOut = Out*KH*KW; for fc (Out, In) the receptive field is 1.

// Fans returns torch's (fan_in, fan_out) of a weight of the given shape
// (Out, In, k...).
func Fans(shape ...int) (fanIn, fanOut int) {
	if len(shape) < 2 {
		panic("runtime.Fans: a weight has at least 2 dimensions")
	}
	rf := 1
	for _, d := range shape[2:] {
		rf *= d
	}
	return shape[1] * rf, shape[0] * rf
}

// Fill sets every element to v (BN: gamma ones, beta zeros).
func Fill(w []float32, v float32) {
	for i := range w {
		w[i] = v
	}
}

// InitGaussian draws w from N(0, std^2).
func InitGaussian(r *RNG, w []float32, std float64) {
	for i := range w {
		w[i] = float32(std * r.Normal())
	}
}

// InitUniform draws w from U(-bound, bound).
func InitUniform(r *RNG, w []float32, bound float64) {
	for i := range w {
		w[i] = float32(r.Uniform(-bound, bound))
	}
}

// InitXavierNormal is Glorot normal: std = sqrt(2/(fanIn+fanOut)).
func InitXavierNormal(r *RNG, w []float32, fanIn, fanOut int) {
	InitGaussian(r, w, math.Sqrt(2/float64(fanIn+fanOut)))
}

// InitXavierUniform is Glorot uniform: bound = sqrt(6/(fanIn+fanOut)).
func InitXavierUniform(r *RNG, w []float32, fanIn, fanOut int) {
	InitUniform(r, w, math.Sqrt(6/float64(fanIn+fanOut)))
}

// InitHe is Kaiming normal for ReLU ("Xavier/2"): std = sqrt(2/fan), with
// fan the fan-in (mode fan_in) or the fan-out (mode fan_out).
func InitHe(r *RNG, w []float32, fan int) {
	InitGaussian(r, w, math.Sqrt(2/float64(fan)))
}

// InitTorchDefault is PyTorch's default init of nn.Conv2d and nn.Linear:
// kaiming_uniform(a=sqrt(5)) for the weight, i.e. U(-1/sqrt(fanIn),
// 1/sqrt(fanIn)), and the same bound for the bias (b may be nil).
func InitTorchDefault(r *RNG, w, b []float32, fanIn int) {
	bound := 1 / math.Sqrt(float64(fanIn))
	InitUniform(r, w, bound)
	if b != nil {
		InitUniform(r, b, bound)
	}
}

// InitTensors fills data[i], the values of specs[i], as NewNet does: every
// tensor from its own random stream, named after the tensor (SeedFor), so
// that a network's initial weights do not depend on its other layers; a
// bias with PyTorch's default init continues its weight's stream.
func InitTensors(specs []TensorSpec, data [][]float32, rc InitRecipe, seed uint64) {
	var last *RNG // the stream of the last weight, which PyTorch's default init continues for the bias
	var lastFanIn int
	for i, t := range specs {
		d := data[i]
		switch t.Init {
		case InitZeros:
			Fill(d, 0)
		case InitOnes:
			Fill(d, 1)
		case InitConst:
			Fill(d, t.Value)
		case InitBias:
			if rc.Kind == "default" && last != nil {
				InitUniform(last, d, 1/math.Sqrt(float64(lastFanIn)))
			} else {
				Fill(d, 0)
			}
		case InitWeight, InitWeightFanOut:
			r := NewRNG(SeedFor(seed, t.Name))
			fanIn, fanOut := Fans(t.Shape...)
			last, lastFanIn = r, fanIn
			switch rc.Kind {
			case "gaussian":
				InitGaussian(r, d, rc.Std)
			case "xavier":
				InitXavierUniform(r, d, fanIn, fanOut)
			case "he":
				fan := fanIn
				if t.Init == InitWeightFanOut {
					fan = fanOut
				}
				InitHe(r, d, fan)
			default:
				InitTorchDefault(r, d, nil, fanIn)
			}
			continue
		}
		last = nil
	}
}
