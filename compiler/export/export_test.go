package export

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/internal/ort"
	"github.com/cnnc-dev/cnnc/onnx"
	"github.com/cnnc-dev/cnnc/op"
	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/npy"
)

func compile(t *testing.T, file string, src []byte) *compiler.Model {
	t.Helper()
	m, errs := compiler.CompileSource(file, src)
	if len(errs) > 0 {
		t.Fatal(errs.Render(src))
	}
	return m
}

func compileFile(t *testing.T, file string) *compiler.Model {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return compile(t, file, src)
}

// zeros gives every tensor zeros of its size.
func zeros(m *compiler.Model) Weights {
	sizes := map[string]int{}
	for _, ts := range compiler.NewPlan(m).Tensors {
		n := 1
		for _, d := range ts.Shape {
			n *= d
		}
		sizes[ts.Name] = n
	}
	return func(name string) ([]float32, error) {
		n, ok := sizes[name]
		if !ok {
			return nil, fmt.Errorf("no tensor %s", name)
		}
		return make([]float32, n), nil
	}
}

// TestGraph: GoogLeNet's graph is one node per layer of the inference
// network, named as the layer; its initializers are the package's tensors
// but the aux heads'; its input and outputs are named and typed with a
// symbolic batch; and it survives the trip through the file format.
func TestGraph(t *testing.T) {
	m := compileFile(t, "../../networks/googlenet.cnn")
	model, err := Model(m, zeros(m), "test")
	if err != nil {
		t.Fatal(err)
	}
	model, err = onnx.Unmarshal(model.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	g := model.Graph
	var layers, nodes []string
	for _, l := range m.Layers[1:] {
		if l.Node.Aux == nil {
			layers = append(layers, l.Node.Name)
		}
	}
	for _, n := range g.Nodes {
		// avgpool 7 gives a map: a Flatten before fc1 and only there.
		if (n.OpType == "Flatten") != (n.Name == "fc1.flatten") {
			t.Errorf("node %s: %s", n.Name, n.OpType)
		}
		if n.OpType != "Flatten" {
			nodes = append(nodes, n.Name)
		}
	}
	if !slices.Equal(nodes, layers) {
		t.Errorf("nodes\n%v\nwant the layers\n%v", nodes, layers)
	}
	var inits, tensors []string
	for _, x := range g.Initializer {
		inits = append(inits, x.Name)
	}
	for _, ts := range compiler.NewPlan(m).Tensors {
		if !strings.HasPrefix(ts.Name, "aux") {
			tensors = append(tensors, ts.Name)
		}
	}
	dropouts := 0
	for _, n := range inits {
		if strings.HasSuffix(n, ".ratio") {
			dropouts++
		}
	}
	inits = slices.DeleteFunc(inits, func(s string) bool { return strings.HasSuffix(s, ".ratio") })
	if !slices.Equal(inits, tensors) || dropouts != 1 {
		t.Errorf("initializers %v (%d ratios)\nwant %v and 1 ratio", inits, dropouts, tensors)
	}
	if len(g.Inputs) != 1 || g.Inputs[0].Name != "input" || fmt.Sprint(g.Inputs[0].Shape) != "[{0 N} {3 } {224 } {224 }]" {
		t.Errorf("input %+v", g.Inputs[0])
	}
	if len(g.Outputs) != 2 || g.Outputs[0].Name != Logits || g.Outputs[1].Name != Probs ||
		fmt.Sprint(g.Outputs[1].Shape) != "[{0 N} {1000 }]" {
		t.Errorf("outputs %+v %+v", g.Outputs[0], g.Outputs[1])
	}
	conv := g.Nodes[0]
	if conv.Name != "conv1" || conv.Doc != "../../networks/googlenet.cnn:25:1: conv 64 7x7 s2 p3" ||
		fmt.Sprint(conv.Inputs) != "[input conv1.weight conv1.bias]" || fmt.Sprint(conv.Outputs) != "[conv1]" {
		t.Errorf("first node %+v", conv)
	}
	if a := conv.Attr("pads"); a == nil || fmt.Sprint(a.Ints) != "[3 3 3 3]" || conv.AttrInt("group", 0) != 1 {
		t.Errorf("conv1's attributes %+v", conv.Attrs)
	}
}

func TestErrors(t *testing.T) {
	m := compileFile(t, "../../testdata/nets/mini_resnet.cnn")
	missing := func(name string) ([]float32, error) { return nil, fmt.Errorf("no weights for %s", name) }
	if _, err := Model(m, missing, ""); err == nil || err.Error() != "no weights for conv1.weight" {
		t.Errorf("missing weights: %v", err)
	}
	short := func(name string) ([]float32, error) { return make([]float32, 3), nil }
	if _, err := Model(m, short, ""); err == nil || !strings.Contains(err.Error(), "conv1.weight: 3 values for shape [8 3 3 3] (216)") {
		t.Errorf("short weights: %v", err)
	}
}

// TestNames: a layer labelled as an output name does not take it.
func TestNames(t *testing.T) {
	src := "network N\ninput 4x4x1\nlogits: conv 2 3x3 -> probs: relu -> fc 3 -> softmax\n"
	m := compile(t, "n.cnn", []byte(src))
	model, err := Model(m, zeros(m), "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range model.Graph.Nodes {
		got = append(got, n.Name+"->"+n.Outputs[0])
	}
	want := "[logits->logits_2 probs->probs_2 fc1.flatten->fc1.flatten fc1->logits softmax1->probs]"
	if fmt.Sprint(got) != want {
		t.Errorf("nodes %v\nwant %s", got, want)
	}
	// Class scores as a 1x1xC map are flattened to (N, C) before they are
	// the outputs.
	m = compile(t, "g.cnn", []byte("network G\ninput 4x4x3\nconv 5 1x1 -> gap -> softmax\n"))
	model, err = Model(m, zeros(m), "")
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, n := range model.Graph.Nodes {
		got = append(got, n.OpType+":"+strings.Join(n.Inputs[:1], ",")+"->"+n.Outputs[0])
	}
	want = "[Conv:input->conv1 GlobalAveragePool:conv1->gap1 Flatten:gap1->logits Softmax:logits->probs]"
	if fmt.Sprint(got) != want {
		t.Errorf("nodes %v\nwant %s", got, want)
	}
	for _, o := range model.Graph.Outputs {
		if fmt.Sprint(o.Shape) != "[{0 N} {5 }]" {
			t.Errorf("output %s: shape %v", o.Name, o.Shape)
		}
	}
}

// TestPools runs pooling windows through ONNX Runtime and compares with
// the runtime's reference kernels: ceil mode where the last window hangs
// over the padded edge (the divisor of avgpool counts the window clipped
// to the padded input, as PyTorch does) and where PyTorch drops a last
// window that would start in the right padding.
func TestPools(t *testing.T) {
	ort.Need(t)
	for _, c := range []struct {
		layer string
		h, w  int
	}{
		{"maxpool 3 s2 ceil", 112, 112},
		{"maxpool 2 s2 p1 ceil", 5, 5}, // PyTorch drops the window starting at 6
		{"maxpool 3 s2 p1 ceil", 10, 7},
		{"maxpool 3 s1 p1 ceil", 6, 6},
		{"maxpool 3x2 s2x1 p1x0", 7, 5},
		{"avgpool 3 s2 p1 ceil", 10, 5},
		{"avgpool 2 s2 p1 ceil", 5, 5},
		{"avgpool 5 s3 ceil", 14, 14},
		{"avgpool 3 s3 ceil", 8, 7},
		{"avgpool 3 s2 p1", 9, 9},
	} {
		m, x, got := oneLayer(t, c.layer, c.h, c.w)
		l := m.Output()
		var pool op.Pool
		switch o := l.Node.Op.(type) {
		case *op.MaxPool:
			pool = o.Pool
		case *op.AvgPool:
			pool = o.Pool
		}
		p := rt.Pool{C: 2, H: c.h, W: c.w, OH: l.Out.H, OW: l.Out.W}
		p.KH, p.KW, p.SH, p.SW, p.PH, p.PW, p.Ceil = pool.KH, pool.KW, pool.SH, pool.SW, pool.PH, pool.PW, pool.Ceil
		want := make([]float32, 2*2*l.Out.H*l.Out.W)
		if strings.HasPrefix(c.layer, "max") {
			rt.MaxPool(p).ForwardRef(2, x.Data, want, make([]int32, len(want)))
		} else {
			rt.AvgPool(p).ForwardRef(2, x.Data, want)
		}
		sameOutput(t, fmt.Sprintf("%s on %dx%d", c.layer, c.h, c.w), got, want, l.Out.H, l.Out.W)
	}
}

// oneLayer exports the network `input HxWx2 -> layer`, runs it in ONNX
// Runtime on two random images and returns the model, the input and
// ONNX Runtime's output.
func oneLayer(t *testing.T, layer string, h, w int) (*compiler.Model, *npy.Array, *npy.Array) {
	t.Helper()
	m := compile(t, "p.cnn", []byte(fmt.Sprintf("network P\ninput %dx%dx2\n%s\n", h, w, layer)))
	model, err := Model(m, zeros(m), "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "p.onnx")
	if err := os.WriteFile(path, model.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := rt.NewRNG(1)
	x := &npy.Array{Shape: []int{2, 2, h, w}, Data: make([]float32, 4*h*w)}
	for i := range x.Data {
		x.Data[i] = float32(r.Uniform(-1, 1))
	}
	return m, x, ort.Run(t, path, x)[Output]
}

// sameOutput fails unless got is (2, 2, oh, ow) and want within 1e-6.
func sameOutput(t *testing.T, what string, got *npy.Array, want []float32, oh, ow int) {
	t.Helper()
	if got == nil || fmt.Sprint(got.Shape) != fmt.Sprint([]int{2, 2, oh, ow}) {
		t.Errorf("%s: ONNX Runtime's output %v, cnnc's (2, 2, %d, %d)", what, got, oh, ow)
		return
	}
	var diff float64
	for i := range want {
		diff = math.Max(diff, math.Abs(float64(got.Data[i]-want[i])))
	}
	if diff > 1e-6 {
		t.Errorf("%s: max |ONNX Runtime - cnnc| = %.3g", what, diff)
	}
}
