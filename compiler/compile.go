// Package compiler infers and checks every shape of a dsl.Network with
// PyTorch's rules, counts parameters, multiply-accumulates and activation
// memory, and prints summaries. It is the only stage that knows shapes: it
// also materialises the 1x1 projection a residual implies when its shapes
// differ.
package compiler

import (
	"fmt"
	"strings"

	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/op"
)

// Layer is one node of the checked model.
type Layer struct {
	Node        *dsl.Node
	Inputs      []*Layer   // the layers it reads; an implied projection replaces the identity
	In          []op.Shape // shapes of the inputs
	Out         op.Shape
	Params      int64
	MACs        int64 // conv and fc multiply-accumulates per image
	Activations int64 // values of its own output (0 when in place)
	Implied     bool  // an implied projection the compiler added
}

// Model is a network whose every shape is known and checked.
type Model struct {
	Net    *dsl.Network
	Layers []*Layer // topological order; Layers[0] is the input
	ByNode map[*dsl.Node]*Layer

	Params, MACs, Activations int64 // everything, auxiliary heads included
	Inference                 struct{ Params, MACs, Activations int64 }
}

// Output is the layer of the main output.
func (m *Model) Output() *Layer { return m.ByNode[m.Net.Output] }

// Compile checks net and computes every shape and count.
func Compile(net *dsl.Network) (*Model, dsl.ErrorList) {
	c := &checker{m: &Model{Net: net, ByNode: map[*dsl.Node]*Layer{}}, flat: map[*Layer]*Layer{}}
	for _, n := range net.Nodes {
		c.node(n)
	}
	c.finals()
	c.auxHeads()
	if len(c.errs) > 0 {
		c.errs.Sort()
		return c.m, c.errs
	}
	for _, l := range c.m.Layers {
		c.m.Params += l.Params
		c.m.MACs += l.MACs
		c.m.Activations += l.Activations
		if l.Node.Aux == nil {
			c.m.Inference.Params += l.Params
			c.m.Inference.MACs += l.MACs
			c.m.Inference.Activations += l.Activations
		}
	}
	return c.m, nil
}

type checker struct {
	m    *Model
	errs dsl.ErrorList
	// flat maps a layer whose output is a flat vector, (N, F), to the fc
	// that flattened it (Kind.Flat); feature maps are not in it.
	flat map[*Layer]*Layer
}

func (c *checker) errorf(n *dsl.Node, hint, format string, args ...any) {
	e := &dsl.Error{Pos: n.Pos, End: n.End, Msg: fmt.Sprintf(format, args...), Hint: hint}
	for i := len(n.Calls) - 1; i >= 0; i-- {
		cs := n.Calls[i]
		e.Notes = append(e.Notes, dsl.Note{Pos: cs.Pos, End: cs.End, Msg: fmt.Sprintf("in block %s, called here", cs.Block)})
	}
	c.errs = append(c.errs, e)
}

// nodeChecker is op.Checker for one node: its errors point at the node.
type nodeChecker struct {
	c *checker
	n *dsl.Node
}

func (k nodeChecker) Text() string { return k.n.Text }
func (k nodeChecker) Errorf(hint, format string, args ...any) {
	k.c.errorf(k.n, hint, format, args...)
}

// ShapeString prints a shape as the lecture does: HxWxC.
func ShapeString(s op.Shape) string { return s.String() }

func (c *checker) node(n *dsl.Node) {
	l := &Layer{Node: n}
	for _, in := range n.Inputs {
		il := c.m.ByNode[in]
		if il == nil {
			return // an input failed its check; the error is reported
		}
		l.Inputs = append(l.Inputs, il)
		l.In = append(l.In, il.Out)
	}
	var fc *Layer // the fc of the first flat input
	for i := len(l.Inputs) - 1; i >= 0; i-- {
		if f := c.flat[l.Inputs[i]]; f != nil {
			fc = f
		}
	}
	if n.Op.Kind().FirstMap {
		// The first input gives the output's form; the others (scale's
		// factors) may be vectors.
		if fc = c.flat[l.Inputs[0]]; fc != nil {
			c.errorf(n, flatHint, "%s: needs a feature map, but its input is the flat output of %s", n.Text, fc.Node.Text)
			c.noteFC(fc)
			return
		}
	}
	if s, ok := n.Op.(*op.Slice); ok && s.Part > 0 && fc != nil {
		return // the first part of the split reports it
	}
	if fc != nil && n.Op.Kind().NeedsMap {
		c.errorf(n, flatHint, "%s: needs a feature map, but its input is the flat output of %s", n.Text, fc.Node.Text)
		c.noteFC(fc)
		return
	}
	if add, ok := n.Op.(*op.Add); ok && add.Implied && l.In[0] != l.In[1] {
		if sfc := c.flat[l.Inputs[1]]; sfc != nil {
			c.errorf(n, fmt.Sprintf("write the shortcut: residual { ... } shortcut { fc %d }", l.In[0].Size()),
				"residual: the body changes the shape of the flat output of %s, and the implied 1x1 projection is a conv, which needs a feature map", sfc.Node.Text)
			c.noteFC(sfc)
			return
		}
		if !c.project(n, add, l) {
			return
		}
	}
	out, ok := n.Op.Shape(nodeChecker{c, n}, l.In)
	if !ok {
		return
	}
	if c.add(l, out) {
		if n.Op.Kind().Flat {
			c.flat[l] = l
		} else if fc != nil {
			c.flat[l] = fc
		}
	}
}

const flatHint = "an fc's output is a vector, not a map (PyTorch's nn.Linear gives (N, F), which Conv2d, the pools and " +
	"LocalResponseNorm refuse): put conv, pooling, gap and lrn before the first fc"

// noteFC points the last error at the fc whose flat output it is about.
func (c *checker) noteFC(fc *Layer) {
	n := fc.Node
	e := c.errs[len(c.errs)-1]
	e.Notes = append(e.Notes, dsl.Note{Pos: n.Pos, End: n.End, Msg: fmt.Sprintf("%s flattens the map to a vector here", n.Text)})
}

// finals checks that every op that only ends a chain (Kind.Final: softmax)
// is the last layer of the network or of an aux head: training skips it and
// computes it with the loss, from the logits before it, so anywhere else it
// would run at inference only and the network trained would not be the
// network served.
func (c *checker) finals() {
	net := c.m.Net
	last := map[*dsl.Node]bool{net.Output: true}
	for _, a := range net.Aux {
		last[a.Output] = true
	}
	twice := map[*dsl.Node]bool{} // a Final op followed by another of its kind
	for _, u := range net.Nodes {
		if len(u.Inputs) == 1 && u.Op.Kind().Final && u.Inputs[0].Op.Kind() == u.Op.Kind() {
			twice[u.Inputs[0]] = true
		}
	}
	for _, n := range net.Nodes {
		if !n.Op.Kind().Final || last[n] || c.m.ByNode[n] == nil {
			continue
		}
		w := n.Word()
		hint := fmt.Sprintf("training computes the final %s with the loss and skips any other, which would then run at inference only: remove it", w)
		if twice[n] {
			hint = fmt.Sprintf("two %s in a row: remove this one (training computes the last with the loss and would skip this one)", w)
		}
		c.errorf(n, hint, "%s must be the last layer of the network or of an aux head", w)
	}
}

// logitsOf is the node the loss reads for the output out: the input of a
// final softmax, or out itself.
func logitsOf(out *dsl.Node) *dsl.Node {
	if out.Op.Kind().Final && len(out.Inputs) == 1 {
		return out.Inputs[0]
	}
	return out
}

// auxHeads checks what training assumes of an auxiliary classifier: it
// branches from inside the network (not from the main output or its logits:
// a classifier of the classifier's scores, reading a buffer the loss may
// overwrite with its probabilities) and gives class scores of the main
// output's shape (the loss reads both with the same labels).
func (c *checker) auxHeads() {
	net := c.m.Net
	if net.Output == nil {
		return // the main chain did not resolve; its errors are reported
	}
	main := c.m.ByNode[net.Output]
	// The aux keywords' block calls: the fewest of each head's nodes.
	calls := map[*dsl.AuxHead][]dsl.CallSite{}
	for _, n := range net.Nodes {
		if cs, ok := calls[n.Aux]; n.Aux != nil && (!ok || len(n.Calls) < len(cs)) {
			calls[n.Aux] = n.Calls
		}
	}
	for _, a := range net.Aux {
		end := a.Pos
		end.Column += len("aux")
		at := &dsl.Node{Pos: a.Pos, End: end, Calls: calls[a]}
		errorf := func(hint, format string, args ...any) { c.errorf(at, hint, format, args...) }
		if a.From == net.Output || a.From == logitsOf(net.Output) {
			what := "the network's output"
			if a.From != net.Output {
				what = "the logits of the network's output"
			}
			errorf("an auxiliary classifier branches from inside the network, before the main classifier: move it earlier",
				"aux head after the network's output: it branches from %s, %s", a.From.Text, what)
			continue
		}
		head := c.m.ByNode[a.Output]
		if main == nil || head == nil {
			continue
		}
		switch {
		case main.Out.H != 1 || main.Out.W != 1:
			errorf("training adds the aux head's loss to the main output's, a softmax cross-entropy of class scores (1x1xN)",
				"aux head in a network that is not a classifier: its output is %s", main.Out)
		case head.Out != main.Out:
			errorf(fmt.Sprintf("end the head with fc %d, as the main output has %d classes", main.Out.C, main.Out.C),
				"aux head gives %s but the network's output is %s: the loss reads both with the same labels", head.Out, main.Out)
		}
	}
}

// add counts a layer whose output shape is known and adds it to the model.
func (c *checker) add(l *Layer, out op.Shape) bool {
	n := l.Node
	var k op.Count
	l.Out = out
	for _, t := range n.Op.Tensors(l.In, out) {
		size := int64(1)
		for _, d := range t.Shape {
			size = k.Mul(size, int64(d))
		}
		if !t.Buffer {
			l.Params += size
		}
	}
	l.MACs = n.Op.MACs(&k, l.In, out)
	if !n.Op.Kind().InPlace {
		l.Activations = k.Mul(int64(out.H), int64(out.W), int64(out.C))
	}
	if k.Overflow || l.Params < 0 {
		c.errorf(n, "", "%s: the layer is too large: its counts overflow 64-bit integers", n.Text)
		return false
	}
	c.m.Layers = append(c.m.Layers, l)
	c.m.ByNode[n] = l
	return true
}

// project resolves h(x) = f(x) + x when the shapes differ and the shortcut
// is implied: it inserts the projection conv (and bn) before the add, named
// after the shortcut's scope.
func (c *checker) project(n *dsl.Node, add *op.Add, l *Layer) bool {
	body, short := l.In[0], l.In[1]
	sh, sw := stride(short.H, body.H), stride(short.W, body.W)
	if sh == 0 || sw == 0 {
		c.errorf(n, fmt.Sprintf("write the shortcut: residual { ... } shortcut { conv %d 1x1 ... }", body.C),
			"residual: the body gives %s from %s, and no 1x1 projection with a stride maps one onto the other", body, short)
		return false
	}
	conv := &dsl.Node{
		Name: add.Shortcut + ".conv1", Pos: n.Pos, End: n.End, Calls: n.Calls, Aux: n.Aux,
		Text:   fmt.Sprintf("conv %d 1x1 s%s (implied projection)", body.C, strideText(sh, sw)),
		Inputs: []*dsl.Node{n.Inputs[1]},
		Op:     &op.Conv{Filters: body.C, KH: 1, KW: 1, SH: sh, SW: sw, Groups: 1, DH: 1, DW: 1, Bias: !add.ProjectBN},
	}
	pl := &Layer{Node: conv, Inputs: []*Layer{l.Inputs[1]}, In: []op.Shape{short}, Implied: true}
	if !c.add(pl, body) {
		return false
	}
	last := pl
	if add.ProjectBN {
		bn := &dsl.Node{Op: op.NewBN(), Name: add.Shortcut + ".bn1", Text: "bn (implied projection)", Pos: n.Pos, End: n.End,
			Calls: n.Calls, Aux: n.Aux, Inputs: []*dsl.Node{conv}}
		bl := &Layer{Node: bn, Inputs: []*Layer{pl}, In: []op.Shape{body}, Implied: true}
		if !c.add(bl, body) {
			return false
		}
		last = bl
	}
	l.Inputs[1] = last
	l.In[1] = body
	return true
}

// stride returns the smallest stride s with which a 1x1 conv maps in onto
// out ((in-1)/s + 1 == out), or 0 when there is none.
func stride(in, out int) int {
	if out < 1 || out > in {
		return 0
	}
	s := (in-1)/out + 1
	if (in-1)/s+1 != out {
		return 0
	}
	return s
}

func strideText(h, w int) string {
	if h == w {
		return fmt.Sprint(h)
	}
	return fmt.Sprintf("%dx%d", h, w)
}

// CompileSource parses, resolves and checks a .cnn file and returns every
// error found by any stage, sorted by position.
func CompileSource(filename string, src []byte) (*Model, dsl.ErrorList) {
	net, errs := dsl.Load(filename, src)
	if net == nil || net.Input == (op.Shape{}) {
		return nil, errs
	}
	m, cerrs := Compile(net)
	errs = append(errs, cerrs...)
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return m, nil
}

// Notes are what `cnnc check -v` prints for a file that compiles: a
// positioned note for every 1x1 projection shortcut the compiler implied
// (a residual whose body changes the shape and whose shortcut is not
// written). Plain check says nothing of them: torchvision's ResNets rely
// on them, and the summary lists them.
func (m *Model) Notes() dsl.ErrorList {
	var notes dsl.ErrorList
	for _, l := range m.Layers {
		conv, ok := l.Node.Op.(*op.Conv)
		if !l.Implied || !ok {
			continue
		}
		n := l.Node
		what := fmt.Sprintf("conv %d 1x1 s%s", conv.Filters, strideText(conv.SH, conv.SW))
		if !conv.Bias {
			what += " nobias -> bn"
		}
		e := &dsl.Error{Pos: n.Pos, End: n.End,
			Msg: fmt.Sprintf("note: residual implies a projection shortcut, %s: %s, %s -> %s", strings.TrimSuffix(n.Name, ".conv1"), what, l.In[0], l.Out)}
		for i := len(n.Calls) - 1; i >= 0; i-- {
			cs := n.Calls[i]
			e.Notes = append(e.Notes, dsl.Note{Pos: cs.Pos, End: cs.End, Msg: fmt.Sprintf("in block %s, called here", cs.Block)})
		}
		notes = append(notes, e)
	}
	return notes
}
