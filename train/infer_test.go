package train

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/gen/lenet5"
	"github.com/cnnc-dev/cnnc/runtime/npy"
)

// TestInfer runs Infer in process on lenet5, whose logits it writes: the
// batches, an empty input, --top, --probs and the errors.
func TestInfer(t *testing.T) {
	dir := t.TempDir()
	spec := lenetSpec()
	w := filepath.Join(dir, "w.safetensors")
	net := lenet5.New(7, 3)
	if err := net.Save(w); err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 7*784)
	for i := range x {
		x[i] = float32(i%97) / 50
	}
	probs, _ := net.Forward(x)
	probs = append([]float32(nil), probs...)
	want, _ := net.Logits(x)
	in := filepath.Join(dir, "x.npy")
	npy.WriteFile(in, &npy.Array{Shape: []int{7, 1, 28, 28}, Data: x})
	empty := filepath.Join(dir, "e.npy")
	npy.WriteFile(empty, &npy.Array{Shape: []int{0, 1, 28, 28}, Data: nil})
	out := filepath.Join(dir, "y.npy")
	for _, batch := range []int{1, 3, 7, 100} {
		var o bytes.Buffer
		if err := Infer(spec, InferConfig{Weights: w, Input: in, Output: out, Batch: batch, Top: 2, Stdout: &o}); err != nil {
			t.Fatal(err)
		}
		y, err := npy.ReadFile(out)
		if err != nil || !reflect.DeepEqual(y.Shape, []int{7, 10}) || !reflect.DeepEqual(y.Data, want) {
			t.Errorf("batch %d: %v %v, want (7, 10) and the logits", batch, y, err)
		}
		if n := strings.Count(o.String(), "\n"); n != 7 {
			t.Errorf("batch %d: --top 2 printed %d lines:\n%s", batch, n, o.String())
		}
	}
	if err := Infer(spec, InferConfig{Weights: w, Input: in, Output: out, Probs: true}); err != nil {
		t.Fatal(err)
	}
	y, err := npy.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range probs {
		if d := y.Data[i] - probs[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("--probs: %v, Forward's probabilities %v", y.Data, probs)
		}
	}
	if err := Infer(spec, InferConfig{Weights: w, Input: empty, Output: out}); err != nil {
		t.Fatal(err)
	}
	if y, err := npy.ReadFile(out); err != nil || !reflect.DeepEqual(y.Shape, []int{0, 10}) {
		t.Errorf("no images: %v %v, want shape (0, 10)", y, err)
	}
	for _, c := range []struct {
		cfg  InferConfig
		want string
	}{
		{InferConfig{Input: in, Output: out}, "--weights is required"},
		{InferConfig{Weights: w, Output: out}, "--input is required"},
		{InferConfig{Weights: w, Input: in}, "nothing to do"},
		{InferConfig{Weights: w, Input: in, Output: out, Batch: -1}, "--batch -1"},
		{InferConfig{Weights: in, Input: in, Output: out}, "x.npy"},
		{InferConfig{Weights: w, Input: w, Output: out}, "no .npy magic string"},
	} {
		if err := Infer(spec, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}
