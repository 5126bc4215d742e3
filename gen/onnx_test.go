package gen

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/compiler/export"
	"github.com/cnnc-dev/cnnc/gen/lenet5"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_act"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_alexnet"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_densenext"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_dw"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_eff"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_inception"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_lang"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_misc"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_mobile"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_norm"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_resnet"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_wino"
	"github.com/cnnc-dev/cnnc/internal/ort"
	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/npy"
)

// TestONNXRuntime exports LeNet-5 and the small networks that together
// use every construct of the language (cnnc export's path:
// compiler/export with the network's tensors), runs the files in ONNX
// Runtime, and compares with the generated package's inference, which is
// what cnnc infer runs: the probabilities (Forward) and the logits
// (Logits), each within 1e-4 of the largest value.
func TestONNXRuntime(t *testing.T) {
	ort.Need(t)
	for _, c := range []struct {
		file string
		net  *rt.Net
	}{
		{"../networks/lenet5.cnn", lenet5.New(3, 1).Net},
		{"../testdata/nets/mini_alexnet.cnn", mini_alexnet.New(3, 1).Net},
		{"../testdata/nets/mini_inception.cnn", mini_inception.New(3, 1).Net},
		{"../testdata/nets/mini_misc.cnn", mini_misc.New(3, 1).Net},
		{"../testdata/nets/mini_lang.cnn", mini_lang.New(3, 1).Net},
		{"../testdata/nets/mini_resnet.cnn", mini_resnet.New(3, 1).Net},
		{"../testdata/nets/mini_wino.cnn", mini_wino.New(3, 1).Net},
		{"../testdata/nets/mini_norm.cnn", mini_norm.New(3, 1).Net},
		{"../testdata/nets/mini_act.cnn", mini_act.New(3, 1).Net},
		{"../testdata/nets/mini_dw.cnn", mini_dw.New(3, 1).Net},
		{"../testdata/nets/mini_eff.cnn", mini_eff.New(3, 1).Net},
		{"../testdata/nets/mini_mobile.cnn", mini_mobile.New(3, 1).Net},
		{"../testdata/nets/mini_densenext.cnn", mini_densenext.New(3, 1).Net},
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) { checkORT(t, c.file, c.net) })
	}
}

func checkORT(t *testing.T, file string, net *rt.Net) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m, errs := compiler.CompileSource(file, src)
	if len(errs) > 0 {
		t.Fatal(errs.Render(src))
	}
	// bn with its initial statistics is the identity, and biases start at
	// zero: make them not.
	r := rt.NewRNG(7)
	values := map[string][]float32{}
	for _, x := range net.Tensors() {
		lo := -0.5 // biases, running means
		switch filepath.Ext(x.Name) {
		case ".running_var":
			lo = 0.5
		case ".weight":
			if len(x.Shape) > 1 {
				lo = math.NaN() // conv and fc weights keep their initial values
			} else {
				lo = 0.5
			}
		}
		for i := range x.Data {
			if !math.IsNaN(lo) {
				x.Data[i] = float32(r.Uniform(lo, lo+1))
			}
		}
		values[x.Name] = x.Data
	}
	net.ParamsChanged()
	model, err := export.Model(m, func(name string) ([]float32, error) { return values[name], nil }, "test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "net.onnx")
	if err := os.WriteFile(path, model.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	in := m.Net.Input
	x := &npy.Array{Shape: []int{3, in.C, in.H, in.W}, Data: make([]float32, 3*in.Size())}
	for i := range x.Data {
		x.Data[i] = float32(r.Uniform(-1, 1))
	}
	probs, err := net.Forward(x.Data)
	if err != nil {
		t.Fatal(err)
	}
	outs := ort.Run(t, path, x)
	p, l := outs[export.Probs], outs[export.Logits]
	if p == nil || l == nil || len(outs) != 2 {
		t.Fatalf("ONNX Runtime's outputs: %v", outs)
	}
	classes := len(probs) / 3
	if p.Shape[0] != 3 || p.Shape[1] != classes || len(p.Shape) != 2 {
		t.Fatalf("probs of shape %v, want (3, %d)", p.Shape, classes)
	}
	worst := func(got, want []float32) (diff, scale float64) {
		for i := range got {
			diff = math.Max(diff, math.Abs(float64(got[i]-want[i])))
			scale = math.Max(scale, math.Abs(float64(want[i])))
		}
		return diff, scale
	}
	if d, s := worst(p.Data, probs); d > 1e-4*s {
		t.Errorf("probs: max |ONNX Runtime - cnnc| = %.3g, max prob %.3g", d, s)
	}
	logits, err := net.Logits(x.Data)
	if err != nil {
		t.Fatal(err)
	}
	d, s := worst(l.Data, logits)
	if s < 0.05 {
		t.Fatalf("logits of at most %.3g: too small to compare", s)
	}
	if d > 1e-4*s {
		t.Errorf("logits: max |ONNX Runtime - cnnc| = %.3g, max |logit| %.3g", d, s)
	}
	t.Logf("%s: %d nodes; logits max |diff| %.3g of max |logit| %.3g", m.Net.Name, len(model.Graph.Nodes), d, s)
}
