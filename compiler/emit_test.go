package compiler

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dave/jennifer/jen"
)

var update = flag.Bool("update", false, "rewrite the expected outputs in testdata/")

// renderStep emits one layer of a small network and returns its geometry
// and methods as Go source.
func renderStep(t *testing.T, src, layer string) string {
	t.Helper()
	m, errs := CompileSource("t.cnn", []byte(src))
	if len(errs) > 0 {
		t.Fatalf("%s", errs.Render([]byte(src)))
	}
	p := NewPlan(m)
	e := &emitter{p: p, pkg: "t", f: jen.NewFile("t")}
	for _, s := range p.Steps {
		if s.L.Node.Name == layer {
			e.emitLayer(s)
			var b strings.Builder
			for _, g := range e.geo {
				fmt.Fprintf(&b, "var %#v\n", g)
			}
			for _, s := range e.scratch {
				fmt.Fprintf(&b, "// scratch: %#v\n", s)
			}
			fmt.Fprintf(&b, "%#v", e.f)
			return b.String()
		}
	}
	t.Fatalf("no layer %s", layer)
	return ""
}

// TestEmitLayers compares the emitted Go of every layer kind with the
// snippets in testdata/emit (go test -update rewrites them).
func TestEmitLayers(t *testing.T) {
	const head = "input 9x9x4\n"
	for _, tc := range []struct{ name, src, layer string }{
		{"conv", "conv 8 3x3 s2 p1 g2", "conv1"},
		{"conv_relu", "conv 8 3x3 -> relu", "conv1"},
		{"conv_bn_relu", "conv 8 1x1 nobias -> bn -> relu", "conv1"},
		{"bn_folded", "conv 8 1x1 nobias -> bn -> relu", "bn1"},
		{"bn", "bn", "bn1"},
		{"relu_fused", "conv 8 3x3 -> relu", "relu1"},
		{"relu_copy", "concat { relu | conv 2 1x1 }", "relu1"},
		{"maxpool", "maxpool 3 s2 ceil", "maxpool1"},
		{"avgpool", "avgpool 3 s2 p1", "avgpool1"},
		{"gap", "gap", "gap1"},
		{"lrn", "lrn 5 1e-4 0.75 2", "lrn1"},
		{"dropout", "dropout 0.5", "dropout1"},
		{"fc_relu", "fc 10 -> relu", "fc1"},
		{"softmax", "fc 10 -> softmax", "softmax1"},
		{"concat", "concat { conv 2 1x1 | conv 3 1x1 }", "concat1"},
		{"add", "residual { conv 4 3x3 p1 }", "add1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := renderStep(t, head+tc.src+"\n", tc.layer)
			path := filepath.Join("testdata", "emit", tc.name+".go.txt")
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update creates it)", err)
			}
			if got != string(want) {
				t.Errorf("emitted code differs from %s (go test -update rewrites it):\n%s", path, got)
			}
		})
	}
}

// TestPlan checks the memory plan's decisions on LeNet-5 and ResNet-18.
func TestPlan(t *testing.T) {
	m := compileNetwork(t, "lenet5")
	p := NewPlan(m)
	for _, s := range p.Steps {
		name := s.L.Node.Name
		switch {
		case strings.HasPrefix(name, "relu"):
			if !s.Alias || !s.Skip || !s.In[0].Fused {
				t.Errorf("%s: alias %v skip %v, producer fused %v; want a relu fused into its conv or fc", name, s.Alias, s.Skip, s.In[0].Fused)
			}
		case name == "softmax1" && !s.Alias:
			t.Errorf("softmax1 is not in place")
		}
	}
	// Training keeps every output (relu and softmax in place); inference
	// reuses dead buffers, so it needs less.
	if p.Train != 8878 || p.Infer >= p.Train {
		t.Errorf("LeNet-5 training layout %d floats per image (want 8878, the summary's activations), inference %d", p.Train, p.Infer)
	}
	r := compileNetwork(t, "resnet18")
	rp := NewPlan(r)
	folded := 0
	for _, s := range rp.Steps {
		if s.Fold != nil {
			folded++
		}
	}
	if folded != 20 {
		t.Errorf("ResNet-18: %d bn folded into convs at inference, want all 20", folded)
	}
	if rp.Infer*4 > rp.Train {
		t.Errorf("ResNet-18: inference needs %d floats per image, more than a quarter of training's %d", rp.Infer, rp.Train)
	}
}
