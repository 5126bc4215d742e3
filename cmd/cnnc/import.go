package main

// cnnc import: an ONNX model as a .cnn file (package importer) and its
// initializers as the network's weights.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cnnc-dev/cnnc/importer"
	"github.com/cnnc-dev/cnnc/internal/cli"
	"github.com/cnnc-dev/cnnc/onnx"
	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

const importUsage = `cnnc import MODEL.onnx [-o NET.cnn] [--weights NET.safetensors] [--name NAME]

Writes the network of an ONNX model as a .cnn file (to stdout without -o):
chains of layers, concat { ... } and residual { ... } where the graph
branches and joins, and block definitions with parameters for the units it
repeats. --weights writes the model's initializers under the network's
tensor names, for Load, cnnc infer and cnnc export. The network is named
NAME, else after -o's file, else after MODEL. A node the language cannot
express is an error naming the node, its op and attribute, and nothing is
written.`

func cmdImport(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("import", stderr, importUsage)
	out := fs.String("o", "", "the .cnn file to write (default: stdout)")
	weights := fs.String("weights", "", "write the weights to this .safetensors file")
	name := fs.String("name", "", "the network's name")
	if !parseFlags(fs, cli.Reorder(fs, args), func() bool { return fs.NArg() != 1 }) {
		return exitUsage
	}
	path := fs.Arg(0)
	fail := func(err error) int {
		fmt.Fprintf(stderr, "cnnc import: %v\n", err)
		return exitInput
	}
	if *name == "" {
		base := path
		if *out != "" {
			base = *out
		}
		*name = strings.TrimSuffix(filepath.Base(base), filepath.Ext(base))
	}
	m, err := onnx.Load(path)
	if err != nil {
		return fail(err)
	}
	r, err := importer.Import(m, *name)
	if err != nil {
		if errs, ok := err.(importer.Errors); ok {
			for _, e := range errs {
				fmt.Fprintf(stderr, "%s: %v\n", path, e)
			}
			return exitInput
		}
		return fail(fmt.Errorf("%s: %w", path, err))
	}
	if *weights != "" {
		meta := map[string]string{"network": r.Model.Net.Name, "from": filepath.Base(path)}
		if err := safetensors.Save(*weights, r.Tensors, meta); err != nil {
			return fail(err)
		}
	}
	if *out == "" {
		stdout.Write(r.Source)
		return exitOK
	}
	if err := writeFileAtomic(*out, r.Source); err != nil {
		if *weights != "" {
			os.Remove(*weights)
		}
		return fail(err)
	}
	fmt.Fprintf(stdout, "%s: %s, %d layers, %d parameters (%d tensors from %s)\n", *out, r.Model.Net.Name,
		len(r.Model.Layers)-1, r.Model.Params, len(r.Tensors), filepath.Base(path))
	return exitOK
}
