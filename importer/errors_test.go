package importer

import (
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/onnx"
)

// model is a graph from x (N, 3, 8, 8) to out through nodes, with a 3x3
// conv weight w (4, 3, 3, 3) and bias b, and fc weights fw (2, 4*8*8) and
// fb.
func model(out string, nodes ...*onnx.Node) *onnx.Model {
	return &onnx.Model{IRVersion: 8, Opsets: []onnx.Opset{{Version: 17}}, Graph: &onnx.Graph{
		Name:  "g",
		Nodes: nodes,
		Initializer: []*onnx.Tensor{
			onnx.FloatTensor("w", []int64{4, 3, 3, 3}, make([]float32, 108)),
			onnx.FloatTensor("b", []int64{4}, make([]float32, 4)),
			onnx.FloatTensor("fw", []int64{2, 256}, make([]float32, 512)),
			onnx.FloatTensor("fb", []int64{2}, make([]float32, 2)),
		},
		Inputs:  []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, HasShape: true, Shape: []onnx.Dim{{Param: "N"}, {Value: 3}, {Value: 8}, {Value: 8}}}},
		Outputs: []*onnx.ValueInfo{{Name: out, ElemType: onnx.Float}},
	}}
}

func onode(op, name string, in []string, out string, attrs ...*onnx.Attr) *onnx.Node {
	return &onnx.Node{OpType: op, Name: name, Inputs: in, Outputs: []string{out}, Attrs: attrs}
}

func conv(name, in, out string, attrs ...*onnx.Attr) *onnx.Node {
	return onode("Conv", name, []string{in, "w", "b"}, out, append([]*onnx.Attr{onnx.IntsAttr("pads", 1, 1, 1, 1)}, attrs...)...)
}

func TestImportErrors(t *testing.T) {
	fc := func(in string) *onnx.Node {
		return onode("Gemm", "fc", []string{in, "fw", "fb"}, "y", onnx.IntAttr("transB", 1))
	}
	cases := []struct {
		name string
		m    *onnx.Model
		want string
	}{
		{"fine", model("y", conv("c", "x", "a"), onode("Relu", "r", []string{"a"}, "r"), fc("r")), ""},
		{"unknown op", model("y", conv("c", "x", "a"), onode("LSTM", "lstm", []string{"a"}, "l"), fc("l")),
			`node "lstm" (LSTM): the language has no layer for LSTM (it has Add,`},
		{"asymmetric pads", model("y", onode("Conv", "c", []string{"x", "w", "b"}, "a", onnx.IntsAttr("pads", 1, 1, 0, 0)), fc("a")),
			`node "c" (Conv), attribute pads: asymmetric padding [1 1 0 0]`},
		{"same padding", model("y", onode("Conv", "c", []string{"x", "w", "b"}, "a", &onnx.Attr{Name: "auto_pad", Type: onnx.AttrString, S: []byte("SAME_LOWER")}), fc("a")),
			`attribute auto_pad: auto_pad SAME_LOWER`},
		{"dilated pool", model("y", conv("c", "x", "a"), onode("MaxPool", "p", []string{"a"}, "p", onnx.IntsAttr("kernel_shape", 2, 2), onnx.IntsAttr("dilations", 2, 2)), fc("p")),
			`node "p" (MaxPool), attribute dilations: dilation [2 2] in pooling`},
		{"3-D conv", model("y", onode("Conv", "c", []string{"x", "w", "b"}, "a", onnx.IntsAttr("kernel_shape", 3, 3, 3)), fc("a")),
			`a 3-D window`},
		{"exclusive average", model("y", conv("c", "x", "a"), onode("AveragePool", "p", []string{"a"}, "p", onnx.IntsAttr("kernel_shape", 3, 3), onnx.IntsAttr("pads", 1, 1, 1, 1)), fc("p")),
			`attribute count_include_pad: count_include_pad 0 with padding`},
		{"concat on width", model("y", conv("c", "x", "a"), conv("d", "x", "b2"), onode("Concat", "cat", []string{"a", "b2"}, "c", onnx.IntAttr("axis", 3)), fc("c")),
			`node "cat" (Concat), attribute axis: a concatenation along axis 3`},
		{"cyclic", model("y", conv("c", "z", "a"), onode("Relu", "r", []string{"a"}, "z"), fc("z")),
			`node "c" (Conv): input 0 "z" is made by no earlier node (the graph is cyclic or not sorted)`},
		{"training bn", model("y", conv("c", "x", "a"), onode("BatchNormalization", "bn", []string{"a", "b", "b", "b", "b"}, "n", onnx.IntAttr("training_mode", 1)), fc("n")),
			`training_mode: batch normalization in training mode`},
		{"nested residuals", model("y", conv("c", "x", "a"), onode("Relu", "r", []string{"a"}, "r"), onode("Relu", "s", []string{"a"}, "s"),
			onode("Add", "add", []string{"r", "s"}, "t"), onode("Add", "add2", []string{"t", "a"}, "u"), fc("u")), "-"},
		{"not a chain", model("y", conv("c", "x", "a"), onode("Relu", "b", []string{"a"}, "b"), onode("Relu", "c2", []string{"a"}, "c2"),
			onode("Relu", "d", []string{"b"}, "d"), onode("Add", "e", []string{"b", "c2"}, "e"), onode("Add", "f", []string{"d", "e"}, "f"), fc("f")),
			`node "b" (Relu): its output is read by two branches that do not join in one concat or residual`},
		{"dead branch", model("y", conv("c", "x", "a"), onode("Relu", "r", []string{"a"}, "r"), onode("Relu", "dead", []string{"a"}, "d"), fc("r")),
			`node "dead" (Relu): its output does not lead to the network's output`},
		{"x + x", model("y", conv("c", "x", "a"), onode("Add", "add", []string{"a", "a"}, "t"), fc("t")), `x + x`},
		{"bias add", model("y", conv("c", "x", "a"), onode("Add", "add", []string{"a", "b"}, "t"), fc("t")),
			`node "add" (Add): an Add of a constant`},
		{"short tensor", func() *onnx.Model {
			m := model("y", conv("c", "x", "a"), fc("a"))
			m.Graph.Initializer[0].RawData = m.Graph.Initializer[0].RawData[:100]
			return m
		}(), `tensor "w": 100 bytes of raw data for dims [4 3 3 3] (108 floats)`},
		{"external data", func() *onnx.Model {
			m := model("y", conv("c", "x", "a"), fc("a"))
			m.Graph.Initializer[0].External = true
			return m
		}(), `its data is in an external file`},
		{"huge dims", func() *onnx.Model {
			m := model("y", conv("c", "x", "a"), fc("a"))
			m.Graph.Initializer[0].Dims = []int64{1 << 40, 1 << 40, 3, 3}
			return m
		}(), `dims [1099511627776 1099511627776 3 3] are negative or too large`},
		{"int input", func() *onnx.Model {
			m := model("y", conv("c", "x", "a"), fc("a"))
			m.Graph.Inputs[0].ElemType = onnx.Int64
			return m
		}(), `input "x": element type 7: cnnc takes float32 images`},
		{"dynamic height", func() *onnx.Model {
			m := model("y", conv("c", "x", "a"), fc("a"))
			m.Graph.Inputs[0].Shape[2] = onnx.Dim{Param: "H"}
			return m
		}(), `input "x": dimension 2 is "H": only the batch may be symbolic`},
		{"two outputs", func() *onnx.Model {
			m := model("y", conv("c", "x", "a"), fc("a"))
			m.Graph.Outputs = append(m.Graph.Outputs, &onnx.ValueInfo{Name: "a"})
			return m
		}(), `2 graph outputs`},
		{"no graph", &onnx.Model{}, `the file has no graph`},
	}
	for _, c := range cases {
		r, err := Import(c.m, "")
		switch {
		case c.want == "" || c.want == "-":
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			} else if c.want == "-" {
				t.Logf("%s:\n%s", c.name, r.Source)
			}
		case err == nil || !strings.Contains(err.Error(), c.want):
			t.Errorf("%s: error %v\nwant one containing %q", c.name, err, c.want)
		}
	}
}

// TestErrorsAfterAFailure: the nodes after one that fails are not
// reported again; every failing node is.
func TestErrorsAfterAFailure(t *testing.T) {
	m := model("y", conv("c", "x", "a"), onode("LSTM", "l1", []string{"a"}, "l"), onode("Relu", "r", []string{"l"}, "r"),
		onode("Tile", "t", []string{"a"}, "t"), onode("Add", "add", []string{"r", "t"}, "s"))
	_, err := Import(m, "")
	errs, ok := err.(Errors)
	if !ok || len(errs) != 2 || errs[0].Node != "l1" || errs[1].Node != "t" {
		t.Errorf("errors %v", err)
	}
}

func FuzzImport(f *testing.F) {
	for _, file := range []string{"../testdata/nets/mini_resnet.cnn", "../testdata/nets/mini_inception.cnn", "../networks/lenet5.cnn"} {
		_, om, _ := exported(f, file)
		f.Add(om.Marshal())
	}
	f.Add(model("y", conv("c", "x", "a"), onode("Gemm", "fc", []string{"a", "fw", "fb"}, "y", onnx.IntAttr("transB", 1))).Marshal())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := onnx.Unmarshal(data)
		if err != nil {
			return
		}
		Import(m, "fuzz") // errors are fine; panics and hangs are not
	})
}
