package runtime

import "fmt"

// DropPath is stochastic depth (torchvision.ops.StochasticDepth(P, "row")):
// in training each image's whole input is zeroed with probability P and
// the others are scaled by 1/(1-P); in evaluation it is the identity. The
// mask holds one value per image.
type DropPath struct{ P float32 }

// Forward: x holds len(mask) images of equal size. In training (train
// true) it draws mask (0 or 1/(1-P) per image) from r and multiplies each
// image of x by its value in place; in evaluation it does nothing.
func (d DropPath) Forward(x, mask []float32, r *RNG, train bool) {
	if !train {
		return
	}
	if len(mask) == 0 || len(x)%len(mask) != 0 {
		panic(fmt.Sprintf("runtime.DropPath.Forward: len(x) = %d is not a multiple of len(mask) = %d", len(x), len(mask)))
	}
	if d.P < 0 || d.P > 1 {
		panic(fmt.Sprintf("runtime.DropPath.Forward: P = %v outside [0, 1]", d.P))
	}
	var scale float32
	if d.P < 1 {
		scale = 1 / (1 - d.P)
	}
	p := float64(d.P)
	for i := range mask {
		if r.Float64() < p {
			mask[i] = 0
		} else {
			mask[i] = scale
		}
	}
	d.Backward(x, mask)
}

// Backward: dy *= the mask of its image, in place (the gradient shares
// the layer's buffer). Forward with frozen masks is Backward on x.
func (d DropPath) Backward(dy, mask []float32) {
	if len(mask) == 0 || len(dy)%len(mask) != 0 {
		panic(fmt.Sprintf("runtime.DropPath.Backward: len(dy) = %d is not a multiple of len(mask) = %d", len(dy), len(mask)))
	}
	size := len(dy) / len(mask)
	for i, m := range mask {
		s := dy[i*size : (i+1)*size]
		for k := range s {
			s[k] *= m
		}
	}
}
