package runtime

import "fmt"

// Dropout is inverted dropout with probability P: in training each element
// is zeroed with probability P and the others are scaled by 1/(1-P); in
// evaluation it is the identity.
type Dropout struct{ P float32 }

// Forward: x and mask have the same shape. In training (train true) it draws
// mask (0 or 1/(1-P)) from r and multiplies x by it in place; in evaluation
// it does nothing.
func (d Dropout) Forward(x, mask []float32, r *RNG, train bool) {
	if !train {
		return
	}
	check("Dropout.Forward", "mask", mask, len(x))
	if d.P < 0 || d.P > 1 {
		panic(fmt.Sprintf("runtime.Dropout.Forward: P = %v outside [0, 1]", d.P))
	}
	var scale float32
	if d.P < 1 {
		scale = 1 / (1 - d.P)
	}
	p := float64(d.P)
	for i := range x {
		if r.Float64() < p {
			mask[i] = 0
		} else {
			mask[i] = scale
		}
		x[i] *= mask[i]
	}
}

// Backward: dy *= mask in place (the gradient shares dropout's buffer).
func (d Dropout) Backward(dy, mask []float32) {
	check("Dropout.Backward", "mask", mask, len(dy))
	for i, m := range mask {
		dy[i] *= m
	}
}
