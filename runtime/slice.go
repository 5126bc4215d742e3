package runtime

import "fmt"

// Slice takes channels [Off, Off+C) of a (N,Total,H,W) map: one branch's
// part of a channel split (`split { a | b }`); HW is H*W.
type Slice struct{ C, Total, Off, HW int }

func (s Slice) checkBufs(op string, n int, x, y []float32) {
	if s.C < 0 || s.Off < 0 || s.Off+s.C > s.Total {
		panic(fmt.Sprintf("runtime.%s: channels [%d, %d) outside [0, %d)", op, s.Off, s.Off+s.C, s.Total))
	}
	check(op, "x", x, n*s.Total*s.HW)
	check(op, "y", y, n*s.C*s.HW)
}

// Forward: x is (N,Total,H,W), y is (N,C,H,W); copies x's channels
// [Off, Off+C) into y.
func (s Slice) Forward(n int, x, y []float32) {
	s.checkBufs("Slice.Forward", n, x, y)
	m := s.C * s.HW
	for i := 0; i < n; i++ {
		copy(y[i*m:(i+1)*m], x[(i*s.Total+s.Off)*s.HW:])
	}
}

// Backward (the scatter): dy is (N,C,H,W), dx is (N,Total,H,W); dx's
// channels [Off, Off+C) += dy.
func (s Slice) Backward(n int, dy, dx []float32) {
	s.checkBufs("Slice.Backward", n, dx, dy)
	m := s.C * s.HW
	for i := 0; i < n; i++ {
		axpy(dx[(i*s.Total+s.Off)*s.HW:(i*s.Total+s.Off)*s.HW+m], dy[i*m:(i+1)*m])
	}
}
