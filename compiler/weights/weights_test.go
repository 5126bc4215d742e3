package weights

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/compiler"
)

func s(name string, shape ...int) Spec { return Spec{Name: name, Shape: shape, Dtype: "F32"} }

// net is a small network's tensors, in cnnc's names.
var net = []Spec{
	s("conv1.weight", 8, 3, 3, 3),
	s("bn1.weight", 8), s("bn1.bias", 8), s("bn1.running_mean", 8), s("bn1.running_var", 8),
	s("fc1.weight", 4, 8), s("fc1.bias", 4),
}

// seq is the same network as a user's nn.Sequential state dict.
func seq() []Spec {
	return []Spec{
		s("0.weight", 8, 3, 3, 3),
		s("1.weight", 8), s("1.bias", 8), s("1.running_mean", 8), s("1.running_var", 8),
		{Name: "1.num_batches_tracked", Dtype: "I64"},
		s("4.weight", 4, 8), s("4.bias", 4),
	}
}

func TestMapOrder(t *testing.T) {
	pairs, err := Map(net, seq())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "4.weight", "4.bias"}
	for k, p := range pairs {
		if p.Want.Name != net[k].Name || p.Have.Name != want[k] || p.By != ByOrder {
			t.Errorf("pair %d: %s <- %s by %s, want %s <- %s by order", k, p.Want.Name, p.Have.Name, p.By, net[k].Name, want[k])
		}
	}
}

func TestMapNames(t *testing.T) {
	// The network's own names, in another order, with F16 and F64 data.
	have := append([]Spec(nil), net...)
	have[0], have[6] = have[6], have[0]
	have[1].Dtype, have[2].Dtype = "F16", "F64"
	pairs, err := Map(net, have)
	if err != nil {
		t.Fatal(err)
	}
	for k, p := range pairs {
		if p.Want.Name != p.Have.Name || p.By != ByName {
			t.Errorf("pair %d: %s <- %s by %s", k, p.Want.Name, p.Have.Name, p.By)
		}
	}
	// Some names agree (fc1), the rest pair by order.
	have = seq()
	have[6].Name, have[7].Name = "fc1.weight", "fc1.bias"
	pairs, err = Map(net, have)
	if err != nil {
		t.Fatal(err)
	}
	if pairs[5].By != ByName || pairs[0].By != ByOrder {
		t.Errorf("got %v and %v", pairs[5], pairs[0])
	}
}

func TestMapErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func([]Spec) []Spec
		want []string
	}{
		{"missing", func(h []Spec) []Spec { return h[:len(h)-1] }, []string{"1 tensor(s) of the network not in the file: fc1.bias [4]"}},
		{"extra", func(h []Spec) []Spec { return append(h, s("5.weight", 3)) }, []string{"1 tensor(s) of the file not in the network: 5.weight [3]"}},
		{"transposed", func(h []Spec) []Spec { h[6].Shape = []int{8, 4}; return h },
			[]string{"fc1.weight: file's 4.weight is [8 4], the network's [4 8] transposed"}},
		{"shape", func(h []Spec) []Spec { h[0].Shape = []int{8, 3, 5, 5}; return h },
			[]string{"conv1.weight [8 3 3 3]: paired by order with the file's 0.weight, whose shape is [8 3 5 5]"}},
		{"name shape", func(h []Spec) []Spec { h[0].Name = "conv1.weight"; h[0].Shape = []int{8, 3, 5, 5}; return h },
			[]string{"conv1.weight: shape [8 3 5 5] in file, network wants [8 3 3 3]"}},
		{"swap", func(h []Spec) []Spec { h[2], h[3] = h[3], h[2]; return h },
			[]string{"1 tensor(s) of the file not in the network: 1.running_mean [8]",
				"1 tensor(s) of the network not in the file: bn1.running_mean [8] (the file's 1.running_mean has bn1.running_mean's shape", "could swap"}},
		{"role", func(h []Spec) []Spec { h[2].Name = "2.running_mean"; return h },
			[]string{"bn1.bias: paired by order with the file's 2.running_mean, a running_mean, not a bias"}},
		{"dtype", func(h []Spec) []Spec { h[1].Dtype = "F8_E4M3"; return h },
			[]string{"1.weight: dtype F8_E4M3 in file cannot be converted to float32"}},
		{"out of order", func(h []Spec) []Spec { h[1].Name = "bn1.bias"; h[2].Name = "bn1.weight"; return h },
			[]string{"pairs with the file's", "out of the file's order"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pairs, err := Map(net, c.edit(seq()))
			if err == nil {
				t.Fatalf("no error; pairs %v", pairs)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not say %q", err, w)
				}
			}
		})
	}
	// Integers are bookkeeping, dropped: an I64 weight is then missing.
	h := seq()
	h[0].Dtype = "I64"
	if _, err := Map(net, h); err == nil || !strings.Contains(err.Error(), "not in the file: conv1.weight") {
		t.Errorf("I64 weight: %v", err)
	}
}

// TestTorchvision pairs torchvision's state dicts (their names and shapes,
// written by scripts/torchvision_weights.py --json) with the zoo's networks
// that have a torchvision twin. To write them again:
//
//	for m in resnet18 resnet34 resnet50 resnet101 resnet152 vgg16 vgg19 mobilenet_v2 mobilenet_v3_large efficientnet_b0 shufflenet_v2_x1_0; do
//	  /usr/bin/python3 scripts/torchvision_weights.py $m /tmp/$m.safetensors --json compiler/weights/testdata/torchvision/$m.json
//	done
func TestTorchvision(t *testing.T) {
	for _, name := range []string{"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg16", "vgg19",
		"mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile("testdata/torchvision/" + name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var rows [][3]json.RawMessage
			if err := json.Unmarshal(b, &rows); err != nil {
				t.Fatal(err)
			}
			var have []Spec
			for _, r := range rows {
				var sp Spec
				if json.Unmarshal(r[0], &sp.Name) != nil || json.Unmarshal(r[1], &sp.Shape) != nil || json.Unmarshal(r[2], &sp.Dtype) != nil {
					t.Fatalf("bad row %s", r)
				}
				have = append(have, sp)
			}
			src, err := os.ReadFile("../../networks/" + name + ".cnn")
			if err != nil {
				t.Fatal(err)
			}
			m, errs := compiler.CompileSource(name+".cnn", src)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			var want []Spec
			for _, ts := range compiler.NewPlan(m).Tensors {
				want = append(want, Spec{Name: ts.Name, Shape: ts.Shape})
			}
			pairs, err := Map(want, have)
			if err != nil {
				t.Fatal(err)
			}
			if len(pairs) != len(want) {
				t.Fatalf("%d pairs, want %d", len(pairs), len(want))
			}
			// Spot checks: the first conv, a later bn statistic and the classifier.
			for _, p := range pairs {
				if role(p.Want.Name) != role(p.Have.Name) {
					t.Errorf("%s <- %s", p.Want.Name, p.Have.Name)
				}
			}
			last := pairs[len(pairs)-1]
			if !strings.HasSuffix(last.Have.Name, ".bias") || last.Have.Shape[0] != 1000 {
				t.Errorf("last pair %s <- %s", last.Want.Name, last.Have.Name)
			}
			t.Logf("%s: %d tensors, first %s <- %s", name, len(pairs), pairs[0].Want.Name, pairs[0].Have.Name)
			// Sorted by name (Hugging Face's save_file), the order is lost:
			// an error, never a silent pairing.
			slices.SortFunc(have, func(a, b Spec) int { return strings.Compare(a.Name, b.Name) })
			if _, err := Map(want, have); err == nil {
				t.Errorf("sorted by name: no error")
			}
		})
	}
}

// TestMapLinearAsConv: an nn.Linear weight (O, I) applied at every pixel
// pairs with the network's 1x1 conv (O, I, 1, 1) (ConvNeXt's); a
// (O, I) with a KxK conv, or a bias with a (C, 1, 1) tensor, does not.
func TestMapLinearAsConv(t *testing.T) {
	want := []Spec{s("conv1.weight", 8, 4, 1, 1), s("conv1.bias", 8)}
	pairs, err := Map(want, []Spec{s("block.3.weight", 8, 4), s("block.3.bias", 8)})
	if err != nil || len(pairs) != 2 || pairs[0].Have.Name != "block.3.weight" {
		t.Fatalf("pairs %v, %v", pairs, err)
	}
	if _, err := Map([]Spec{s("conv1.weight", 8, 4, 3, 3)}, []Spec{s("w", 8, 4)}); err == nil {
		t.Error("a (8, 4) weight paired with a 3x3 conv's")
	}
	if _, err := Map([]Spec{s("ls.layer_scale", 8, 1, 1)}, []Spec{s("b", 8)}); err == nil {
		t.Error("a vector paired with a (8, 1, 1) tensor")
	}
}

// TestMapLeafNames: tensors whose last name is their own (not weight,
// bias, running_*) pair among themselves in order, wherever the file
// registers them: torchvision's ConvNeXt lists each block's layer_scale
// before the block's modules.
func TestMapLeafNames(t *testing.T) {
	want := []Spec{s("b1.conv1.weight", 4, 4, 1, 1), s("b1.ls1.layer_scale", 4, 1, 1), s("b2.conv1.weight", 4, 4, 1, 1), s("b2.ls1.layer_scale", 4, 1, 1)}
	have := []Spec{s("f.0.layer_scale", 4, 1, 1), s("f.0.block.3.weight", 4, 4), s("f.1.layer_scale", 4, 1, 1), s("f.1.block.3.weight", 4, 4)}
	pairs, err := Map(want, have)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, p := range pairs {
		got = append(got, p.Have.Name)
	}
	if fmt.Sprint(got) != "[f.0.block.3.weight f.0.layer_scale f.1.block.3.weight f.1.layer_scale]" {
		t.Errorf("pairs %v", got)
	}
}
