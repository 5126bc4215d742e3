package importer

import (
	"os"
	"testing"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/compiler/export"
	"github.com/cnnc-dev/cnnc/onnx"
)

func exportFile(t *testing.T, file string) *onnx.Model {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m, errs := compiler.CompileSource(file, src)
	if len(errs) > 0 {
		t.Fatal(errs.Render(src))
	}
	values := map[string][]float32{}
	for _, ts := range compiler.NewPlan(m).Tensors {
		n := 1
		for _, d := range ts.Shape {
			n *= d
		}
		values[ts.Name] = make([]float32, n)
	}
	om, err := export.Model(m, func(name string) ([]float32, error) { return values[name], nil }, "test")
	if err != nil {
		t.Fatal(err)
	}
	om, err = onnx.Unmarshal(om.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	return om
}

func TestZooRoundTrip(t *testing.T) {
	for _, n := range []string{"lenet5", "alexnet", "zfnet", "vgg16", "googlenet", "resnet18", "resnet50", "inception_naive", "inception_bottleneck"} {
		om := exportFile(t, "../networks/"+n+".cnn")
		r, err := Import(om, "")
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		t.Logf("%s:\n%s", n, r.Source)
	}
}
