package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/gen/lenet5"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_misc"
	"github.com/cnnc-dev/cnnc/runtime/npy"
)

// TestInferEndToEnd builds the inference binary of networks/lenet5.cnn and
// compares what cnnc infer writes with gen/lenet5 run in this process on
// the same weights: the logits, the probabilities and the top classes; then
// the errors, before the build (the input's shape, dtype, a missing or
// truncated file) and after it (the weights of another network).
func TestInferEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Setenv("CNNC_CACHE", t.TempDir())
	dir := t.TempDir()
	const n = 5
	net := lenet5.New(n, 7)
	w := filepath.Join(dir, "w.safetensors")
	if err := net.Save(w); err != nil {
		t.Fatal(err)
	}
	x := make([]float32, n*lenet5.InputSize)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)*0.37)) * 2
	}
	in := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(in, &npy.Array{Shape: []int{n, 1, 28, 28}, Data: x}); err != nil {
		t.Fatal(err)
	}
	// lenet5 has no bn or dropout: its training forward's logits are
	// inference's.
	logits, err := net.TrainForward(x)
	if err != nil {
		t.Fatal(err)
	}
	logits = append([]float32(nil), logits...)
	probs, err := net.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	lenet := "../../networks/lenet5.cnn"
	lo, po := filepath.Join(dir, "logits.npy"), filepath.Join(dir, "probs.npy")
	code, out, errs := cnnc(t, "infer", lenet, "--weights", w, "--input", in, "-o", lo, "--batch", "2")
	if code != exitOK {
		t.Fatalf("cnnc infer: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "cnnc: building LeNet5") || out != "" {
		t.Errorf("stdout %q, stderr %q: want nothing but the build's line", out, errs)
	}
	compare := func(path string, want []float32) {
		t.Helper()
		a, err := npy.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Shape) != 2 || a.Shape[0] != n || a.Shape[1] != 10 {
			t.Fatalf("%s: shape %v, want (%d, 10)", path, a.Shape, n)
		}
		worst := 0.0
		for i, v := range a.Data {
			d := math.Abs(float64(v - want[i]))
			if d > 1e-5*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%s: value %d is %v, want %v", path, i, v, want[i])
			}
			worst = max(worst, d)
		}
		t.Logf("%s: largest difference from gen/lenet5's %g", filepath.Base(path), worst)
	}
	compare(lo, logits)
	code, out, errs = cnnc(t, "infer", lenet, "--weights", w, "--input", in, "-o", po, "--probs", "--top", "3")
	if code != exitOK || strings.Contains(errs, "building") {
		t.Fatalf("cnnc infer --probs: exit %d (want 0, and the cached binary)\n%s\n%s", code, out, errs)
	}
	compare(po, probs)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != n {
		t.Fatalf("--top 3: %d lines, want %d:\n%s", len(lines), n, out)
	}
	for i, l := range lines {
		pred, _ := net.Predict(x[i*784:(i+1)*784], nil)
		var img, c int
		var p float64
		if _, err := fmt.Sscanf(l, "%d: %d (%f),", &img, &c, &p); err != nil || img != i || c != int(pred[0]) || strings.Count(l, "(") != 3 {
			t.Errorf("--top line %q: want image %d, class %d first, 3 classes (%v)", l, i, pred[0], err)
		}
	}

	// Errors before the build: exit 1 and a message naming the file.
	bad := func(name string, a *npy.Array) string {
		p := filepath.Join(dir, name)
		if err := npy.WriteFile(p, a); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wrong := bad("wrong.npy", &npy.Array{Shape: []int{2, 3, 28, 28}, Data: make([]float32, 2*3*784)})
	flat := bad("flat.npy", &npy.Array{Shape: []int{2, 784}, Data: make([]float32, 2*784)})
	b, _ := os.ReadFile(in)
	trunc := filepath.Join(dir, "trunc.npy")
	os.WriteFile(trunc, b[:len(b)-3], 0o644)
	other := filepath.Join(dir, "other.safetensors")
	if err := mini_misc.New(1, 1).Save(other); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--input", wrong, "-o", lo}, exitInput, "wrong.npy: shape (2, 3, 28, 28), but LeNet5 takes (N, 1, 28, 28): N images of 28x28x1"},
		{[]string{"--input", flat, "-o", lo}, exitInput, "flat.npy: shape (2, 784), but LeNet5 takes (N, 1, 28, 28)"},
		{[]string{"--input", "../../runtime/npy/testdata/int32.npy", "-o", lo}, exitInput, "dtype <i4: want float32 (<f4) or float64 (<f8)"},
		{[]string{"--input", filepath.Join(dir, "none.npy"), "-o", lo}, exitInput, "none.npy: no such file"},
		{[]string{"--input", trunc, "-o", lo}, exitInput, "trunc.npy: byte 128: shape [5 1 28 28] of <f4 needs 15680 bytes of data, the file has 15677 after the header (truncated)"},
		{[]string{"--input", in, "-o", filepath.Join(dir, "no", "y.npy")}, exitInput, "no such file or directory"},
		{[]string{"--input", in}, exitUsage, "nothing to do: give -o OUT.npy, --top K or both"},
		{[]string{"--input", in, "--top", "-1"}, exitUsage, "--top -1: want at least 0"},
	} {
		code, out, errs := cnnc(t, append([]string{"infer", lenet, "--weights", w}, c.args...)...)
		if code != c.code || !strings.Contains(errs, c.want) || strings.Contains(errs, "building") {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q, before any build\n%s", c.args, code, errs, c.code, c.want, out)
		}
	}
	feat := filepath.Join(dir, "feat.cnn")
	os.WriteFile(feat, []byte("network Feat\ninput 28x28x1\nconv 4 3x3 -> relu\n"), 0o644)
	if code, _, errs := cnnc(t, "infer", feat, "--weights", w, "--input", in, "--top", "1"); code != exitInput ||
		!strings.Contains(errs, "--probs and --top need a classifier; Feat's output is 26x26x4") || strings.Contains(errs, "building") {
		t.Errorf("--top of a feature extractor: exit %d, %q", code, errs)
	}
	if code, _, errs := cnnc(t, "infer", lenet, "--input", in, "-o", lo); code != exitUsage || !strings.Contains(errs, "--weights is required") {
		t.Errorf("without --weights: exit %d, %q", code, errs)
	}
	// After the build: weights of another network.
	code, _, errs = cnnc(t, "infer", lenet, "--weights", other, "--input", in, "-o", lo)
	if code != exitInput || !strings.Contains(errs, "cnnc infer: ") || !strings.Contains(errs, "conv1.weight") {
		t.Errorf("weights of mini_misc: exit %d, stderr %q", code, errs)
	}
	t.Logf("weights of another network: %s", errs)
}
