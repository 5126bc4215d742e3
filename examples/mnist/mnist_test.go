// Package mnist holds small networks written for MNIST with cnnc's language,
// trained with `cnnc train FILE --data mnist` (docs/training.md, "A modern
// network on MNIST"). This test checks that each compiles, is in cnnc fmt's
// canonical form and generates its Go package; it does not train.
package mnist

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/grammar"
)

func TestNetworksCompile(t *testing.T) {
	files, _ := filepath.Glob("*.cnn")
	if len(files) == 0 {
		t.Fatal("no .cnn file in examples/mnist")
	}
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, errs := compiler.CompileSource(path, src)
			if len(errs) > 0 {
				t.Fatalf("does not compile:\n%s", errs.Render(src))
			}
			if in, out := m.Layers[0].Out.String(), m.Output().Out.String(); in != "28x28x1" || out != "1x1x10" {
				t.Errorf("shape %s -> %s, want an MNIST classifier 28x28x1 -> 1x1x10", in, out)
			}
			f, err := grammar.Parse(path, src)
			if err != nil {
				t.Fatal(err)
			}
			if got := grammar.Format(f); string(got) != string(src) {
				t.Errorf("not in canonical form: run cnnc fmt; it prints\n%s", got)
			}
			gen, err := compiler.Generate(m, "net", "examples/mnist/"+path)
			if err != nil {
				t.Fatalf("generate: %v", err)
			}
			if len(gen) == 0 {
				t.Fatal("generate wrote no file")
			}
		})
	}
}
