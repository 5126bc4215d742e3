package op

import (
	"testing"

	rt "github.com/cnnc-dev/cnnc/runtime"
)

// TestInPlaceKeepsSigns: an in-place op may run over the output of a relu
// or leakyrelu (ReadsOutput), whose backward then reads the signs of what
// the in-place op wrote; so every in-place op keeps signs: y > 0 exactly
// when x > 0. A new in-place kind must be added here.
func TestInPlaceKeepsSigns(t *testing.T) {
	forward := map[string]func([]float32){
		"relu":      rt.ReLUForward,
		"leakyrelu": rt.LeakyReLU{Slope: 0.01}.Forward,
		"relu6":     rt.ReLU6Forward,
		"tanh":      rt.TanhForward,
	}
	exempt := map[string]string{
		"dropout":  "zeroes a value (and its gradient) or scales it by 1/(1-P) > 0",
		"droppath": "zeroes an image (and its gradient) or scales it by 1/(1-P) > 0, as dropout",
		"softmax":  "Final: training computes it with the loss, which writes apart from a ReadsOutput buffer",
		"identity": "writes nothing: its output is its input",
	}
	x := []float32{-1000, -7, -6, -3, -1, -1e-30, 0, 1e-30, 1e-3, 1, 3, 5.999, 6, 7, 1000}
	for _, k := range kinds {
		if !k.InPlace {
			continue
		}
		if _, ok := exempt[k.Word]; ok {
			continue
		}
		f, ok := forward[k.Word]
		if !ok {
			t.Errorf("in-place kind %s: add its forward to TestInPlaceKeepsSigns", k.Word)
			continue
		}
		y := append([]float32(nil), x...)
		f(y)
		for i := range x {
			if (x[i] > 0) != (y[i] > 0) {
				t.Errorf("%s(%g) = %g: the sign changed", k.Word, x[i], y[i])
			}
		}
	}
}
