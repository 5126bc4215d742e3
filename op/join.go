package op

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/onnx"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Input is the network's input, (N, C, H, W) float32.
type Input struct{ Dims Shape }

var inputKind = Kind{Word: "input"}

func (i *Input) Kind() *Kind                            { return &inputKind }
func (i *Input) String() string                         { return "input" }
func (i *Input) Shape(Checker, []Shape) (Shape, bool)   { return i.Dims, true }
func (i *Input) Tensors([]Shape, Shape) []rt.TensorSpec { return nil }
func (i *Input) MACs(*Count, []Shape, Shape) int64      { return 0 }
func (i *Input) State([]Shape, Shape) State             { return State{} }
func (i *Input) Forward(Emitter) []Code                 { return nil }
func (i *Input) Infer(Emitter) []Code                   { return nil }
func (i *Input) Backward(Emitter) []Code                { return nil }

// GAP is average pooling to an OHxOW map: `gap` is global (1x1, each
// channel's mean), `gap HxW` or `gap N` (NxN) PyTorch's AdaptiveAvgPool2d
// to that size, whose bin i along an axis of in values spans
// [floor(i*in/out), ceil((i+1)*in/out)). Runtime: rt.GAP.
type GAP struct{ OH, OW int }

const gapUsage = "gap [HxW | N]"

var gapKind = Kind{Word: "gap", Usage: gapUsage, Parse: parseGAP, NeedsMap: true}

func parseGAP(a Args) Op {
	g := &GAP{OH: 1, OW: 1}
	if x, ok := a.Size(); ok {
		switch {
		case !x.OK:
		case len(x.Dims) != 2:
			a.Errorf(x, "gap: output size %s must be HxW or N", x.Text)
		case x.Dims[0] < 1 || x.Dims[1] < 1:
			a.Errorf(x, "gap: output size %s must be at least 1x1", x.Text)
		default:
			g.OH, g.OW = x.Dims[0], x.Dims[1]
		}
	} else if x, ok := a.Positional(); ok {
		if v, ok := a.Integer(x, 1, "the output size"); ok {
			g.OH, g.OW = v, v
		}
	}
	return g
}

// global reports a 1x1 output: each channel's mean.
func (g *GAP) global() bool { return g.OH == 1 && g.OW == 1 }

func (g *GAP) Kind() *Kind { return &gapKind }
func (g *GAP) String() string {
	if g.global() {
		return "gap"
	}
	return fmt.Sprintf("gap %dx%d", g.OH, g.OW)
}
func (g *GAP) Shape(_ Checker, in []Shape) (Shape, bool) {
	return Shape{H: g.OH, W: g.OW, C: in[0].C}, true
}
func (g *GAP) Tensors([]Shape, Shape) []rt.TensorSpec { return nil }
func (g *GAP) MACs(*Count, []Shape, Shape) int64      { return 0 }
func (g *GAP) State([]Shape, Shape) State             { return State{} }

func (g *GAP) geometry(e Emitter) *jen.Statement {
	in := e.InShape(0)
	fields := []Field{{"C", in.C}, {"H", in.H}, {"W", in.W}}
	if !g.global() {
		fields = append(fields, Field{"OH", g.OH}, Field{"OW", g.OW})
	}
	return jen.Id(e.Geometry("GAP", fields...))
}

func (g *GAP) Forward(e Emitter) []Code {
	return []Code{g.geometry(e).Dot("Forward").Call(e.N(), e.In(0), e.Out())}
}
func (g *GAP) Infer(e Emitter) []Code { return g.Forward(e) }
func (g *GAP) Backward(e Emitter) []Code {
	return []Code{g.geometry(e).Dot("Backward").Call(e.N(), e.DOut(), e.DIn(0))}
}

// Concat joins its inputs along the channels (`concat { a | b | ... }`;
// Split: the join of a `split { a | b | ... }`). Runtime: one rt.Concat
// per input.
type Concat struct{ Split bool }

var concatKind = Kind{Word: "concat"}

func (c *Concat) Kind() *Kind { return &concatKind }
func (c *Concat) String() string {
	if c.Split {
		return "concat split"
	}
	return "concat"
}

func (c *Concat) Shape(ck Checker, in []Shape) (Shape, bool) {
	out := Shape{H: in[0].H, W: in[0].W}
	ok := true
	for i, s := range in {
		if s.H != out.H || s.W != out.W {
			word := "concat"
			if c.Split {
				word = "split"
			}
			ck.Errorf("branches must agree in height and width: check their strides and padding (3x3 needs p1 and 5x5 needs p2 to keep the size)",
				"%s: branch %d gives %s but branch 1 gives %s", word, i+1, s, in[0])
			ok = false
		}
		out.C += s.C
	}
	return out, ok
}

func (c *Concat) Tensors([]Shape, Shape) []rt.TensorSpec { return nil }
func (c *Concat) MACs(*Count, []Shape, Shape) int64      { return 0 }
func (c *Concat) State([]Shape, Shape) State             { return State{} }

// parts declares the rt.Concat of every input.
func (c *Concat) parts(e Emitter, n int) []string {
	out := e.OutShape()
	var gs []string
	off := 0
	for i := range n {
		in := e.InShape(i)
		gs = append(gs, e.Geometry("Concat", Field{"C", in.C}, Field{"Total", out.C}, Field{"Off", off}, Field{"HW", out.H * out.W}))
		off += in.C
	}
	return gs
}

func (c *Concat) Forward(e Emitter) []Code {
	var code []Code
	for i, g := range c.parts(e, e.NumIn()) {
		code = append(code, jen.Id(g).Dot("Forward").Call(e.N(), e.In(i), e.Out()))
	}
	return code
}

func (c *Concat) Infer(e Emitter) []Code { return c.Forward(e) }

func (c *Concat) Backward(e Emitter) []Code {
	var code []Code
	for i, g := range c.parts(e, e.NumIn()) {
		if e.NeedDIn(i) {
			code = append(code, jen.Id(g).Dot("Backward").Call(e.N(), e.DOut(), e.DIn(i)))
		}
	}
	return code
}

// Add is the sum of a residual: h(x) = f(x) + x, the body's output first,
// then the shortcut's. Implied says the shortcut was left implicit (the
// identity as written): the compiler then inserts a 1x1 projection when the
// shapes differ, conv + bn when ProjectBN (the body uses bn), named after
// Shortcut. Runtime: rt.AddForward, rt.AddBackward.
type Add struct {
	Implied   bool
	ProjectBN bool
	Shortcut  string // the shortcut's scope: its written chain, or the projection implied
}

var addKind = Kind{Word: "add"}

func (a *Add) Kind() *Kind { return &addKind }
func (a *Add) String() string {
	return fmt.Sprintf("add shortcut=%s implied=%t projectbn=%t", a.Shortcut, a.Implied, a.ProjectBN)
}

// Shape: the body's shape; a written shortcut must give the same (an
// implied one is resolved by the compiler before).
func (a *Add) Shape(c Checker, in []Shape) (Shape, bool) {
	if in[0] != in[1] {
		c.Errorf(fmt.Sprintf("the shortcut must give %s as the body does", in[0]),
			"residual: the body gives %s but the shortcut gives %s", in[0], in[1])
		return in[0], false
	}
	return in[0], true
}

func (a *Add) Tensors([]Shape, Shape) []rt.TensorSpec { return nil }
func (a *Add) MACs(*Count, []Shape, Shape) int64      { return 0 }
func (a *Add) State([]Shape, Shape) State             { return State{} }

func (a *Add) Forward(e Emitter) []Code {
	return []Code{RT("AddForward").Call(e.In(0), e.In(1), e.Out())}
}
func (a *Add) Infer(e Emitter) []Code { return a.Forward(e) }
func (a *Add) Backward(e Emitter) []Code {
	return []Code{RT("AddBackward").Call(e.DOut(), e.DIn(0), e.DIn(1))}
}

// ONNX: none; the exporter makes the input the graph's.
func (i *Input) ONNX(Exporter) {}

// ONNX: GlobalAveragePool for gap; for gap HxW over an input that each
// output size divides, AveragePool with kernel = stride = in/out (the
// same bins). Opset 17 has no adaptive pooling, so other sizes are
// refused, as PyTorch's exporter refuses them.
func (g *GAP) ONNX(x Exporter) {
	in := x.InShape(0)
	switch {
	case g.global():
		x.Node("GlobalAveragePool", []string{x.In(0)})
	case in.H%g.OH == 0 && in.W%g.OW == 0:
		kh, kw := in.H/g.OH, in.W/g.OW
		x.Node("AveragePool", []string{x.In(0)}, windowAttrs(kh, kw, kh, kw, 0, 0)...)
	default:
		x.Errorf("gap %dx%d over a %dx%d map has bins of unequal sizes, which ONNX (opset %d) has no operator for: use an output size that divides the input's (or pool to it first)",
			g.OH, g.OW, in.H, in.W, Opset)
	}
}

// ONNX: Concat along the channels.
func (c *Concat) ONNX(x Exporter) {
	var in []string
	for i := range x.NumIn() {
		in = append(in, x.In(i))
	}
	x.Node("Concat", in, onnx.IntAttr("axis", 1))
}

// ONNX: Add.
func (a *Add) ONNX(x Exporter) { x.Node("Add", []string{x.In(0), x.In(1)}) }
