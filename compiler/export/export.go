// Package export writes a compiled network as an ONNX model (opset
// op.Opset): one node per layer of the inference graph, named as the
// layer, written by the op's own description (op.Op.ONNX); the tensors as
// initializers under the package's names (conv1.weight, bn1.running_mean);
// auxiliary heads left out, as at inference.
//
// Values: the graph's input is "input", (N, C, H, W) with a symbolic batch
// N; a network that ends in a softmax has two outputs, "logits" (the
// softmax's input, what cnnc infer writes) and "probs"; any other has one,
// "output". Every other value is named as the layer that makes it. Where
// an fc reads a feature map, a Flatten node named layer.flatten comes
// before its Gemm, as in PyTorch's exports; a classifier whose scores are
// a 1x1xC map gets one before its output, so that outputs are (N, C).
package export

import (
	"fmt"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/onnx"
	"github.com/cnnc-dev/cnnc/op"
)

// Graph output names.
const (
	Input  = "input"
	Logits = "logits"
	Probs  = "probs"
	Output = "output"
)

// Weights gives a tensor's values by its package name; len must be the
// tensor's size.
type Weights func(name string) ([]float32, error)

// Model exports m with the given weights. Errors are positioned at the
// layers that have no ONNX equivalent, or name the tensor whose weights
// are missing or of the wrong size.
func Model(m *compiler.Model, weights Weights, producerVersion string) (*onnx.Model, error) {
	x := &exporter{m: m, weights: weights, values: map[*compiler.Layer]*value{}, used: map[string]bool{}}
	g := &onnx.Graph{Name: m.Net.Name}
	x.g = g
	out := m.Output()
	var logits *compiler.Layer
	if _, ok := out.Node.Op.(*op.Softmax); ok && len(out.Inputs) == 1 {
		logits = out.Inputs[0]
	}
	// The graph's names are reserved first: a layer labelled "logits"
	// that is not the logits gets another.
	x.used[Input] = true
	if logits != nil {
		x.used[Logits], x.used[Probs] = true, true
	} else {
		x.used[Output] = true
	}
	for _, l := range m.Layers {
		if l.Node.Aux != nil {
			continue
		}
		if _, ok := l.Node.Op.(*op.Input); ok {
			x.values[l] = &value{name: Input, rank: 4}
			g.Inputs = append(g.Inputs, x.info(Input, l.Out, 4))
			continue
		}
		x.layer(l, out, logits)
	}
	if len(x.errs) > 0 {
		return nil, x.errs
	}
	if x.err != nil {
		return nil, x.err
	}
	outs := []*compiler.Layer{out}
	if logits != nil {
		outs = []*compiler.Layer{logits, out}
	}
	for _, l := range outs {
		v := x.values[l]
		g.Outputs = append(g.Outputs, x.info(v.name, l.Out, v.rank))
	}
	return &onnx.Model{
		IRVersion:       onnx.IRVersion,
		Opsets:          []onnx.Opset{{Version: op.Opset}},
		ProducerName:    "cnnc",
		ProducerVersion: producerVersion,
		Doc:             fmt.Sprintf("%s, compiled by cnnc from %s", m.Net.Name, m.Net.File),
		Graph:           g,
		Metadata:        []onnx.KeyVal{{Key: "network", Value: m.Net.Name}, {Key: "source", Value: m.Net.File}},
	}, nil
}

type value struct {
	name string
	rank int // 4: (N, C, H, W); 2: (N, F)
}

type exporter struct {
	m       *compiler.Model
	g       *onnx.Graph
	weights Weights
	values  map[*compiler.Layer]*value
	used    map[string]bool // value, node and initializer names
	errs    dsl.ErrorList
	err     error // the first weights error
}

// unique returns name, or name with a suffix when a layer's label took it
// already (a layer the .cnn calls "logits" that is not the logits).
func (x *exporter) unique(name string) string {
	n := name
	for i := 2; x.used[n]; i++ {
		n = fmt.Sprintf("%s_%d", name, i)
	}
	x.used[n] = true
	return n
}

// info is a value's type: float32 with a symbolic batch.
func (x *exporter) info(name string, s op.Shape, rank int) *onnx.ValueInfo {
	dims := []onnx.Dim{{Param: "N"}, {Value: int64(s.C)}}
	if rank == 4 {
		dims = append(dims, onnx.Dim{Value: int64(s.H)}, onnx.Dim{Value: int64(s.W)})
	} else {
		dims[1].Value = int64(s.Size())
	}
	return &onnx.ValueInfo{Name: name, ElemType: onnx.Float, Shape: dims, HasShape: true}
}

// layer adds the node of l. The output and its logits get the graph's
// output names, after a Flatten when they are 1x1xC maps.
func (x *exporter) layer(l, out, logits *compiler.Layer) {
	rank := 4
	switch {
	case l.Node.Op.Kind().Flat:
		rank = 2
	case !l.Node.Op.Kind().NeedsMap && len(l.Inputs) > 0:
		rank = x.values[l.Inputs[0]].rank
	}
	special := ""
	switch {
	case l == logits:
		special = Logits
	case l == out && logits != nil:
		special = Probs
	case l == out:
		special = Output
	}
	flatten := special != "" && rank == 4 && l.Out.H == 1 && l.Out.W == 1
	v := &value{rank: rank}
	if special != "" && !flatten {
		v.name = special
	} else {
		v.name = x.unique(l.Node.Name)
	}
	x.values[l] = v
	le := &layerExporter{x: x, l: l, out: v.name}
	l.Node.Op.ONNX(le)
	if le.nodes != 1 && !le.failed {
		x.fail(fmt.Errorf("%s: its op (%s) wrote %d nodes, not one", l.Node.Name, l.Node.Op, le.nodes))
	}
	if flatten {
		name := x.unique(l.Node.Name + ".flatten")
		x.g.Nodes = append(x.g.Nodes, &onnx.Node{Name: name, OpType: "Flatten", Inputs: []string{v.name}, Outputs: []string{special},
			Attrs: []*onnx.Attr{onnx.IntAttr("axis", 1)}})
		x.values[l] = &value{name: special, rank: 2}
	}
}

// layerExporter is the op.Exporter of one layer.
type layerExporter struct {
	x      *exporter
	l      *compiler.Layer
	out    string
	nodes  int
	steps  int
	failed bool
}

func (e *layerExporter) Name() string           { return e.l.Node.Name }
func (e *layerExporter) NumIn() int             { return len(e.l.Inputs) }
func (e *layerExporter) InShape(i int) op.Shape { return e.l.In[i] }
func (e *layerExporter) OutShape() op.Shape     { return e.l.Out }
func (e *layerExporter) In(i int) string        { return e.x.values[e.l.Inputs[i]].name }

func (e *layerExporter) FlatIn(i int) string {
	v := e.x.values[e.l.Inputs[i]]
	if v.rank == 2 {
		return v.name
	}
	name := e.x.unique(e.l.Node.Name + ".flatten")
	e.x.g.Nodes = append(e.x.g.Nodes, &onnx.Node{Name: name, OpType: "Flatten", Inputs: []string{v.name}, Outputs: []string{name},
		Attrs: []*onnx.Attr{onnx.IntAttr("axis", 1)}})
	return name
}

func (e *layerExporter) Tensor(i int) string {
	specs := e.l.Node.Op.Tensors(e.l.In, e.l.Out)
	t := specs[i]
	name := e.l.Node.Name + "." + t.Name
	var dims []int64
	for _, d := range t.Shape {
		dims = append(dims, int64(d))
	}
	size := t.Size()
	data, err := e.x.weights(name)
	switch {
	case err != nil:
		e.x.fail(err)
	case len(data) != size:
		e.x.fail(fmt.Errorf("%s: %d values for shape %v (%d)", name, len(data), t.Shape, size))
	}
	e.x.used[name] = true
	e.x.g.Initializer = append(e.x.g.Initializer, onnx.FloatTensor(name, dims, data))
	return name
}

func (e *layerExporter) Const(suffix string, dims []int64, data []float32) string {
	name := e.x.unique(e.l.Node.Name + "." + suffix)
	e.x.g.Initializer = append(e.x.g.Initializer, onnx.FloatTensor(name, dims, data))
	return name
}

func (e *layerExporter) ConstInt64(suffix string, dims []int64, data []int64) string {
	name := e.x.unique(e.l.Node.Name + "." + suffix)
	e.x.g.Initializer = append(e.x.g.Initializer, &onnx.Tensor{Name: name, Dims: dims, DataType: onnx.Int64, Int64Data: data})
	return name
}

func (e *layerExporter) Node(opType string, inputs []string, attrs ...*onnx.Attr) {
	e.nodes++
	e.x.g.Nodes = append(e.x.g.Nodes, &onnx.Node{Name: e.l.Node.Name, OpType: opType, Inputs: inputs, Outputs: []string{e.out}, Attrs: attrs, Doc: e.doc()})
}

func (e *layerExporter) Step(opType string, inputs []string, attrs ...*onnx.Attr) string {
	e.steps++
	name := e.x.unique(fmt.Sprintf("%s.%d", e.l.Node.Name, e.steps))
	e.x.g.Nodes = append(e.x.g.Nodes, &onnx.Node{Name: name, OpType: opType, Inputs: inputs, Outputs: []string{name}, Attrs: attrs, Doc: e.doc()})
	return name
}

// doc is the doc string of the layer's nodes: the layer as written, where.
func (e *layerExporter) doc() string {
	n := e.l.Node
	return fmt.Sprintf("%s:%d:%d: %s", e.x.m.Net.File, n.Pos.Line, n.Pos.Column, n.Text)
}

func (e *layerExporter) Errorf(format string, args ...any) {
	n := e.l.Node
	e.failed = true
	e.x.errs = append(e.x.errs, &dsl.Error{Pos: n.Pos, End: n.End, Msg: fmt.Sprintf(format, args...)})
}

func (x *exporter) fail(err error) {
	if x.err == nil {
		x.err = err
	}
}
