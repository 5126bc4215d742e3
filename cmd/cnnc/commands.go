package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/grammar"
)

// maxFileSize bounds what cnnc reads: a .cnn file is text of a few KB.
const maxFileSize = 16 << 20

func readSource(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(src) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a .cnn file", path, maxFileSize)
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

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", stderr, "cnnc check FILE...")
	if fs.Parse(args) != nil || fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	code := exitOK
	for _, path := range fs.Args() {
		if _, ok := compileFile(path, stderr); !ok {
			code = exitInput
		}
	}
	return code
}

func cmdSummary(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("summary", stderr, "cnnc summary [--json | --dot] FILE")
	asJSON := fs.Bool("json", false, "print JSON")
	asDot := fs.Bool("dot", false, "print a Graphviz picture of the network")
	if fs.Parse(reorder(fs, args)) != nil || fs.NArg() != 1 {
		fs.Usage()
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
		err = m.WriteDot(stdout)
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
	if fs.Parse(reorder(fs, args)) != nil || fs.NArg() == 0 {
		fs.Usage()
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

// reorder moves flags (with their values) before positional arguments so
// that `cnnc summary FILE --json` works as well as `cnnc summary --json FILE`.
func reorder(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && i+1 < len(args) {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	return append(flags, pos...)
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over the original.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if info, err := os.Stat(path); err == nil {
		mode = info.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".cnnc-fmt-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
