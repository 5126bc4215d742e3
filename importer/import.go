package importer

import (
	"fmt"
	"slices"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/grammar"
	"github.com/cnnc-dev/cnnc/onnx"
	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

// Result is an imported network: its .cnn source (canonical: cnnc fmt
// leaves it as it is), the checked model, and its tensors under the
// network's names with the ONNX file's values.
type Result struct {
	Source  []byte
	Model   *compiler.Model
	Tensors []safetensors.Tensor
	// Names maps each tensor's name in the network to its initializer's
	// name in the ONNX file.
	Names map[string]string
}

// Import turns m into a .cnn network named name (the graph's name when
// empty). Nodes the language cannot express are all reported (Errors);
// a file that is not a chain of layers, concats and residuals from one
// input to one output is refused.
func Import(m *onnx.Model, name string) (*Result, error) {
	g := read(m)
	if len(g.errs) > 0 {
		return nil, g.errs
	}
	chain, err := g.structure()
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = g.name
	}
	name = quoteName(name)
	defs, items := blocks(chain)
	src := write(name, g.input.c, g.h, g.w, defs, items)
	file := name + ".cnn"
	f, err := grammar.Parse(file, []byte(src))
	if err != nil {
		return nil, fmt.Errorf("the imported text does not parse (a bug of cnnc import): %v\n%s", err, src)
	}
	out := grammar.Format(f)
	model, errs := compiler.CompileSource(file, out)
	if len(errs) > 0 {
		return nil, fmt.Errorf("the imported network does not compile: %s\n%s", errs[0].Msg, errs.Render(out))
	}
	ts := tensorsOf(chain)
	plan := compiler.NewPlan(model).Tensors
	if len(plan) != len(ts) {
		return nil, fmt.Errorf("the imported network has %d tensors, the ONNX file %d (a bug of cnnc import)", len(plan), len(ts))
	}
	r := &Result{Source: out, Model: model, Names: map[string]string{}}
	for i, spec := range plan {
		if !slices.Equal(spec.Shape, ts[i].dims) {
			return nil, fmt.Errorf("tensor %s: shape %v in the network, %v in the ONNX file (%s) (a bug of cnnc import)", spec.Name, spec.Shape, ts[i].dims, ts[i].name)
		}
		r.Tensors = append(r.Tensors, safetensors.Tensor{Name: spec.Name, Shape: spec.Shape, Data: ts[i].data})
		r.Names[spec.Name] = ts[i].name
	}
	return r, nil
}
