package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/grammar"
)

// FuzzCompile feeds arbitrary bytes through every stage: parse, resolve,
// check, summary, error rendering and the formatter. Nothing may panic or
// hang; a formatted file must parse to the same AST and be a fixed point.
// The seeds are every network of networks/, testdata/nets/, testdata/lang/
// and examples/mnist/, and every golden error case.
func FuzzCompile(f *testing.F) {
	for _, pattern := range []string{"../networks/*.cnn", "../cmd/cnnc/testdata/errors/*.cnn", "../testdata/nets/*.cnn", "../testdata/lang/*.cnn", "../examples/mnist/*.cnn"} {
		files, _ := filepath.Glob(pattern)
		for _, path := range files {
			src, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	defer func(n int) { dsl.MaxNodes = n }(dsl.MaxNodes)
	dsl.MaxNodes = 2000 // the limit's path stays covered; big expansions stay cheap
	f.Fuzz(func(t *testing.T, src []byte) {
		m, errs := CompileSource("fuzz.cnn", src)
		if len(errs) > 0 {
			out := errs.Render(src)
			if !strings.HasPrefix(out, "fuzz.cnn:") {
				t.Fatalf("rendered errors do not start with a position:\n%s", out)
			}
			if m != nil {
				t.Fatal("a model returned with errors")
			}
		} else if m != nil {
			var b strings.Builder
			if err := m.WriteTable(&b); err != nil {
				t.Fatal(err)
			}
			if m.Params < 0 || m.MACs < 0 || m.Activations < 0 {
				t.Fatalf("negative counts: %d %d %d", m.Params, m.MACs, m.Activations)
			}
		}
		if err := grammar.CheckFormat("fuzz.cnn", src); err != nil {
			t.Fatal(err)
		}
	})
}
