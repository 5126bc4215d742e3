// Package importer turns an ONNX model into a .cnn file a person would
// have written, and its initializers into the network's tensors: `cnnc
// import`. It is the inverse of package compiler/export.
//
// The steps: graph.go reads the ONNX graph into layer nodes, each ONNX
// node translated by its op's own import (op.FromONNX) or kept as
// structure (Add, Concat) or passed through (Identity, Flatten and Reshape
// before an fc); structure.go recovers the chains, `concat { ... }` and
// `residual { ... }` from the graph's dominators; blocks.go turns repeated
// residuals and concats into block definitions with parameters; text.go
// writes the file, which cnnc's own parser, formatter and compiler check.
package importer

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/cnnc-dev/cnnc/onnx"
	"github.com/cnnc-dev/cnnc/op"
)

// Error is a node the language cannot express, or a file that is not a
// CNN classifier cnnc can import.
type Error struct {
	Node, Op, Attr string // the ONNX node's name, its op type and the attribute at fault
	Msg            string
}

func (e *Error) Error() string {
	where := ""
	if e.Node != "" || e.Op != "" {
		where = fmt.Sprintf("node %q (%s)", e.Node, e.Op)
		if e.Attr != "" {
			where += ", attribute " + e.Attr
		}
		where += ": "
	}
	return where + e.Msg
}

// Errors are all the nodes that cannot be imported, in graph order.
type Errors []*Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Limits bound what a model may ask for, so that a hostile file costs
// bounded time and memory.
const (
	MaxNodes  = 100_000
	MaxValues = 1 << 30 // floats in all initializers (4 GiB)
	MaxDim    = 1 << 20 // any one dimension of the input
)

type kind int

const (
	kInput kind = iota
	kLayer
	kAdd
	kConcat
)

// node is one layer of the imported network: an ONNX node turned into a
// .cnn layer, a join, or the input.
type node struct {
	kind    kind
	name    string // the ONNX node's name (or its first output)
	opType  string
	text    string // a layer's .cnn text
	in      []*node
	users   []*node
	tensors []tensor
	c       int // output channels (or features)
	rank    int // of its output: 4 for (N, C, H, W), 2 for (N, F)
	stride  int // a conv's stride (for the implied projection), else 0
}

// tensor is one initializer taken by a layer.
type tensor struct {
	name string // the initializer's name in the ONNX file
	dims []int
	data []float32
}

// graph is the model's network before its structure is recovered.
type graph struct {
	name   string
	input  *node
	h, w   int
	out    *node
	nodes  []*node // topological order, input first
	errs   Errors
	inits  map[string]*onnx.Tensor
	values int // floats read from initializers
}

func (g *graph) fail(n *onnx.Node, attr, format string, args ...any) {
	e := &Error{Attr: attr, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Node, e.Op = nodeName(n), n.OpType
	}
	g.errs = append(g.errs, e)
}

func nodeName(n *onnx.Node) string {
	if n.Name != "" {
		return n.Name
	}
	if len(n.Outputs) > 0 {
		return n.Outputs[0]
	}
	return "?"
}

// read builds the graph of m.
func read(m *onnx.Model) *graph {
	g := &graph{inits: map[string]*onnx.Tensor{}}
	if m.Graph == nil {
		g.fail(nil, "", "the file has no graph")
		return g
	}
	gr := m.Graph
	g.name = gr.Name
	if len(gr.Nodes) > MaxNodes {
		g.fail(nil, "", "%d nodes, more than %d", len(gr.Nodes), MaxNodes)
		return g
	}
	for _, t := range gr.Initializer {
		g.inits[t.Name] = t
	}
	// The input: the one graph input that is not an initializer.
	var inputs []*onnx.ValueInfo
	for _, v := range gr.Inputs {
		if _, ok := g.inits[v.Name]; !ok {
			inputs = append(inputs, v)
		}
	}
	if len(inputs) != 1 {
		g.fail(nil, "", "%d graph inputs besides the initializers: a CNN classifier has one, the images", len(inputs))
		return g
	}
	if !g.readInput(inputs[0]) {
		return g
	}
	output, ok := mainOutput(gr)
	if !ok {
		g.fail(nil, "", "%d graph outputs: cnnc imports networks with one output (or logits and their softmax, as cnnc export writes)", len(gr.Outputs))
		return g
	}
	values := map[string]*node{inputs[0].Name: g.input}
	for _, n := range gr.Nodes {
		g.node(n, values)
	}
	if len(g.errs) > 20 {
		more := len(g.errs) - 20
		g.errs = append(g.errs[:20], &Error{Msg: fmt.Sprintf("and %d more nodes", more)})
	}
	if len(g.errs) > 0 {
		return g
	}
	out, ok := values[output]
	if !ok {
		g.fail(nil, "", "the output %q is made by no node", output)
		return g
	}
	g.out = out
	return g
}

// mainOutput is the graph's one output, or of two the softmax of the
// other (cnnc export's logits and probs).
func mainOutput(gr *onnx.Graph) (string, bool) {
	switch len(gr.Outputs) {
	case 1:
		return gr.Outputs[0].Name, true
	case 2:
		for _, n := range gr.Nodes {
			if n.OpType != "Softmax" || len(n.Inputs) != 1 || len(n.Outputs) != 1 {
				continue
			}
			for i, o := range gr.Outputs {
				if o.Name == n.Outputs[0] && gr.Outputs[1-i].Name == n.Inputs[0] {
					return o.Name, true
				}
			}
		}
	}
	return "", false
}

func (g *graph) readInput(v *onnx.ValueInfo) bool {
	if v.ElemType != onnx.Float {
		g.fail(nil, "", "input %q: element type %d: cnnc takes float32 images", v.Name, v.ElemType)
		return false
	}
	shape := v.Shape
	switch len(shape) {
	case 2: // (N, F): features, as a 1x1xF map
		shape = []onnx.Dim{shape[0], shape[1], {Value: 1}, {Value: 1}}
	case 3: // (N, C, L): a sequence, as a 1xL map of C channels (same memory order)
		shape = []onnx.Dim{shape[0], shape[1], {Value: 1}, shape[2]}
	}
	if len(shape) != 4 {
		g.fail(nil, "", "input %q: %d dimensions: cnnc takes images (N, C, H, W), sequences (N, C, L) as 1xL maps, or features (N, F)", v.Name, len(v.Shape))
		return false
	}
	var d [3]int
	for i, dim := range shape[1:] {
		if dim.Param != "" || dim.Value < 1 || dim.Value > MaxDim {
			g.fail(nil, "", "input %q: dimension %d is %s: only the batch may be symbolic, and C, H, W must be 1..%d", v.Name, i+1, dimString(dim), MaxDim)
			return false
		}
		d[i] = int(dim.Value)
	}
	g.input = &node{kind: kInput, name: v.Name, c: d[0], rank: len(v.Shape)}
	g.h, g.w = d[1], d[2]
	g.nodes = append(g.nodes, g.input)
	return true
}

func dimString(d onnx.Dim) string {
	if d.Param != "" {
		return fmt.Sprintf("%q", d.Param)
	}
	return fmt.Sprint(d.Value)
}

// node adds the layer of ONNX node n, whose inputs must be in values. The
// outputs of a node that fails are nil there: the nodes after it are
// skipped, not reported again.
func (g *graph) node(n *onnx.Node, values map[string]*node) {
	errs := len(g.errs)
	g.node1(n, values)
	if len(g.errs) > errs {
		for _, o := range n.Outputs {
			values[o] = nil
		}
	}
}

func (g *graph) node1(n *onnx.Node, values map[string]*node) {
	if n.Domain != "" && n.Domain != "ai.onnx" {
		g.fail(n, "", "an op of domain %q: cnnc knows ONNX's own ops", n.Domain)
		return
	}
	var ins []*node
	for i, name := range n.Inputs {
		if name == "" {
			continue
		}
		if v, ok := values[name]; ok {
			if v == nil {
				for _, o := range n.Outputs {
					values[o] = nil // after a node that failed
				}
				return
			}
			ins = append(ins, v)
			continue
		}
		if _, ok := g.inits[name]; !ok {
			g.fail(n, "", "input %d %q is made by no earlier node (the graph is cyclic or not sorted)", i, name)
			return
		}
	}
	out := func(x *node) {
		if len(n.Outputs) == 0 {
			g.fail(n, "", "no output")
			return
		}
		values[n.Outputs[0]] = x
	}
	switch n.OpType {
	case "Constant":
		if a := n.Attr("value"); a != nil && a.T != nil && len(n.Outputs) == 1 {
			t := *a.T
			t.Name = n.Outputs[0]
			g.inits[t.Name] = &t
			return
		}
		g.fail(n, "value", "a Constant without a tensor value")
		return
	case "Pad":
		g.pad(n, ins, out)
		return
	case "Identity", "Flatten", "Reshape":
		if t, ok := g.inits[n.Inputs[0]]; ok && n.OpType == "Identity" && len(n.Outputs) == 1 {
			g.inits[n.Outputs[0]] = t // an initializer under a second name (PyTorch's export of shared weights)
			return
		}
		if len(ins) != 1 {
			g.fail(n, "", "%d computed inputs, want 1", len(ins))
			return
		}
		if a := n.AttrInt("axis", 1); n.OpType == "Flatten" && a != 1 && a+int64(ins[0].rank) != 1 {
			g.fail(n, "axis", "Flatten at axis %d of a %d-D map: cnnc flattens (N, C, H, W) to (N, C*H*W)", a, ins[0].rank)
			return
		}
		out(ins[0]) // a pass-through: cnnc's fc flattens its input itself
		return
	case "Add", "Concat":
		if len(ins) != len(n.Inputs) || len(ins) < 2 {
			g.fail(n, "", "an %s of a constant: cnnc adds and concatenates computed maps", n.OpType)
			return
		}
		k := kAdd
		if n.OpType == "Concat" {
			k = kConcat
			if a := n.AttrInt("axis", 1); a != 1 {
				g.fail(n, "axis", "a concatenation along axis %d: cnnc concatenates along depth (axis 1)", a)
				return
			}
		} else if len(ins) != 2 {
			g.fail(n, "", "an Add of %d inputs", len(ins))
			return
		}
		x := &node{kind: k, name: nodeName(n), opType: n.OpType, in: ins, c: ins[0].c, rank: ins[0].rank}
		if k == kConcat {
			x.c = 0
			for _, in := range ins {
				x.c += in.c
			}
		}
		g.add(x)
		out(x)
		return
	}
	imp := op.FromONNX(n.OpType)
	if imp == nil {
		g.fail(n, "", "the language has no layer for %s (it has %s)", n.OpType, strings.Join(layerTypes(), ", "))
		return
	}
	if len(ins) != 1 {
		g.fail(n, "", "%d computed inputs: a layer reads one map", len(ins))
		return
	}
	x := &node{kind: kLayer, name: nodeName(n), opType: n.OpType, in: ins, c: ins[0].c, rank: ins[0].rank}
	switch n.OpType {
	case "Gemm":
		x.rank = 2
	case "GlobalAveragePool":
		x.rank = 4
	}
	im := &importer{g: g, n: n, x: x}
	x.text = imp(im)
	if im.failed {
		return
	}
	switch n.OpType {
	case "Conv", "Gemm":
		x.c = x.tensors[0].dims[0]
		if s := n.AttrInts("strides"); n.OpType == "Conv" && len(s) == 2 && s[0] == s[1] {
			x.stride = int(s[0])
		} else if n.OpType == "Conv" && len(s) == 0 {
			x.stride = 1
		}
	}
	g.add(x)
	out(x)
}

// pad reads a Pad of zeros: none at all passes its input on (PyTorch
// writes one before an average pool); padding of H and W alike on both
// sides goes into the conv or average pool that reads it.
func (g *graph) pad(n *onnx.Node, ins []*node, out func(*node)) {
	if len(ins) != 1 {
		g.fail(n, "", "%d computed inputs, want 1", len(ins))
		return
	}
	if a := n.Attr("mode"); a != nil && string(a.S) != "constant" {
		g.fail(n, "mode", "%s padding: cnnc pads with zeros", a.S)
		return
	}
	pads := n.AttrInts("pads") // before opset 11
	if len(n.Inputs) > 1 {
		t, ok := g.inits[n.Inputs[1]]
		if !ok {
			g.fail(n, "pads", "computed pads: cnnc needs them constant")
			return
		}
		var err error
		if pads, err = t.Int64s(); err != nil {
			g.fail(n, "pads", "%v", err)
			return
		}
	}
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		t, ok := g.inits[n.Inputs[2]]
		v, err := t.Floats()
		if !ok || err != nil || len(v) != 1 || v[0] != 0 {
			g.fail(n, "constant_value", "padding with a value other than 0")
			return
		}
	}
	zero := true
	for _, p := range pads {
		zero = zero && p == 0
	}
	if !zero {
		g.fail(n, "pads", "padding %v as a node of its own: cnnc pads in the conv or pool that reads the map", pads)
		return
	}
	out(ins[0])
}

func layerTypes() []string {
	ts := op.ONNXTypes()
	sort.Strings(ts)
	return ts
}

func (g *graph) add(x *node) {
	for _, in := range x.in {
		in.users = append(in.users, x)
	}
	g.nodes = append(g.nodes, x)
}

// importer is the op.ONNXImporter of one node.
type importer struct {
	g      *graph
	n      *onnx.Node
	x      *node
	failed bool
}

func (im *importer) Node() *onnx.Node { return im.n }

func (im *importer) InC() int { return im.x.in[0].c }

func (im *importer) init(i int) *onnx.Tensor {
	if i >= len(im.n.Inputs) {
		return nil
	}
	return im.g.inits[im.n.Inputs[i]]
}

func (im *importer) Dims(i int) ([]int64, bool) {
	t := im.init(i)
	if t == nil {
		return nil, false
	}
	return t.Dims, true
}

func (im *importer) Scalar(i int) (float32, bool) {
	t := im.init(i)
	if t == nil {
		return 0, false
	}
	v, err := t.Floats()
	if err != nil || len(v) != 1 {
		return 0, false
	}
	return v[0], true
}

func (im *importer) Tensor(i int, transpose bool) {
	t := im.init(i)
	if t == nil {
		im.Fail("", "input %d must be an initializer", i)
		return
	}
	data, err := t.Floats()
	if err != nil {
		im.Fail("", "%v", err)
		return
	}
	im.g.values += len(data)
	if im.g.values > MaxValues {
		im.Fail("", "the initializers hold more than %d floats", MaxValues)
		return
	}
	dims := make([]int, len(t.Dims))
	for k, d := range t.Dims {
		dims[k] = int(d)
	}
	if transpose {
		if len(dims) != 2 {
			im.Fail("", "input %d: a transposed weight must be 2-D", i)
			return
		}
		r, c := dims[0], dims[1]
		tr := make([]float32, len(data))
		for a := range r {
			for b := range c {
				tr[b*r+a] = data[a*c+b]
			}
		}
		data, dims = tr, []int{c, r}
	}
	for _, v := range data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			im.Fail("", "initializer %q holds %v", t.Name, v)
			return
		}
	}
	im.x.tensors = append(im.x.tensors, tensor{name: t.Name, dims: dims, data: data})
}

func (im *importer) Fail(attr, format string, args ...any) {
	im.failed = true
	im.g.fail(im.n, attr, format, args...)
}
