// Package ort runs ONNX models with ONNX Runtime, for the tests that check
// cnnc export: Node.js runs tools/ort/run.js with the npm package
// onnxruntime-node (its CPU library ships inside the package), which Run
// installs on first use with `npm ci --ignore-scripts` in tools/ort (the
// package's install script would fetch GPU binaries; cnnc needs none).
//
// Without node and npm a test is skipped with the reason, except under CI
// (CI set in the environment), where it fails: CI must run these checks.
package ort

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/cnnc-dev/cnnc/runtime/npy"
)

// Dir is tools/ort, found from this file's place in the repository.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "tools", "ort")
}

// Need returns when ONNX Runtime can run, installing it if needed; it
// skips tb (fails it under CI) when node or npm is missing.
func Need(tb testing.TB) {
	tb.Helper()
	for _, cmd := range []string{"node", "npm"} {
		if _, err := exec.LookPath(cmd); err != nil {
			msg := fmt.Sprintf("ONNX Runtime checks need %s (Node.js 18 or later): %v", cmd, err)
			if os.Getenv("CI") != "" {
				tb.Fatal(msg)
			}
			tb.Skip(msg)
		}
	}
	if err := install(); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal(err)
		}
		tb.Skipf("ONNX Runtime could not be installed (npm's registry unreachable?): %v", err)
	}
}

// install runs npm ci --ignore-scripts in tools/ort unless onnxruntime-node
// is there, holding a lock so that test binaries running at once install
// it once.
func install() error {
	dir := Dir()
	lock, err := os.OpenFile(filepath.Join(dir, "node_modules.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json")); err == nil {
		return nil
	}
	cmd := exec.Command("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci --ignore-scripts in %s: %v\n%s", dir, err, out)
	}
	return nil
}

// Run runs the ONNX model file on x and returns its outputs by name.
func Run(tb testing.TB, model string, x *npy.Array) map[string]*npy.Array {
	tb.Helper()
	dir := tb.TempDir()
	in := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(in, x); err != nil {
		tb.Fatal(err)
	}
	outDir := filepath.Join(dir, "ort")
	cmd := exec.Command("node", filepath.Join(Dir(), "run.js"), model, in, outDir)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("onnxruntime on %s: %v\n%s", model, err, strings.TrimSpace(string(b)))
	}
	files, _ := filepath.Glob(filepath.Join(outDir, "*.npy"))
	outs := map[string]*npy.Array{}
	for _, f := range files {
		a, err := npy.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		outs[strings.TrimSuffix(filepath.Base(f), ".npy")] = a
	}
	return outs
}
