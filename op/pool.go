package op

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/onnx"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Pool is the window of a pooling layer: KHxKW, stride, padding, and
// PyTorch's ceil mode.
type Pool struct {
	KH, KW int
	SH, SW int
	PH, PW int
	Ceil   bool
}

// MaxPool is nn.MaxPool2d. Runtime: rt.MaxPool; its forward keeps the
// argmax of every output for the backward.
type MaxPool struct{ Pool }

// AvgPool is nn.AvgPool2d (padding counted in the average, as PyTorch's
// default). Runtime: rt.AvgPool.
type AvgPool struct{ Pool }

var maxpoolKind = Kind{
	Word:     "maxpool",
	Usage:    "maxpool K [sS] [pP] [ceil]",
	Parse:    func(a Args) Op { return &MaxPool{parsePool(a, "maxpool K [sS] [pP] [ceil]")} },
	NeedsMap: true,
}

var avgpoolKind = Kind{
	Word:     "avgpool",
	Usage:    "avgpool K [sS] [pP] [ceil]",
	Parse:    func(a Args) Op { return &AvgPool{parsePool(a, "avgpool K [sS] [pP] [ceil]")} },
	NeedsMap: true,
}

func (p *MaxPool) Kind() *Kind    { return &maxpoolKind }
func (p *AvgPool) Kind() *Kind    { return &avgpoolKind }
func (p *MaxPool) String() string { return "maxpool " + p.Pool.String() }
func (p *AvgPool) String() string { return "avgpool " + p.Pool.String() }

func (p Pool) String() string {
	return fmt.Sprintf("%dx%d %s %s %s", p.KH, p.KW, pair("s", p.SH, p.SW), pair("p", p.PH, p.PW), choose(p.Ceil, "ceil", "floor"))
}

func parsePool(a Args, usage string) Pool {
	word := a.Word()
	pl := Pool{}
	if x, ok := a.Size(); ok {
		if x.OK && len(x.Dims) == 2 {
			pl.KH, pl.KW = x.Dims[0], x.Dims[1]
		} else if x.OK {
			a.Errorf(x, "%s: window %s must be K or KxK", word, x.Text)
		}
	} else if x, ok := a.Positional(); ok {
		if v, ok := a.Integer(x, 1, "the window size"); ok {
			pl.KH, pl.KW = v, v
		}
	} else {
		a.Fail("the form is: "+usage, "%s needs a window size", word)
	}
	pl.SH, pl.SW = pl.KH, pl.KW
	if h, w, ok := a.Flag("s", 1); ok {
		pl.SH, pl.SW = h, w
	}
	if h, w, ok := a.Flag("p", 0); ok {
		pl.PH, pl.PW = h, w
		if 2*h > pl.KH || 2*w > pl.KW {
			a.Fail("PyTorch requires pad <= kernel/2", "%s: padding %dx%d is more than half the window %dx%d", word, h, w, pl.KH, pl.KW)
		}
	}
	pl.Ceil = a.Has("ceil")
	return pl
}

func (p *Pool) shape(c Checker, in []Shape) (Shape, bool) {
	out, ok := spatial(c, in[0], p.KH, p.KW, p.SH, p.SW, p.PH, p.PW, 1, 1, p.Ceil)
	out.C = in[0].C
	return out, ok
}

func (p *MaxPool) Shape(c Checker, in []Shape) (Shape, bool) { return p.shape(c, in) }
func (p *AvgPool) Shape(c Checker, in []Shape) (Shape, bool) { return p.shape(c, in) }

func (p *MaxPool) Tensors([]Shape, Shape) []rt.TensorSpec { return nil }
func (p *AvgPool) Tensors([]Shape, Shape) []rt.TensorSpec { return nil }
func (p *MaxPool) MACs(*Count, []Shape, Shape) int64      { return 0 }
func (p *AvgPool) MACs(*Count, []Shape, Shape) int64      { return 0 }
func (p *MaxPool) State(_ []Shape, out Shape) State       { return State{Argmax: out.Size()} }
func (p *AvgPool) State([]Shape, Shape) State             { return State{} }

func (p *Pool) geometry(e Emitter, typ string) *jen.Statement {
	in, out := e.InShape(0), e.OutShape()
	return jen.Id(e.Geometry(typ, Field{"C", in.C}, Field{"H", in.H}, Field{"W", in.W}, Field{"KH", p.KH}, Field{"KW", p.KW},
		Field{"SH", p.SH}, Field{"SW", p.SW}, Field{"PH", p.PH}, Field{"PW", p.PW}, Field{"Ceil", p.Ceil},
		Field{"OH", out.H}, Field{"OW", out.W}))
}

func (p *MaxPool) Forward(e Emitter) []Code {
	return []Code{p.geometry(e, "MaxPool").Dot("Forward").Call(e.N(), e.In(0), e.Out(), e.Argmax())}
}

// Infer takes the maxima without their positions.
func (p *MaxPool) Infer(e Emitter) []Code {
	return []Code{p.geometry(e, "MaxPool").Dot("Forward").Call(e.N(), e.In(0), e.Out(), jen.Nil())}
}

func (p *MaxPool) Backward(e Emitter) []Code {
	return []Code{p.geometry(e, "MaxPool").Dot("Backward").Call(e.N(), e.DOut(), e.Argmax(), e.DIn(0))}
}

func (p *AvgPool) Forward(e Emitter) []Code {
	return []Code{p.geometry(e, "AvgPool").Dot("Forward").Call(e.N(), e.In(0), e.Out())}
}

func (p *AvgPool) Infer(e Emitter) []Code { return p.Forward(e) }

func (p *AvgPool) Backward(e Emitter) []Code {
	return []Code{p.geometry(e, "AvgPool").Dot("Backward").Call(e.N(), e.DOut(), e.DIn(0))}
}

// onnxAttrs: the window, and ceil_mode where it is set.
func (p *Pool) onnxAttrs() []*onnx.Attr {
	attrs := windowAttrs(p.KH, p.KW, p.SH, p.SW, p.PH, p.PW)
	if p.Ceil {
		attrs = append(attrs, onnx.IntAttr("ceil_mode", 1))
	}
	return attrs
}

// ONNX: MaxPool.
func (p *MaxPool) ONNX(x Exporter) { x.Node("MaxPool", []string{x.In(0)}, p.onnxAttrs()...) }

// ONNX: AveragePool, counting the padding in the divisor as PyTorch's
// default (count_include_pad) does.
func (p *AvgPool) ONNX(x Exporter) {
	x.Node("AveragePool", []string{x.In(0)}, append(p.onnxAttrs(), onnx.IntAttr("count_include_pad", 1))...)
}
