package playground

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var site struct {
	once sync.Once
	dir  string
	err  error
}

// built builds the playground once for the package's tests.
func built(t *testing.T) string {
	t.Helper()
	site.once.Do(func() {
		site.dir, site.err = os.MkdirTemp("", "cnnc-playground-test")
		if site.err == nil {
			site.err = Build(site.dir)
		}
	})
	if site.err != nil {
		t.Fatal(site.err)
	}
	return site.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if site.dir != "" {
		os.RemoveAll(site.dir)
	}
	os.Exit(code)
}

// TestBuild: the directory holds the page, Go's wasm_exec.js and a
// WebAssembly module.
func TestBuild(t *testing.T) {
	dir := built(t)
	for _, f := range []string{"index.html", "playground.js", "style.css", "wasm_exec.js"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || len(b) == 0 {
			t.Errorf("%s: %d bytes, %v", f, len(b), err)
		}
	}
	wasm, err := os.ReadFile(filepath.Join(dir, "cnnc.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		t.Errorf("cnnc.wasm starts with %q, not WebAssembly's magic", wasm[:min(len(wasm), 8)])
	}
	t.Logf("cnnc.wasm: %.1f MB", float64(len(wasm))/1e6)
}
