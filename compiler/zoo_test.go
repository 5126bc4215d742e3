package compiler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cnnc-dev/cnnc/dsl"
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
		input          dsl.Shape
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
		out  dsl.Shape
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
	if pool1.Node.Op != dsl.OpMaxPool || pool1.Out != hwc(27, 27, 96) || pool1.Params != 0 {
		t.Errorf("AlexNet POOL1: %s %v %d params, want 27x27x96 0", pool1.Node.Op, pool1.Out, pool1.Params)
	}
	// VGG16: the lecture's memory column, input included, sums to 15,237,608
	// values; its weights without biases to 138,344,128.
	v := compileNetwork(t, "vgg16")
	var weights int64
	for _, l := range v.Layers {
		switch l.Node.Op {
		case dsl.OpConv:
			weights += l.Params - int64(l.Out.C)
		case dsl.OpFC:
			weights += l.Params - int64(l.Node.Units)
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

// TestWindow holds the output-size rule against values PyTorch gives.
func TestWindow(t *testing.T) {
	for _, tc := range []struct {
		in, k, s, p, d int
		ceil           bool
		want           int
	}{
		{227, 11, 4, 0, 1, false, 55},
		{55, 3, 2, 0, 1, false, 27},
		{112, 3, 2, 0, 1, true, 56}, // GoogLeNet's ceil-mode pool
		{110, 3, 2, 0, 1, true, 55}, // ZFNet pool1
		{6, 2, 2, 1, 1, true, 4},    // last window starts in the padding: kept
		{5, 2, 2, 1, 1, true, 3},    // would start past input+pad: dropped
		{14, 5, 3, 0, 1, true, 4},   // GoogLeNet aux avgpool
		{7, 3, 1, 0, 3, false, 1},   // dilation 3: effective 7
		{4, 3, 1, 0, 3, false, 0},   // does not fit
		{224, 3, 1, 1, 1, false, 224},
	} {
		if got := window(tc.in, tc.k, tc.s, tc.p, tc.d, tc.ceil); got != tc.want {
			t.Errorf("window(in %d, k %d, s %d, p %d, d %d, ceil %v) = %d, want %d", tc.in, tc.k, tc.s, tc.p, tc.d, tc.ceil, got, tc.want)
		}
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

func hwc(h, w, c int) dsl.Shape { return dsl.Shape{H: h, W: w, C: c} }

func TestStrideAndGroupHint(t *testing.T) {
	for _, tc := range []struct{ in, out, want int }{{56, 28, 2}, {7, 4, 2}, {56, 56, 1}, {28, 14, 2}, {5, 1, 5}, {1, 1, 1}, {10, 7, 0}, {3, 4, 0}} {
		if got := stride(tc.in, tc.out); got != tc.want {
			t.Errorf("stride(%d, %d) = %d, want %d", tc.in, tc.out, got, tc.want)
		}
	}
	if h := groupHint(256, 384, 5); h != "groups must divide both 256 (input) and 384 (filters); try g2 or g4 or g8 or g16" {
		t.Errorf("groupHint: %s", h)
	}
	if h := groupHint(10, 4, 3); h != "groups must divide both 10 (input) and 4 (filters); try g2" {
		t.Errorf("groupHint: %s", h)
	}
	if h := groupHint(7, 5, 2); h != "groups must divide both 7 (input) and 5 (filters); only g1 does" {
		t.Errorf("groupHint: %s", h)
	}
}
