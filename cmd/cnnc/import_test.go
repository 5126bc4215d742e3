package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

// TestImport: cnnc export, then cnnc import of the file: the same
// network (cnnc check passes, cnnc summary gives its parameters) and its
// weights under the new names.
func TestImport(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "mini.onnx")
	if code, out, errs := cnnc(t, "export", miniResNet, "--seed", "2", "-o", model); code != exitOK {
		t.Fatalf("export: exit %d: %s%s", code, out, errs)
	}
	cnn, w := filepath.Join(dir, "back.cnn"), filepath.Join(dir, "back.safetensors")
	code, out, errs := cnnc(t, "import", model, "-o", cnn, "--weights", w)
	if code != exitOK || !strings.Contains(out, "back.cnn: back, ") || !strings.Contains(out, "parameters (48 tensors from mini.onnx)") {
		t.Fatalf("import: exit %d: %s%s", code, out, errs)
	}
	if code, _, errs := cnnc(t, "check", cnn); code != exitOK {
		t.Fatalf("check: %s", errs)
	}
	_, sumOrig, _ := cnnc(t, "summary", miniResNet)
	_, sumBack, _ := cnnc(t, "summary", cnn)
	last := func(s string) string {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "total") {
				return strings.Fields(l)[2]
			}
		}
		return ""
	}
	if p := last(sumOrig); p == "" || p != last(sumBack) {
		t.Errorf("parameters %s, the original's %s", last(sumBack), p)
	}
	f, err := safetensors.Load(w)
	if err != nil || len(f.Names()) != 48 || f.Meta["from"] != "mini.onnx" {
		t.Fatalf("weights: %v, %v", f, err)
	}
	// To stdout, named after the model.
	code, out, _ = cnnc(t, "import", model)
	if code != exitOK || !strings.HasPrefix(out, "# Imported from ONNX by cnnc import.\nnetwork mini\n") {
		t.Errorf("to stdout: exit %d\n%s", code, out)
	}
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "mini.onnx")
	if code, _, errs := cnnc(t, "export", miniResNet, "-o", model); code != exitOK {
		t.Fatal(errs)
	}
	b, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.onnx")
	os.WriteFile(truncated, b[:len(b)/3], 0o644)
	text := filepath.Join(dir, "text.onnx")
	os.WriteFile(text, []byte("ir_version: 8\n"), 0o644)
	out := filepath.Join(dir, "x.cnn")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, exitUsage, "usage"},
		{[]string{filepath.Join(dir, "none.onnx")}, exitInput, "no such file"},
		{[]string{truncated, "-o", out}, exitInput, "truncated.onnx: offset"},
		{[]string{text, "-o", out}, exitInput, "text.onnx: offset"},
		{[]string{"../../onnx/testdata/conformance/gemm_default_single_elem_vector_bias.onnx", "-o", out}, exitInput, "3 graph inputs besides the initializers"},
	} {
		code, _, stderr := cnnc(t, append([]string{"import"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("cnnc import %v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("cnnc import %v wrote %s", c.args, out)
		}
	}
}
