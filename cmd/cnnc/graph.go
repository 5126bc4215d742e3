package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/compiler/diagram"
	"github.com/cnnc-dev/cnnc/internal/cli"
)

// cmdGraph draws a network: cnnc graph FILE.cnn -o net.svg|net.png|net.dot
// [--collapse].
func cmdGraph(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("graph", stderr, "cnnc graph FILE.cnn -o NET.svg|NET.png|NET.dot [--collapse]")
	out := fs.String("o", "", "the picture to write; its extension (.svg, .png, .dot) chooses the format")
	collapse := fs.Bool("collapse", false, "draw each block call as one box")
	if !parseFlags(fs, cli.Reorder(fs, args), func() bool { return fs.NArg() != 1 }) {
		return exitUsage
	}
	format := strings.ToLower(strings.TrimPrefix(filepath.Ext(*out), "."))
	if *out == "" || (format != "svg" && format != "png" && format != "dot") {
		fmt.Fprintf(stderr, "cnnc graph: -o needs a file ending in .svg, .png or .dot, not %q\n", *out)
		fs.Usage()
		return exitUsage
	}
	m, ok := compileFile(fs.Arg(0), stderr)
	if !ok {
		return exitInput
	}
	data, err := picture(m, format, *collapse)
	if err == nil {
		err = writeFileAtomic(*out, data)
	}
	if err != nil {
		fmt.Fprintf(stderr, "cnnc: %v\n", err)
		return exitInput
	}
	return exitOK
}

// picture lays the model out and writes it as svg, png or dot.
func picture(m *compiler.Model, format string, collapse bool) ([]byte, error) {
	d, err := diagram.Layout(m, diagram.Options{Collapse: collapse})
	if err != nil {
		return nil, err
	}
	switch format {
	case "png":
		return d.PNG()
	case "dot":
		return d.DOT(), nil
	}
	return d.SVG(), nil
}
