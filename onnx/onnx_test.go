package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The files in testdata/conformance are models of ONNX's own conformance
// tests (libonnx-testdata: backend/test/data/node/test_*/model.onnx, and
// one of pytorch-converted), written by ONNX's Python package; the
// expectations below are what onnx.load reads from them.
func TestConformanceModels(t *testing.T) {
	type want struct {
		ir, opset int64
		op        string
		attrs     map[string]any
		inputs    []string
	}
	cases := map[string]want{
		"averagepool_2d_pads_count_include_pad": {6, 11, "AveragePool", map[string]any{"count_include_pad": int64(1), "kernel_shape": []int64{3, 3}, "pads": []int64{2, 2, 2, 2}}, []string{"x"}},
		"batchnorm_epsilon":                     {8, 15, "BatchNormalization", map[string]any{"epsilon": float32(0.01)}, []string{"x", "s", "bias", "mean", "var"}},
		"concat_2d_axis_0":                      {7, 13, "Concat", map[string]any{"axis": int64(0)}, []string{"value0", "value1"}},
		"conv_with_strides_padding":             {6, 11, "Conv", map[string]any{"kernel_shape": []int64{3, 3}, "pads": []int64{1, 1, 1, 1}, "strides": []int64{2, 2}}, []string{"x", "W"}},
		"dropout_default":                       {7, 13, "Dropout", map[string]any{"seed": int64(0)}, []string{"x"}},
		"flatten_axis1":                         {7, 13, "Flatten", map[string]any{"axis": int64(1)}, []string{"a"}},
		"gemm_default_single_elem_vector_bias":  {7, 13, "Gemm", map[string]any{}, []string{"a", "b", "c"}},
		"globalaveragepool":                     {3, 1, "GlobalAveragePool", map[string]any{}, []string{"x"}},
		"leakyrelu":                             {8, 16, "LeakyRelu", map[string]any{"alpha": float32(0.1)}, []string{"x"}},
		"lrn":                                   {7, 13, "LRN", map[string]any{"alpha": float32(0.0002), "beta": float32(0.5), "bias": float32(2), "size": int64(3)}, []string{"x"}},
		"maxpool_2d_ceil":                       {7, 12, "MaxPool", map[string]any{"ceil_mode": int64(1), "kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}}, []string{"x"}},
		"pytorch_Conv2d_groups":                 {3, 6, "Conv", map[string]any{"dilations": []int64{1, 1}, "group": int64(2), "kernel_shape": []int64{3, 2}, "pads": []int64{0, 0, 0, 0}, "strides": []int64{1, 1}}, []string{"0", "1", "2"}},
		"softmax_axis_1":                        {7, 13, "Softmax", map[string]any{"axis": int64(1)}, []string{"x"}},
	}
	files, _ := filepath.Glob("testdata/conformance/*.onnx")
	if len(files) != len(cases) {
		t.Fatalf("%d files in testdata/conformance, %d cases", len(files), len(cases))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".onnx")
		w, ok := cases[name]
		if !ok {
			t.Errorf("%s: no case", f)
			continue
		}
		m, err := Load(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if m.IRVersion != w.ir || len(m.Opsets) != 1 || m.Opsets[0].Version != w.opset || m.Graph == nil || len(m.Graph.Nodes) != 1 {
			t.Errorf("%s: ir %d opsets %v graph %v", name, m.IRVersion, m.Opsets, m.Graph)
			continue
		}
		n := m.Graph.Nodes[0]
		if n.OpType != w.op {
			t.Errorf("%s: op %q, want %q", name, n.OpType, w.op)
		}
		got := map[string]any{}
		for _, a := range n.Attrs {
			switch a.Type {
			case AttrInt:
				got[a.Name] = a.I
			case AttrFloat:
				got[a.Name] = a.F
			case AttrInts:
				got[a.Name] = a.Ints
			default:
				got[a.Name] = a.Type
			}
		}
		if !reflect.DeepEqual(got, w.attrs) {
			t.Errorf("%s: attributes %v, want %v", name, got, w.attrs)
		}
		var in []string
		for _, v := range m.Graph.Inputs {
			in = append(in, v.Name)
			if v.ElemType != Float || !v.HasShape || len(v.Shape) == 0 {
				t.Errorf("%s: input %s: type %d shape %v", name, v.Name, v.ElemType, v.Shape)
			}
		}
		if !reflect.DeepEqual(in, w.inputs) {
			t.Errorf("%s: inputs %v, want %v", name, in, w.inputs)
		}
		checkRoundTrip(t, name, m)
	}
}

// TestInitializer reads the weights of pytorch_Conv2d_groups: a (6, 2, 3, 2)
// weight and a (6) bias, as raw data.
func TestInitializer(t *testing.T) {
	m, err := Load("testdata/conformance/pytorch_Conv2d_groups.onnx")
	if err != nil {
		t.Fatal(err)
	}
	init := m.Graph.Initializer
	if len(init) != 2 || init[0].Name != "1" || !reflect.DeepEqual(init[0].Dims, []int64{6, 2, 3, 2}) || !reflect.DeepEqual(init[1].Dims, []int64{6}) {
		t.Fatalf("initializers %+v", init)
	}
	w, err := init[0].Floats()
	if err != nil || len(w) != 72 {
		t.Fatalf("weight: %d values, %v", len(w), err)
	}
	var nonzero int
	for _, x := range w {
		if x != 0 {
			nonzero++
		}
	}
	if nonzero < 60 {
		t.Errorf("weight has %d non-zero values of 72: not read from the file", nonzero)
	}
}

// checkRoundTrip: what Unmarshal read, Marshal writes so that Unmarshal
// reads it again the same.
func checkRoundTrip(t *testing.T, name string, m *Model) {
	t.Helper()
	b := m.Marshal()
	m2, err := Unmarshal(b)
	if err != nil {
		t.Fatalf("%s: reading what Marshal wrote: %v", name, err)
	}
	if !bytes.Equal(m2.Marshal(), b) {
		t.Errorf("%s: Marshal(Unmarshal(Marshal(m))) differs from Marshal(m)", name)
	}
	if m.Graph != nil && len(m.Graph.Nodes) != len(m2.Graph.Nodes) {
		t.Errorf("%s: nodes lost in a round trip", name)
	}
}

func TestWriteRead(t *testing.T) {
	m := &Model{
		IRVersion: IRVersion, ProducerName: "cnnc", Opsets: []Opset{{Version: 17}},
		Metadata: []KeyVal{{"k", "v"}},
		Graph: &Graph{
			Name: "g",
			Nodes: []*Node{{Name: "conv1", OpType: "Conv", Inputs: []string{"input", "conv1.weight", ""}, Outputs: []string{"conv1"},
				Attrs: []*Attr{{Name: "pads", Type: AttrInts, Ints: []int64{1, 1, 1, 1}}, {Name: "alpha", Type: AttrFloat, F: 0.5},
					{Name: "group", Type: AttrInt, I: 0}, {Name: "mode", Type: AttrString, S: []byte("x")}}}},
			Initializer: []*Tensor{FloatTensor("conv1.weight", []int64{2, 1, 1, 1}, []float32{1.5, -2})},
			Inputs:      []*ValueInfo{{Name: "input", ElemType: Float, Shape: []Dim{{Param: "N"}, {Value: 1}, {Value: 0}}}},
			Outputs:     []*ValueInfo{{Name: "conv1", ElemType: Float}},
		},
	}
	m2, err := Unmarshal(m.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	m.Graph.Inputs[0].HasShape = true // what the reader reports for a written shape
	if !reflect.DeepEqual(m, m2) {
		t.Errorf("read back\n%+v\nwant\n%+v", m2.Graph, m.Graph)
	}
	w, err := m2.Graph.Initializer[0].Floats()
	if err != nil || !reflect.DeepEqual(w, []float32{1.5, -2}) {
		t.Errorf("weight %v %v", w, err)
	}
}

func TestBadFiles(t *testing.T) {
	good, err := os.ReadFile("testdata/conformance/pytorch_Conv2d_groups.onnx")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)-7], "model: field 7: unexpected EOF"},
		{"bad tag", []byte{0xff}, "offset 0: model: bad field tag"},
		{"wrong wire type", []byte{0x0a, 0x01, 0x00}, "ir_version: wire type 2, want 0"},
		{"text", []byte("ir_version: 8\n"), "offset"},
	} {
		_, err := Unmarshal(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	bad := &Tensor{Name: "w", DataType: Float, Dims: []int64{2, 3}, RawData: make([]byte, 20)}
	if _, err := bad.Floats(); err == nil || !strings.Contains(err.Error(), "20 bytes of raw data for dims [2 3] (6 floats)") {
		t.Errorf("short raw data: %v", err)
	}
	if _, err := (&Tensor{Name: "i", DataType: Int64}).Floats(); err == nil {
		t.Error("an int64 tensor read as floats")
	}
}

// TestLibonnxTestdata reads every model of ONNX's conformance tests where
// Debian's libonnx-testdata is installed (apt-get install libonnx-testdata;
// not needed by CI, which has the files in testdata/conformance).
func TestLibonnxTestdata(t *testing.T) {
	dir := "/usr/include/onnx/backend/test/data"
	files, _ := filepath.Glob(dir + "/*/*/model.onnx")
	if len(files) == 0 {
		t.Skipf("no %s (Debian's libonnx-testdata)", dir)
	}
	for _, f := range files {
		m, err := Load(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if m.Graph == nil || len(m.Graph.Nodes) == 0 {
			t.Errorf("%s: no graph or no nodes", f)
			continue
		}
		checkRoundTrip(t, f, m)
	}
	t.Logf("%d models read", len(files))
}

func FuzzUnmarshal(f *testing.F) {
	files, _ := filepath.Glob("testdata/conformance/*.onnx")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Unmarshal(data)
		if err != nil {
			return
		}
		b := m.Marshal()
		m2, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("reading what Marshal wrote: %v", err)
		}
		if !bytes.Equal(m2.Marshal(), b) {
			t.Fatal("Marshal(Unmarshal(Marshal(m))) differs from Marshal(m)")
		}
		if m.Graph != nil {
			for _, x := range m.Graph.Initializer {
				x.Floats() // must not panic
			}
		}
	})
}
