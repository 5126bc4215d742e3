package compiler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cnnc-dev/cnnc/op"
)

func compileNetwork(t testing.TB, name string) *Model {
	t.Helper()
	path := filepath.Join("..", "networks", name+".cnn")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, errs := CompileSource(path, src)
	if len(errs) > 0 {
		t.Fatalf("%s:\n%s", name, errs.Render(src))
	}
	return m
}

// The figures of shared/reference/REFERENCE.md (torchvision's definitions,
// counted by PyTorch), held exactly.
func TestZooCounts(t *testing.T) {
	for _, tc := range []struct {
		name           string
		input          op.Shape
		params, macs   int64
		iparams, imacs int64 // without auxiliary heads
	}{
		{"lenet5", hwc(28, 28, 1), 61706, 416520, 0, 0},
		{"alexnet", hwc(227, 227, 3), 60965224, 724406816, 0, 0},
		{"zfnet", hwc(224, 224, 3), 62357608, 1168032896, 0, 0},
		{"vgg16", hwc(224, 224, 3), 138357544, 15470264320, 0, 0},
		{"vgg19", hwc(224, 224, 3), 143667240, 19632062464, 0, 0},
		{"googlenet", hwc(224, 224, 3), 13378280, 1591044096, 6998552, 1582671872},
		{"resnet18", hwc(224, 224, 3), 11689512, 1814073344, 0, 0},
		{"resnet34", hwc(224, 224, 3), 21797672, 3663761408, 0, 0},
		{"resnet50", hwc(224, 224, 3), 25557032, 4089184256, 0, 0},
		{"resnet101", hwc(224, 224, 3), 44549160, 7801405440, 0, 0},
		{"resnet152", hwc(224, 224, 3), 60192808, 11513626624, 0, 0},
		{"densenet121", hwc(224, 224, 3), 7978856, 2834161664, 0, 0},
		{"convnext_tiny", hwc(224, 224, 3), 28589128, 4455531264, 0, 0},
		{"mobilenet_v2", hwc(224, 224, 3), 3504872, 300774272, 0, 0},
		{"mobilenet_v3_large", hwc(224, 224, 3), 5483032, 216589760, 0, 0},
		{"efficientnet_b0", hwc(224, 224, 3), 5288548, 385814752, 0, 0},
		{"shufflenet_v2_x1_0", hwc(224, 224, 3), 2278604, 144907992, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := compileNetwork(t, tc.name)
			if tc.iparams == 0 {
				tc.iparams, tc.imacs = tc.params, tc.macs
			}
			if m.Net.Input != tc.input {
				t.Errorf("input %v, want %v", m.Net.Input, tc.input)
			}
			if m.Params != tc.params || m.MACs != tc.macs {
				t.Errorf("params %d MACs %d, want %d and %d", m.Params, m.MACs, tc.params, tc.macs)
			}
			if m.Inference.Params != tc.iparams || m.Inference.MACs != tc.imacs {
				t.Errorf("inference params %d MACs %d, want %d and %d", m.Inference.Params, m.Inference.MACs, tc.iparams, tc.imacs)
			}
			if out := m.Output().Out; out.C != 1000 && tc.name != "lenet5" {
				t.Errorf("output %v, want 1000 classes", out)
			}
		})
	}
}

func TestInceptionModules(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  op.Shape
		macs int64
	}{
		{"inception_naive", hwc(28, 28, 672), 854196224},
		{"inception_bottleneck", hwc(28, 28, 480), 271351808},
	} {
		m := compileNetwork(t, tc.name)
		if got := m.Output().Out; got != tc.out || m.MACs != tc.macs {
			t.Errorf("%s: output %v MACs %d, want %v and %d", tc.name, got, m.MACs, tc.out, tc.macs)
		}
	}
}

func TestLectureRows(t *testing.T) {
	m := compileNetwork(t, "alexnet")
	conv1, pool1 := m.Layers[1], m.Layers[3]
	if conv1.Node.Name != "conv1" || conv1.Out != hwc(55, 55, 96) || conv1.Params != 34944 {
		t.Errorf("AlexNet CONV1: %s %v %d params, want conv1 55x55x96 34,944", conv1.Node.Name, conv1.Out, conv1.Params)
	}
	if pool1.Node.Word() != "maxpool" || pool1.Out != hwc(27, 27, 96) || pool1.Params != 0 {
		t.Errorf("AlexNet POOL1: %s %v %d params, want 27x27x96 0", pool1.Node.Op, pool1.Out, pool1.Params)
	}
	// VGG16: the lecture's memory column, input included, sums to 15,237,608
	// values; its weights without biases to 138,344,128.
	v := compileNetwork(t, "vgg16")
	var weights int64
	for _, l := range v.Layers {
		switch o := l.Node.Op.(type) {
		case *op.Conv:
			weights += l.Params - int64(l.Out.C)
		case *op.FC:
			weights += l.Params - int64(o.Units)
		}
	}
	if v.Activations != 15237608 || weights != 138344128 {
		t.Errorf("VGG16 activations %d weights %d, want 15,237,608 and 138,344,128", v.Activations, weights)
	}
	first := v.Layers[1]
	if first.Out != hwc(224, 224, 64) || first.Activations != 3211264 || first.Params-64 != 1728 {
		t.Errorf("VGG16 first conv: %v %d values %d weights", first.Out, first.Activations, first.Params-64)
	}
}

func TestNamesAndImpliedProjection(t *testing.T) {
	m := compileNetwork(t, "resnet18")
	names := map[string]bool{}
	var proj []string
	for _, l := range m.Layers {
		if names[l.Node.Name] {
			t.Errorf("duplicate layer name %s", l.Node.Name)
		}
		names[l.Node.Name] = true
		if l.Implied {
			proj = append(proj, l.Node.Name)
		}
	}
	want := []string{"basic3.shortcut1.conv1", "basic3.shortcut1.bn1", "basic5.shortcut1.conv1", "basic5.shortcut1.bn1", "basic7.shortcut1.conv1", "basic7.shortcut1.bn1"}
	if len(proj) != len(want) {
		t.Fatalf("implied projections %v, want %v", proj, want)
	}
	for i := range want {
		if proj[i] != want[i] {
			t.Errorf("implied projection %d is %s, want %s", i, proj[i], want[i])
		}
	}
	g := compileNetwork(t, "googlenet")
	if len(g.Net.Aux) != 2 || g.Net.Aux[0].From.Name != "inception4a.concat1" || g.Net.Aux[1].From.Name != "inception4d.concat1" {
		t.Errorf("googlenet aux heads: %+v", g.Net.Aux)
	}
}

func hwc(h, w, c int) op.Shape { return op.Shape{H: h, W: w, C: c} }

func TestStrideAndGroupHint(t *testing.T) {
	for _, tc := range []struct{ in, out, want int }{{56, 28, 2}, {7, 4, 2}, {56, 56, 1}, {28, 14, 2}, {5, 1, 5}, {1, 1, 1}, {10, 7, 0}, {3, 4, 0}} {
		if got := stride(tc.in, tc.out); got != tc.want {
			t.Errorf("stride(%d, %d) = %d, want %d", tc.in, tc.out, got, tc.want)
		}
	}
}
