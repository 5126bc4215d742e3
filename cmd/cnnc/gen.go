package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/internal/cli"
)

func cmdGen(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("gen", stderr, "cnnc gen [-o DIR] [-pkg NAME] FILE")
	out := fs.String("o", "", "output directory (default ./NAME)")
	pkg := fs.String("pkg", "", "package name (default: the file's base name)")
	if !parseFlags(fs, cli.Reorder(fs, args), func() bool { return fs.NArg() != 1 }) {
		return exitUsage
	}
	path := fs.Arg(0)
	name := *pkg
	if name == "" {
		name = packageName(path)
	}
	if !validPackage(name) {
		fmt.Fprintf(stderr, "cnnc gen: %q is not a valid Go package name\n", name)
		return exitUsage
	}
	dir := *out
	if dir == "" {
		dir = name
	}
	m, ok := compileFile(path, stderr)
	if !ok {
		return exitInput
	}
	files, err := compiler.Generate(m, name, filepath.ToSlash(path))
	if err != nil {
		fmt.Fprintf(stderr, "cnnc gen: %s: %v\n", path, err)
		return exitInput
	}
	// Every file is rendered in memory first; only then is anything written.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "cnnc gen: %v\n", err)
		return exitInput
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(dir, f.Name), f.Data); err != nil {
			fmt.Fprintf(stderr, "cnnc gen: %v\n", err)
			return exitInput
		}
	}
	return exitOK
}

// packageName derives a package name from a .cnn path: letters and digits
// of the network name the file gives (dsl.FileName: réseau.cnn is reseau),
// lower case.
func packageName(path string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(dsl.FileName(path)) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s == "" || unicode.IsDigit(rune(s[0])) {
		s = "net" + s
	}
	return s
}

func validPackage(s string) bool {
	if s == "" || s == "main" {
		return false // main cannot be imported
	}
	for i, r := range s {
		if !(r == '_' || r < 128 && unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}
