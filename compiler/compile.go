// Package compiler infers and checks every shape of a dsl.Network with
// PyTorch's rules, counts parameters, multiply-accumulates and activation
// memory, and prints summaries. It is the only stage that knows shapes: it
// also materialises the 1x1 projection a residual implies when its shapes
// differ.
package compiler

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/cnnc-dev/cnnc/dsl"
)

// Layer is one node of the checked model.
type Layer struct {
	Node        *dsl.Node
	Inputs      []*Layer    // the layers it reads; an implied projection replaces the identity
	In          []dsl.Shape // shapes of the inputs
	Out         dsl.Shape
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
	c := &checker{m: &Model{Net: net, ByNode: map[*dsl.Node]*Layer{}}}
	for _, n := range net.Nodes {
		c.node(n)
	}
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
}

func (c *checker) errorf(n *dsl.Node, hint, format string, args ...any) {
	e := &dsl.Error{Pos: n.Pos, End: n.End, Msg: fmt.Sprintf(format, args...), Hint: hint}
	for i := len(n.Calls) - 1; i >= 0; i-- {
		cs := n.Calls[i]
		e.Notes = append(e.Notes, dsl.Note{Pos: cs.Pos, End: cs.End, Msg: fmt.Sprintf("in block %s, called here", cs.Block)})
	}
	c.errs = append(c.errs, e)
}

// ShapeString prints a shape as the lecture does: HxWxC.
func ShapeString(s dsl.Shape) string { return fmt.Sprintf("%dx%dx%d", s.H, s.W, s.C) }

// counts multiplies with overflow detection.
type counts struct{ overflow bool }

func (k *counts) mul(xs ...int64) int64 {
	r := int64(1)
	for _, x := range xs {
		hi, lo := bits.Mul64(uint64(r), uint64(x))
		if hi != 0 || lo > math.MaxInt64 {
			k.overflow = true
			return 0
		}
		r = int64(lo)
	}
	return r
}

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
	var k counts
	ok := true
	switch n.Op {
	case dsl.OpInput:
		l.Out = c.m.Net.Input
	case dsl.OpConv:
		l.Out, ok = c.conv(n, n.Conv, l.In[0])
		if ok {
			cv := n.Conv
			w := k.mul(int64(cv.Filters), int64(l.In[0].C/cv.Groups), int64(cv.KH), int64(cv.KW))
			l.Params = w
			if cv.Bias {
				l.Params += int64(cv.Filters)
			}
			l.MACs = k.mul(w, int64(l.Out.H), int64(l.Out.W))
		}
	case dsl.OpMaxPool, dsl.OpAvgPool:
		l.Out, ok = c.pool(n, l.In[0])
	case dsl.OpGAP:
		l.Out = dsl.Shape{H: 1, W: 1, C: l.In[0].C}
	case dsl.OpLRN, dsl.OpReLU, dsl.OpDropout, dsl.OpSoftmax:
		l.Out = l.In[0]
	case dsl.OpBN:
		l.Out = l.In[0]
		l.Params = 2 * int64(l.Out.C)
	case dsl.OpFC:
		in := k.mul(int64(l.In[0].H), int64(l.In[0].W), int64(l.In[0].C))
		l.Out = dsl.Shape{H: 1, W: 1, C: n.Units}
		l.MACs = k.mul(in, int64(n.Units))
		l.Params = l.MACs + int64(n.Units)
	case dsl.OpConcat:
		l.Out, ok = c.concat(n, l.In)
	case dsl.OpAdd:
		l.Out, ok = c.residual(n, l)
	default:
		c.errorf(n, "", "internal: unknown op %q", n.Op)
		return
	}
	if !ok {
		return
	}
	if !n.Op.InPlace() {
		l.Activations = k.mul(int64(l.Out.H), int64(l.Out.W), int64(l.Out.C))
	}
	if k.overflow || l.Params < 0 {
		c.errorf(n, "", "%s: the layer is too large: its counts overflow 64-bit integers", n.Text)
		return
	}
	c.m.Layers = append(c.m.Layers, l)
	c.m.ByNode[n] = l
}

// window computes a conv or pool output size along one axis with PyTorch's
// rule: floor or ceil of (in + 2p - d(k-1) - 1)/s, plus one; in ceil mode
// the last window must start inside the input or the left padding.
func window(in, k, s, p, d int, ceil bool) int {
	span := in + 2*p - d*(k-1) - 1
	if span < 0 {
		return 0
	}
	o := span/s + 1
	if ceil {
		o = (span+s-1)/s + 1
		if (o-1)*s >= in+p {
			o--
		}
	}
	return o
}

func (c *checker) conv(n *dsl.Node, cv *dsl.Conv, in dsl.Shape) (dsl.Shape, bool) {
	ok := true
	if in.C%cv.Groups != 0 || cv.Filters%cv.Groups != 0 {
		c.errorf(n, groupHint(in.C, cv.Filters, cv.Groups),
			"%s: %d input channels and %d filters do not divide into %d groups", n.Text, in.C, cv.Filters, cv.Groups)
		ok = false
	}
	out, fits := c.spatial(n, in, cv.KH, cv.KW, cv.SH, cv.SW, cv.PH, cv.PW, cv.DH, cv.DW, false)
	out.C = cv.Filters
	return out, ok && fits
}

func (c *checker) pool(n *dsl.Node, in dsl.Shape) (dsl.Shape, bool) {
	p := n.Pool
	out, ok := c.spatial(n, in, p.KH, p.KW, p.SH, p.SW, p.PH, p.PW, 1, 1, p.Ceil)
	out.C = in.C
	return out, ok
}

// spatial computes the output height and width of a sliding window and
// reports a kernel that does not fit or an output that vanishes.
func (c *checker) spatial(n *dsl.Node, in dsl.Shape, kh, kw, sh, sw, ph, pw, dh, dw int, ceil bool) (dsl.Shape, bool) {
	eh, ew := dh*(kh-1)+1, dw*(kw-1)+1
	if eh > in.H+2*ph || ew > in.W+2*pw {
		need := max((eh-in.H+1)/2, (ew-in.W+1)/2)
		hint := fmt.Sprintf("use a smaller kernel, or pad by at least %d (p%d)", need, need)
		msg := fmt.Sprintf("%s: the %dx%d window does not fit the %dx%d input (padded to %dx%d)",
			n.Text, eh, ew, in.H, in.W, in.H+2*ph, in.W+2*pw)
		if in.H <= 2 || in.W <= 2 {
			msg = fmt.Sprintf("%s: the maps have shrunk to %dx%d, too small for its %dx%d window", n.Text, in.H, in.W, eh, ew)
			hint = "remove a pooling or striding layer before it, or use a larger input"
		}
		c.errorf(n, hint, "%s", msg)
		return dsl.Shape{}, false
	}
	out := dsl.Shape{H: window(in.H, kh, sh, ph, dh, ceil), W: window(in.W, kw, sw, pw, dw, ceil)}
	if out.H < 1 || out.W < 1 {
		c.errorf(n, "the network shrinks to nothing here: remove a pooling or striding layer, or use a larger input",
			"%s: the output of %s input would be %dx%d", n.Text, ShapeString(in), out.H, out.W)
		return out, false
	}
	return out, true
}

// groupHint suggests group counts that divide both channel counts: the
// smallest divisors of their greatest common divisor.
func groupHint(in, filters, g int) string {
	a, b := in, filters
	for b != 0 {
		a, b = b, a%b
	}
	var divs []int
	for d := 2; d*d <= a; d++ {
		if a%d == 0 {
			divs = append(divs, d, a/d)
		}
	}
	if a > 1 {
		divs = append(divs, a)
	}
	slices.Sort(divs)
	divs = slices.Compact(divs)
	var good []string
	for _, d := range divs[:min(4, len(divs))] {
		good = append(good, fmt.Sprintf("g%d", d))
	}
	h := fmt.Sprintf("groups must divide both %d (input) and %d (filters)", in, filters)
	if len(good) > 0 {
		h += "; try " + strings.Join(good, " or ")
	} else {
		h += "; only g1 does"
	}
	return h
}

func (c *checker) concat(n *dsl.Node, in []dsl.Shape) (dsl.Shape, bool) {
	out := dsl.Shape{H: in[0].H, W: in[0].W}
	ok := true
	for i, s := range in {
		if s.H != out.H || s.W != out.W {
			c.errorf(n, "branches must agree in height and width: check their strides and padding (3x3 needs p1 and 5x5 needs p2 to keep the size)",
				"concat: branch %d gives %s but branch 1 gives %s", i+1, ShapeString(s), ShapeString(in[0]))
			ok = false
		}
		out.C += s.C
	}
	return out, ok
}

// residual checks h(x) = f(x) + x and, when the shapes differ and the
// shortcut is implied, inserts the projection conv (and bn) before the add.
func (c *checker) residual(n *dsl.Node, l *Layer) (dsl.Shape, bool) {
	body, short := l.In[0], l.In[1]
	if body == short {
		return body, true
	}
	if !n.Implied {
		c.errorf(n, fmt.Sprintf("the shortcut must give %s as the body does", ShapeString(body)),
			"residual: the body gives %s but the shortcut gives %s", ShapeString(body), ShapeString(short))
		return body, false
	}
	sh, sw := stride(short.H, body.H), stride(short.W, body.W)
	if sh == 0 || sw == 0 {
		c.errorf(n, fmt.Sprintf("write the shortcut: residual { ... } shortcut { conv %d 1x1 ... }", body.C),
			"residual: the body gives %s from %s, and no 1x1 projection with a stride maps one onto the other", ShapeString(body), ShapeString(short))
		return body, false
	}
	conv := &dsl.Node{
		Op: dsl.OpConv, Name: n.Shortcut + ".conv1", Pos: n.Pos, End: n.End, Calls: n.Calls, Aux: n.Aux,
		Text:   fmt.Sprintf("conv %d 1x1 s%s (implied projection)", body.C, strideText(sh, sw)),
		Inputs: []*dsl.Node{n.Inputs[1]},
		Conv:   &dsl.Conv{Filters: body.C, KH: 1, KW: 1, SH: sh, SW: sw, Groups: 1, DH: 1, DW: 1, Bias: !n.ProjectBN},
	}
	var k counts
	w := k.mul(int64(body.C), int64(short.C))
	pl := &Layer{Node: conv, Inputs: []*Layer{l.Inputs[1]}, In: []dsl.Shape{short}, Out: body, Params: w, MACs: k.mul(w, int64(body.H), int64(body.W)),
		Activations: k.mul(int64(body.H), int64(body.W), int64(body.C)), Implied: true}
	if conv.Conv.Bias {
		pl.Params += int64(body.C)
	}
	c.m.Layers = append(c.m.Layers, pl)
	c.m.ByNode[conv] = pl
	last := pl
	if n.ProjectBN {
		bn := &dsl.Node{Op: dsl.OpBN, Name: n.Shortcut + ".bn1", Text: "bn (implied projection)", Pos: n.Pos, End: n.End,
			Calls: n.Calls, Aux: n.Aux, Inputs: []*dsl.Node{conv}}
		bl := &Layer{Node: bn, Inputs: []*Layer{pl}, In: []dsl.Shape{body}, Out: body, Params: 2 * int64(body.C), Activations: pl.Activations, Implied: true}
		c.m.Layers = append(c.m.Layers, bl)
		c.m.ByNode[bn] = bl
		last = bl
	}
	l.Inputs[1] = last
	l.In[1] = body
	return body, !k.overflow
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
	if net == nil || net.Input == (dsl.Shape{}) {
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
