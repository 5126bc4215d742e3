package gen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/compiler"
)

var update = flag.Bool("update", false, "rewrite the stale generated files")

// TestFresh regenerates every network of networks/ and testdata/nets/ in
// memory and fails when the committed package differs: run
// `go generate ./gen/` (or go test ./gen -update).
func TestFresh(t *testing.T) {
	zoo, _ := filepath.Glob("../networks/*.cnn")
	small, _ := filepath.Glob("../testdata/nets/*.cnn")
	if len(zoo) == 0 || len(small) == 0 {
		t.Fatal("no networks")
	}
	for _, path := range append(zoo, small...) {
		name := strings.TrimSuffix(filepath.Base(path), ".cnn")
		dir := name
		if strings.Contains(path, "testdata") {
			dir = filepath.Join("testnets", name)
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, errs := compiler.CompileSource(filepath.ToSlash(path), src)
		if len(errs) > 0 {
			t.Fatalf("%s:\n%s", path, errs.Render(src))
		}
		out, err := compiler.Generate(m, name, filepath.ToSlash(path))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range out {
			have, err := os.ReadFile(filepath.Join(dir, f.Name))
			if err != nil {
				t.Errorf("%v: run go generate ./gen/", err)
				continue
			}
			if *update && !bytes.Equal(have, f.Data) {
				if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if !bytes.Equal(have, f.Data) {
				t.Errorf("gen/%s/%s is stale: run go generate ./gen/", dir, f.Name)
			}
		}
	}
}
