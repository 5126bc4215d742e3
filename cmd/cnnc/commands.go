package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/grammar"
	"github.com/cnnc-dev/cnnc/internal/cli"
	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

// readSource reads a .cnn file, at most one byte more than dsl.MaxFileSize:
// dsl.Parse reports a larger file, at 1:1.
func readSource(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, dsl.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return src, nil
}

// compileFile reads, parses, resolves and checks one file, printing its
// errors to stderr.
func compileFile(path string, stderr io.Writer) (*compiler.Model, bool) {
	src, err := readSource(path)
	if err != nil {
		fmt.Fprintf(stderr, "cnnc: %v\n", err)
		return nil, false
	}
	m, errs := compiler.CompileSource(path, src)
	if len(errs) > 0 {
		fmt.Fprint(stderr, errs.Render(src))
		return nil, false
	}
	return m, true
}

func newFlags(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, "usage: %s\n", usage) }
	return fs
}

// parseFlags parses args and checks the count of the rest with badArgs; it
// reports whether both went well. The usage is printed once either way: the
// flag package prints it with its own error.
func parseFlags(fs *flag.FlagSet, args []string, badArgs func() bool) bool {
	if fs.Parse(args) != nil {
		return false
	}
	if badArgs() {
		fs.Usage()
		return false
	}
	return true
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", stderr, "cnnc check [-v] FILE...")
	verbose := fs.Bool("v", false, "print a note for every 1x1 projection shortcut a residual implies")
	if !parseFlags(fs, cli.Reorder(fs, args), func() bool { return fs.NArg() == 0 }) {
		return exitUsage
	}
	code := exitOK
	for _, path := range fs.Args() {
		m, ok := compileFile(path, stderr)
		if !ok {
			code = exitInput
			continue
		}
		if *verbose {
			// One at a time: notes are not capped as errors are.
			for _, n := range m.Notes() {
				fmt.Fprint(stdout, dsl.ErrorList{n}.Render(m.Net.Source))
			}
		}
	}
	return code
}

func cmdSummary(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("summary", stderr, "cnnc summary [--json | --dot | --ir] FILE")
	asJSON := fs.Bool("json", false, "print JSON")
	asDot := fs.Bool("dot", false, "print the picture of cnnc graph as Graphviz text")
	asIR := fs.Bool("ir", false, "print the resolved graph IR, one line per node (dsl.Dump)")
	if !parseFlags(fs, cli.Reorder(fs, args), func() bool { return fs.NArg() != 1 }) {
		return exitUsage
	}
	m, ok := compileFile(fs.Arg(0), stderr)
	if !ok {
		return exitInput
	}
	var err error
	switch {
	case *asJSON:
		err = m.WriteJSON(stdout)
	case *asDot:
		var dot []byte // the picture of cnnc graph, as Graphviz text
		if dot, err = picture(m, "dot", false); err == nil {
			_, err = stdout.Write(dot)
		}
	case *asIR:
		err = dsl.Dump(stdout, m.Net)
	default:
		err = m.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "cnnc: %v\n", err)
		return exitInput
	}
	return exitOK
}

func cmdFmt(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("fmt", stderr, "cnnc fmt [-w] FILE...")
	write := fs.Bool("w", false, "rewrite the files in place")
	if !parseFlags(fs, cli.Reorder(fs, args), func() bool { return fs.NArg() == 0 }) {
		return exitUsage
	}
	code := exitOK
	for _, path := range fs.Args() {
		src, err := readSource(path)
		if err != nil {
			fmt.Fprintf(stderr, "cnnc: %v\n", err)
			code = exitInput
			continue
		}
		f, errs := dsl.Parse(path, src)
		if len(errs) > 0 {
			fmt.Fprint(stderr, errs.Render(src))
			code = exitInput
			continue
		}
		out := grammar.Format(f)
		if !*write {
			stdout.Write(out)
			continue
		}
		if bytes.Equal(out, src) {
			continue
		}
		if err := writeFileAtomic(path, out); err != nil {
			fmt.Fprintf(stderr, "cnnc: %v\n", err)
			code = exitInput
		}
	}
	return code
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over the original (the safetensors
// writer's mechanism).
func writeFileAtomic(path string, data []byte) error {
	return safetensors.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
