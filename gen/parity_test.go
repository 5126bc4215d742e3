package gen

import (
	"math"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/gen/lenet5"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_resnet"
	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

// TestTorchParity loads weights initialised by PyTorch into generated
// networks and compares, with PyTorch's results (gen/testdata/parity.py):
// the eval-mode outputs, the loss of one training step, the gradient of
// every parameter (before the update), and every parameter and bn running
// statistic after the optimizer's update.
// Tolerance: max |ours - torch| <= 1e-4 * max(|torch|, 1e-2) per tensor.
func TestTorchParity(t *testing.T) {
	parity(t, "lenet5", lenet5.New(4, 0).Net)
	parity(t, "mini_resnet", mini_resnet.New(4, 0).Net)
}

func parity(t *testing.T, name string, m *rt.Net) {
	f, err := safetensors.Load("testdata/" + name + ".safetensors")
	if err != nil {
		t.Fatal(err)
	}
	get := func(key string) []float32 {
		x, err := f.Get(key)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return x.Data
	}
	compare := func(what string, got, want []float32) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s %s: %d values, torch has %d", name, what, len(got), len(want))
		}
		var diff, scale float64
		for i := range got {
			diff = math.Max(diff, math.Abs(float64(got[i]-want[i])))
			scale = math.Max(scale, math.Abs(float64(want[i])))
		}
		tol := 1e-4 * math.Max(scale, 1e-2)
		if diff > tol {
			t.Errorf("%s %s: max |ours - torch| = %.3g > %.3g", name, what, diff, tol)
		} else {
			t.Logf("%s %s: max |ours - torch| = %.3g (max |torch| %.3g)", name, what, diff, scale)
		}
	}
	for _, x := range m.Tensors() {
		copy(x.Data, get("w0."+x.Name))
	}
	in := get("x")
	probs, err := m.Forward(in)
	if err != nil {
		t.Fatal(err)
	}
	compare("eval outputs", probs, get("probs"))
	var labels []int32
	for _, v := range get("labels") {
		labels = append(labels, int32(v))
	}
	if f.Meta["lr"] == "" || !strings.Contains(f.Meta["torch"], ".") {
		t.Fatalf("%s: metadata %v", name, f.Meta)
	}
	loss, err := m.TrainStep(in, labels)
	if err != nil {
		t.Fatal(err)
	}
	compare("training loss", []float32{loss}, get("loss"))
	grads := m.Gradients()
	ng := 0
	for _, k := range f.Names() {
		if strings.HasPrefix(k, "g.") {
			ng++
		}
	}
	if len(grads) == 0 || ng != len(grads) {
		t.Fatalf("%s: the network has %d gradients, the file %d", name, len(grads), ng)
	}
	for _, g := range grads {
		compare(g.Name+" gradient", g.Data, get("g."+g.Name))
	}
	for _, x := range m.Tensors() {
		compare(x.Name+" after one step (lr "+f.Meta["lr"]+")", x.Data, get("w1."+x.Name))
	}
}
