package runtime

import "fmt"

// The element-wise ops (relu, dropout, add) and the channel copies (concat)
// are simple enough that the kernel is its own reference; the tests check
// them element by element.

// ReluForward: x is any shape; x = max(x, 0) in place.
func ReluForward(x []float32) {
	for i, v := range x {
		x[i] = max(v, 0)
	}
}

// ReluBackward: y (the output of ReluForward) and dy have the same shape;
// the gradient flows through the same buffer as relu is in place, so dy is
// masked in place: dy = 0 where y <= 0 (PyTorch's threshold_backward).
func ReluBackward(y, dy []float32) {
	check("ReluBackward", "dy", dy, len(y))
	for i, v := range y {
		if v <= 0 {
			dy[i] = 0
		}
	}
}

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

// AddForward: a, b and y have the same shape; y = a + b (y may alias a or b).
func AddForward(a, b, y []float32) {
	check("AddForward", "b", b, len(a))
	check("AddForward", "y", y, len(a))
	for i := range y {
		y[i] = a[i] + b[i]
	}
}

// AddBackward: da += dy and db += dy.
func AddBackward(dy, da, db []float32) {
	check("AddBackward", "da", da, len(dy))
	check("AddBackward", "db", db, len(dy))
	for i, v := range dy {
		da[i] += v
		db[i] += v
	}
}

// Concat places one input of C channels at channels [Off, Off+C) of an
// output of Total channels (all HW = H*W pixels). Generated code declares
// one Concat per input of a concatenation.
type Concat struct{ C, Total, Off, HW int }

func (c Concat) checkBufs(op string, n int, x, y []float32) {
	if c.C < 0 || c.Off < 0 || c.Off+c.C > c.Total {
		panic(fmt.Sprintf("runtime.%s: channels [%d, %d) outside [0, %d)", op, c.Off, c.Off+c.C, c.Total))
	}
	check(op, "x", x, n*c.C*c.HW)
	check(op, "y", y, n*c.Total*c.HW)
}

// Forward: x is (N,C,H,W), y is (N,Total,H,W); copies x into y's channels
// [Off, Off+C).
func (c Concat) Forward(n int, x, y []float32) {
	c.checkBufs("Concat.Forward", n, x, y)
	m := c.C * c.HW
	for i := 0; i < n; i++ {
		copy(y[(i*c.Total+c.Off)*c.HW:(i*c.Total+c.Off)*c.HW+m], x[i*m:(i+1)*m])
	}
}

// Backward (the split): dy is (N,Total,H,W), dx is (N,C,H,W); dx += dy's
// channels [Off, Off+C).
func (c Concat) Backward(n int, dy, dx []float32) {
	c.checkBufs("Concat.Backward", n, dx, dy)
	m := c.C * c.HW
	for i := 0; i < n; i++ {
		axpy(dx[i*m:(i+1)*m], dy[(i*c.Total+c.Off)*c.HW:(i*c.Total+c.Off)*c.HW+m])
	}
}
