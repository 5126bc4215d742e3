package lenet5

// This file is not generated: it wires LeNet-5 by hand from the runtime's
// kernels and compares the generated network with it.

import (
	"math"
	"testing"

	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/nettest"
)

// handWired runs LeNet-5 on x with the weights of m, through the reference
// kernels (ref) or the fast ones with the same fusions as the generated code.
func handWired(m *Net, n int, x []float32, ref bool) []float32 {
	w := map[string][]float32{}
	for _, t := range m.Tensors() {
		w[t.Name] = t.Data
	}
	conv := func(c rt.Conv, in []float32, name string) []float32 {
		out := make([]float32, n*c.K*c.OH*c.OW)
		if ref {
			c.ForwardRef(n, in, w[name+".weight"], w[name+".bias"], out)
			rt.ReLUForward(out)
		} else {
			c.ReLU = true
			c.Forward(n, in, w[name+".weight"], w[name+".bias"], out, make([]float32, c.ScratchSize(n)))
		}
		return out
	}
	pool := func(p rt.MaxPool, in []float32) []float32 {
		out := make([]float32, n*p.C*p.OH*p.OW)
		idx := make([]int32, len(out))
		if ref {
			p.ForwardRef(n, in, out, idx)
		} else {
			p.Forward(n, in, out, idx)
		}
		return out
	}
	fc := func(f rt.FC, in []float32, name string, relu bool) []float32 {
		out := make([]float32, n*f.Out)
		if ref {
			f.ForwardRef(n, in, w[name+".weight"], w[name+".bias"], out)
			if relu {
				rt.ReLUForward(out)
			}
		} else {
			f.ReLU = relu
			f.Forward(n, in, w[name+".weight"], w[name+".bias"], out)
		}
		return out
	}
	y := conv(rt.Conv{C: 1, H: 28, W: 28, K: 6, KH: 5, KW: 5, SH: 1, SW: 1, PH: 2, PW: 2, DH: 1, DW: 1, G: 1, OH: 28, OW: 28}, x, "conv1")
	y = pool(rt.MaxPool{C: 6, H: 28, W: 28, KH: 2, KW: 2, SH: 2, SW: 2, OH: 14, OW: 14}, y)
	y = conv(rt.Conv{C: 6, H: 14, W: 14, K: 16, KH: 5, KW: 5, SH: 1, SW: 1, DH: 1, DW: 1, G: 1, OH: 10, OW: 10}, y, "conv2")
	y = pool(rt.MaxPool{C: 16, H: 10, W: 10, KH: 2, KW: 2, SH: 2, SW: 2, OH: 5, OW: 5}, y)
	y = fc(rt.FC{In: 400, Out: 120}, y, "fc1", true)
	y = fc(rt.FC{In: 120, Out: 84}, y, "fc2", true)
	y = fc(rt.FC{In: 84, Out: 10}, y, "fc3", false)
	out := make([]float32, len(y))
	if ref {
		rt.Softmax{Classes: 10}.ForwardRef(n, y, out)
	} else {
		rt.Softmax{Classes: 10}.Forward(n, y, out)
	}
	return out
}

func TestHandWired(t *testing.T) {
	const n = 3
	m := New(n, 7)
	x := nettest.Input(m.Program(), n, 21)
	got, err := m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	fast := handWired(m, n, x, false)
	for i := range fast {
		if math.Float32bits(got[i]) != math.Float32bits(fast[i]) {
			t.Fatalf("output %d: generated %v, hand-wired fast kernels %v: want identical bits", i, got[i], fast[i])
		}
	}
	ref := handWired(m, n, x, true)
	var maxDiff, maxRef float64
	for i := range ref {
		maxDiff = math.Max(maxDiff, math.Abs(float64(got[i]-ref[i])))
		maxRef = math.Max(maxRef, math.Abs(float64(ref[i])))
	}
	t.Logf("generated vs reference kernels: max |diff| %.3g (max |value| %.3g)", maxDiff, maxRef)
	if maxDiff > 1e-5*maxRef {
		t.Errorf("generated and reference-kernel outputs differ by %.3g > 1e-5 * %.3g", maxDiff, maxRef)
	}
}
