package main

// cnnc export: the network as an ONNX model (compiler/export), with the
// weights of a file mapped as cnnc weights maps them, or the network's
// initial weights.

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/compiler/export"
	"github.com/cnnc-dev/cnnc/internal/cli"
	"github.com/cnnc-dev/cnnc/op"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

const exportUsage = `cnnc export NET.cnn [--weights W.safetensors | --seed S] -o NET.onnx

Writes the network as an ONNX model (opset 17) in inference mode: one node
per layer, named as in the .cnn, the tensors as initializers under the
package's names (conv1.weight), auxiliary heads left out. The input is
"input", float32 (N, C, H, W) with a symbolic batch N; the outputs are
"logits" and "probs" for a network that ends in a softmax, else "output".
The weights are W mapped as cnnc weights maps a file (a weights file, a
checkpoint of cnnc train, or a PyTorch state dict under any names), or,
without --weights, the network's initial weights drawn from seed S (New's).`

func cmdExport(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("export", stderr, exportUsage)
	out := fs.String("o", "", "the .onnx file to write (required)")
	weights := fs.String("weights", "", "the weights (default: the initial weights)")
	seed := fs.Uint64("seed", 0, "the seed of the initial weights, without --weights")
	verbose := fs.Bool("v", false, "print how the weights file maps onto the network")
	if !parseFlags(fs, cli.Reorder(fs, args), func() bool { return fs.NArg() != 1 }) {
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintf(stderr, "cnnc export: -o NET.onnx is required\n")
		return exitUsage
	}
	seedSet := false
	fs.Visit(func(f *flag.Flag) { seedSet = seedSet || f.Name == "seed" })
	if seedSet && *weights != "" {
		fmt.Fprintf(stderr, "cnnc export: --seed draws initial weights; it does not go with --weights\n")
		return exitUsage
	}
	path := fs.Arg(0)
	m, ok := compileFile(path, stderr)
	if !ok {
		return exitInput
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "cnnc export: %v\n", err)
		return exitInput
	}
	values := map[string][]float32{}
	if *weights != "" {
		tensors, err := mapFile(m, *weights, *verbose, stdout)
		if err != nil {
			return fail(err)
		}
		for _, t := range tensors {
			values[t.Name] = t.Data
		}
	} else {
		values = initialWeights(m, *seed)
	}
	model, err := export.Model(m, func(name string) ([]float32, error) {
		if v, ok := values[name]; ok {
			return v, nil
		}
		return nil, fmt.Errorf("no weights for %s", name)
	}, version())
	if err != nil {
		if errs, ok := err.(interface{ Render([]byte) string }); ok {
			fmt.Fprint(stderr, errs.Render(m.Net.Source))
			return exitInput
		}
		return fail(err)
	}
	if err := writeFileAtomic(*out, model.Marshal()); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "%s: %s, %d nodes, %d initializers, opset %d\n", *out, m.Net.Name, len(model.Graph.Nodes),
		len(model.Graph.Initializer), op.Opset)
	return exitOK
}

// initialWeights are the tensors as New(batch, seed) draws them.
func initialWeights(m *compiler.Model, seed uint64) map[string][]float32 {
	plan := compiler.NewPlan(m)
	specs := make([]rt.TensorSpec, len(plan.Tensors))
	data := make([][]float32, len(plan.Tensors))
	values := map[string][]float32{}
	for i, t := range plan.Tensors {
		specs[i] = *t
		data[i] = make([]float32, t.Size())
		values[t.Name] = data[i]
	}
	rt.InitTensors(specs, data, m.Net.Train.Init, seed)
	return values
}

// version is the module version cnnc was built as, for the producer field.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return strings.TrimPrefix(bi.Main.Version, "v")
	}
	return "devel"
}
