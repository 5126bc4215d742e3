package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/runtime/safetensors"
	"github.com/cnnc-dev/cnnc/train"
)

const miniResNet = "../../testdata/nets/mini_resnet.cnn"

// torchMini writes gen/testdata/mini_resnet.safetensors's weights (w0.*,
// the PyTorch twin's initialisation under cnnc's names) under the names
// of an nn.Sequential ("layers.3.running_var"), in the network's order, and
// lets edit change the list first. It returns the file and the tensors
// under cnnc's names.
func torchMini(t *testing.T, edit func([]safetensors.Tensor) []safetensors.Tensor) (string, []safetensors.Tensor) {
	t.Helper()
	src, err := os.ReadFile(miniResNet)
	if err != nil {
		t.Fatal(err)
	}
	m, errs := compiler.CompileSource(miniResNet, src)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	f, err := safetensors.Load("../../gen/testdata/mini_resnet.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	var named, torch []safetensors.Tensor
	module, last := -1, ""
	for _, ts := range compiler.NewPlan(m).Tensors {
		x, err := f.Get("w0." + ts.Name)
		if err != nil {
			t.Fatal(err)
		}
		x.Name = ts.Name
		named = append(named, x)
		i := strings.LastIndexByte(ts.Name, '.')
		if ts.Name[:i] != last {
			module, last = module+1, ts.Name[:i]
		}
		torch = append(torch, safetensors.Tensor{Name: fmt.Sprintf("layers.%d%s", module, ts.Name[i:]), Shape: x.Shape, Data: x.Data})
	}
	if edit != nil {
		torch = edit(torch)
	}
	path := filepath.Join(t.TempDir(), "torch.safetensors")
	if err := safetensors.Save(path, torch, nil); err != nil {
		t.Fatal(err)
	}
	return path, named
}

func TestWeights(t *testing.T) {
	from, named := torchMini(t, nil)
	dir := t.TempDir()
	to := filepath.Join(dir, "cnnc.safetensors")
	code, out, errs := cnnc(t, "weights", miniResNet, from, "-o", to, "-v")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, w := range []string{"network", "basic3.shortcut1.bn1.running_var", "layers.0.weight", "order"} {
		if !strings.Contains(out, w) {
			t.Errorf("-v output does not say %q:\n%s", w, out)
		}
	}
	got, err := safetensors.Load(to)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Names()) != len(named) {
		t.Fatalf("%d tensors, want %d", len(got.Names()), len(named))
	}
	for _, x := range named {
		y, err := got.Get(x.Name)
		if err != nil || !slices.Equal(x.Data, y.Data) || !slices.Equal(x.Shape, y.Shape) {
			t.Errorf("%s: %v %v, want %v", x.Name, err, y.Shape, x.Shape)
		}
	}
	// A file under the network's names maps onto itself, by name.
	again := filepath.Join(dir, "again.safetensors")
	if code, out, errs := cnnc(t, "weights", "-v", miniResNet, to, "-o", again); code != exitOK || strings.Contains(out, "order") {
		t.Errorf("exit %d: %s\n%s", code, out, errs)
	}
	// A checkpoint of cnnc train: the optimizer's tensors are not weights.
	ckpt := filepath.Join(dir, "ckpt.safetensors")
	withOptim := append(slices.Clone(named), safetensors.Tensor{Name: "optim.velocity", Shape: []int{2}, Data: []float32{1, 2}})
	if err := safetensors.Save(ckpt, withOptim, map[string]string{"format": train.CheckpointFormat}); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := cnnc(t, "weights", "-v", miniResNet, ckpt, "-o", again); code != exitOK || !strings.Contains(out, "ignored: 1 tensors of the checkpoint's optimizer") {
		t.Errorf("checkpoint: exit %d: %s\n%s", code, out, errs)
	}
	// And back under the PyTorch names: the same file as from.
	back := filepath.Join(dir, "back.safetensors")
	if code, _, errs := cnnc(t, "weights", miniResNet, to, "-o", back, "--names", from); code != exitOK {
		t.Fatalf("--names: exit %d: %s", code, errs)
	}
	a, _ := safetensors.Load(from)
	b, _ := safetensors.Load(back)
	if !slices.Equal(a.Names(), b.Names()) {
		t.Fatalf("names %v, want %v", b.Names(), a.Names())
	}
	for _, n := range a.Names() {
		x, _ := a.Get(n)
		y, _ := b.Get(n)
		if !slices.Equal(x.Data, y.Data) {
			t.Errorf("%s differs", n)
		}
	}
}

func TestWeightsErrors(t *testing.T) {
	other := func(s []safetensors.Tensor) []safetensors.Tensor { return s }
	truncated, _ := torchMini(t, nil)
	b, _ := os.ReadFile(truncated)
	if err := os.WriteFile(truncated, b[:len(b)-5], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		from string
		want []string
	}{
		{"another network", "../../gen/testdata/lenet5.safetensors", []string{"onto MiniResNet", "the file has 34 tensors the names do not pair, the network 48", "not in the file: conv1.weight [8 3 3 3]"}},
		{"truncated", truncated, []string{"safetensors", "data"}},
		{"transposed", edited(t, func(s []safetensors.Tensor) []safetensors.Tensor {
			fc := &s[len(s)-2]
			fc.Shape = []int{fc.Shape[1], fc.Shape[0]}
			return s
		}), []string{"fc1.weight: file's layers.19.weight is [16 4], the network's [4 16] transposed"}},
		{"missing", edited(t, func(s []safetensors.Tensor) []safetensors.Tensor { return slices.Delete(s, 3, 4) }),
			[]string{"the file has 47 tensors the names do not pair, the network 48", "1 tensor(s) of the network not in the file: bn1.running_mean [8]"}},
		{"extra", edited(t, func(s []safetensors.Tensor) []safetensors.Tensor {
			return append(s, safetensors.Tensor{Name: "head.weight", Shape: []int{2}, Data: []float32{1, 2}})
		}), []string{"1 tensor(s) of the file not in the network: head.weight [2]"}},
		{"swap", edited(t, func(s []safetensors.Tensor) []safetensors.Tensor { s[2], s[3] = s[3], s[2]; return s }),
			[]string{"bn1.running_mean [8] (the file's layers.1.running_mean has bn1.running_mean's shape", "could swap"}},
		{"same", edited(t, other), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			to := filepath.Join(t.TempDir(), "to.safetensors")
			code, _, errs := cnnc(t, "weights", miniResNet, c.from, "-o", to)
			if c.want == nil {
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, errs)
				}
				return
			}
			if code != exitInput {
				t.Fatalf("exit %d, want 1: %s", code, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr\n%s\ndoes not say %q", errs, w)
				}
			}
			if _, err := os.Stat(to); err == nil {
				t.Errorf("%s written", to)
			}
		})
	}
	// Usage errors.
	for _, args := range [][]string{{miniResNet}, {miniResNet, truncated}, {"-x", miniResNet, truncated, "-o", "x"}} {
		if code, _, _ := cnnc(t, append([]string{"weights"}, args...)...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func edited(t *testing.T, edit func([]safetensors.Tensor) []safetensors.Tensor) string {
	path, _ := torchMini(t, edit)
	return path
}
