package playground

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// web is the page: index.html, playground.js, style.css.
//
//go:embed web
var web embed.FS

// WasmPackage is the playground's WebAssembly main.
const WasmPackage = "github.com/cnnc-dev/cnnc/playground/wasm"

// Build writes the servable playground into dir: the page, Go's
// wasm_exec.js (from GOROOT/lib/wasm, the one that matches the compiler)
// and cnnc.wasm, built by the go command on PATH (GOOS=js GOARCH=wasm) from
// the module the working directory is in. The build cache makes a second
// build a link only.
func Build(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	err := fs.WalkDir(web, "web", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := web.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, strings.TrimPrefix(path, "web/")), b, 0o644)
	})
	if err != nil {
		return err
	}
	goroot, err := goCmd(nil, "env", "GOROOT")
	if err != nil {
		return err
	}
	execJS, err := os.ReadFile(filepath.Join(strings.TrimSpace(goroot), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return fmt.Errorf("Go's wasm_exec.js: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), execJS, 0o644); err != nil {
		return err
	}
	wasm, err := filepath.Abs(filepath.Join(dir, "cnnc.wasm"))
	if err != nil {
		return err
	}
	_, err = goCmd([]string{"GOOS=js", "GOARCH=wasm"}, "build", "-trimpath", "-ldflags=-s -w", "-o", wasm, WasmPackage)
	return err
}

// goCmd runs the go command with env added and returns its output.
func goCmd(env []string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out), nil
}
