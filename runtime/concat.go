package runtime

import "fmt"

// concat: the kernel is its own reference (copies).

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
