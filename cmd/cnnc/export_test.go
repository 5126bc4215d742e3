package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/onnx"
	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

// TestExport: a PyTorch state dict under nn.Sequential's names goes
// straight into the ONNX file, under the network's names; without
// --weights the initial weights are the seed's.
func TestExport(t *testing.T) {
	from, named := torchMini(t, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "mini.onnx")
	code, out, errs := cnnc(t, "export", miniResNet, "--weights", from, "-o", path)
	if code != exitOK || !strings.Contains(out, "MiniResNet, 37 nodes, 48 initializers, opset 17") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	inits := map[string]*onnx.Tensor{}
	for _, x := range m.Graph.Initializer {
		inits[x.Name] = x
	}
	for _, x := range named {
		got, err := inits[x.Name].Floats()
		if err != nil || !slices.Equal(got, x.Data) {
			t.Errorf("%s: not the state dict's values (%v)", x.Name, err)
		}
	}

	seeded := func(args ...string) []byte {
		p := filepath.Join(dir, "s.onnx")
		if code, out, errs := cnnc(t, append([]string{"export", miniResNet, "-o", p}, args...)...); code != exitOK {
			t.Fatalf("exit %d: %s%s", code, out, errs)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := seeded(), seeded("--seed", "0"), seeded("--seed", "5")
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Error("the initial weights are not the seed's, or the file is not deterministic")
	}
}

func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.onnx")
	mini, _ := torchMini(t, nil)
	transposed, _ := torchMini(t, func(ts []safetensors.Tensor) []safetensors.Tensor {
		fc := &ts[len(ts)-2] // fc1.weight (4, 16)
		fc.Shape = []int{fc.Shape[1], fc.Shape[0]}
		return ts
	})
	truncated := filepath.Join(dir, "truncated.safetensors")
	b, err := os.ReadFile(mini)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{miniResNet}, exitUsage, "-o NET.onnx is required"},
		{[]string{miniResNet, "-o", out, "--weights", mini, "--seed", "3"}, exitUsage, "--seed draws initial weights"},
		{[]string{miniResNet, "-o", out, "--weights", filepath.Join(dir, "none.safetensors")}, exitInput, "no such file"},
		{[]string{miniResNet, "-o", out, "--weights", truncated}, exitInput, "truncated.safetensors"},
		{[]string{miniResNet, "-o", out, "--weights", transposed}, exitInput, "transposed"},
		{[]string{"../../networks/lenet5.cnn", "-o", out, "--weights", mini}, exitInput, "onto LeNet5"},
		{[]string{miniResNet, "-o", filepath.Join(dir, "no", "x.onnx")}, exitInput, "no such file or directory"},
	} {
		code, stdout, stderr := cnnc(t, append([]string{"export"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("cnnc export %v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
		if stdout != "" {
			t.Errorf("cnnc export %v: stdout %q", c.args, stdout)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("cnnc export %v wrote %s", c.args, out)
		}
	}
}
