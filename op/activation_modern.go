package op

import (
	"math"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/onnx"
)

// The activations of the networks after 2015 (MobileNet, EfficientNet,
// ConvNeXt): relu6, sigmoid, tanh, silu, gelu, hardswish, hardsigmoid,
// each PyTorch's module of the same name. Runtime: runtime/activation.go.
//
// What runs in place follows from what each backward reads:
//   - relu6 and tanh run in place and their backward reads their output
//     (0 < y < 6; 1 - y^2): KeepsOutput, so an in-place op after them (a
//     dropout's scaling) works on a copy. They keep signs (y > 0 exactly
//     when x > 0), which a relu or leakyrelu before them reads.
//   - sigmoid's backward reads its output (y(1-y)), but it does not run in
//     place: its output is positive, and over a relu's or leakyrelu's output
//     it would hide the signs their backward reads.
//   - silu, gelu, hardswish and hardsigmoid have their own output buffer,
//     and their backward reads their input, which nothing overwrites (an
//     in-place op runs over a buffer only when it is the buffer's only
//     reader). hardsigmoid's output would tell -3 < x < 3 but for rounding
//     next to 3, where PyTorch's gradient is still 1/6.

// inPlaceForward and inPlaceBackward are the calls of an in-place
// activation whose backward reads its output: rt.<fn>Forward(y) and
// rt.<fn>Backward(y, dy) (and the copy when it does not own its input).
func inPlaceForward(e Emitter, fn string) []Code {
	return append(copyIn(e), RT(fn+"Forward").Call(e.Out()))
}

func inPlaceBackward(e Emitter, fn string) []Code {
	return append([]Code{RT(fn+"Backward").Call(e.Out(), e.DOut())}, accumulateOut(e)...)
}

// ReLU6 is min(max(x, 0), 6) (nn.ReLU6), in place. Runtime:
// rt.ReLU6Forward, rt.ReLU6Backward.
type ReLU6 struct{ elementwise }

var relu6Kind = Kind{Word: "relu6", Usage: "relu6", Parse: func(Args) Op { return &ReLU6{} }, InPlace: true, KeepsOutput: true}

func (r *ReLU6) Kind() *Kind               { return &relu6Kind }
func (r *ReLU6) String() string            { return "relu6" }
func (r *ReLU6) Forward(e Emitter) []Code  { return inPlaceForward(e, "ReLU6") }
func (r *ReLU6) Infer(e Emitter) []Code    { return r.Forward(e) }
func (r *ReLU6) Backward(e Emitter) []Code { return inPlaceBackward(e, "ReLU6") }

// Tanh is tanh(x) (nn.Tanh), in place. Runtime: rt.TanhForward,
// rt.TanhBackward.
type Tanh struct{ elementwise }

var tanhKind = Kind{Word: "tanh", Usage: "tanh", Parse: func(Args) Op { return &Tanh{} }, InPlace: true, KeepsOutput: true}

func (t *Tanh) Kind() *Kind               { return &tanhKind }
func (t *Tanh) String() string            { return "tanh" }
func (t *Tanh) Forward(e Emitter) []Code  { return inPlaceForward(e, "Tanh") }
func (t *Tanh) Infer(e Emitter) []Code    { return t.Forward(e) }
func (t *Tanh) Backward(e Emitter) []Code { return inPlaceBackward(e, "Tanh") }

// Sigmoid is 1/(1+e^-x) (nn.Sigmoid), into its own buffer. Runtime:
// rt.SigmoidForward, rt.SigmoidBackward (from the output).
type Sigmoid struct{ elementwise }

var sigmoidKind = Kind{Word: "sigmoid", Usage: "sigmoid", Parse: func(Args) Op { return &Sigmoid{} }, KeepsOutput: true}

func (s *Sigmoid) Kind() *Kind    { return &sigmoidKind }
func (s *Sigmoid) String() string { return "sigmoid" }
func (s *Sigmoid) Forward(e Emitter) []Code {
	return []Code{RT("SigmoidForward").Call(e.In(0), e.Out())}
}
func (s *Sigmoid) Infer(e Emitter) []Code { return s.Forward(e) }
func (s *Sigmoid) Backward(e Emitter) []Code {
	if !e.NeedDIn(0) {
		return Comment(e.Name() + ": its input is the network's, no gradient")
	}
	return []Code{RT("SigmoidBackward").Call(e.Out(), e.DOut(), e.DIn(0))}
}

// SiLU is x*sigmoid(x) (nn.SiLU; swish), into its own buffer. Runtime:
// rt.SiLUForward, rt.SiLUBackward (from the input).
type SiLU struct{ elementwise }

var siluKind = Kind{Word: "silu", Usage: "silu", Parse: func(Args) Op { return &SiLU{} }}

func (s *SiLU) Kind() *Kind               { return &siluKind }
func (s *SiLU) String() string            { return "silu" }
func (s *SiLU) Forward(e Emitter) []Code  { return plainForward(e, "SiLU") }
func (s *SiLU) Infer(e Emitter) []Code    { return s.Forward(e) }
func (s *SiLU) Backward(e Emitter) []Code { return plainBackward(e, "SiLU") }

// Hardswish is x*relu6(x+3)/6 (nn.Hardswish), into its own buffer.
// Runtime: rt.HardswishForward, rt.HardswishBackward (from the input).
type Hardswish struct{ elementwise }

var hardswishKind = Kind{Word: "hardswish", Usage: "hardswish", Parse: func(Args) Op { return &Hardswish{} }}

func (h *Hardswish) Kind() *Kind               { return &hardswishKind }
func (h *Hardswish) String() string            { return "hardswish" }
func (h *Hardswish) Forward(e Emitter) []Code  { return plainForward(e, "Hardswish") }
func (h *Hardswish) Infer(e Emitter) []Code    { return h.Forward(e) }
func (h *Hardswish) Backward(e Emitter) []Code { return plainBackward(e, "Hardswish") }

// Hardsigmoid is relu6(x+3)/6 (nn.Hardsigmoid), into its own buffer.
// Runtime: rt.HardsigmoidForward, rt.HardsigmoidBackward (from the input).
type Hardsigmoid struct{ elementwise }

var hardsigmoidKind = Kind{Word: "hardsigmoid", Usage: "hardsigmoid", Parse: func(Args) Op { return &Hardsigmoid{} }}

func (h *Hardsigmoid) Kind() *Kind               { return &hardsigmoidKind }
func (h *Hardsigmoid) String() string            { return "hardsigmoid" }
func (h *Hardsigmoid) Forward(e Emitter) []Code  { return plainForward(e, "Hardsigmoid") }
func (h *Hardsigmoid) Infer(e Emitter) []Code    { return h.Forward(e) }
func (h *Hardsigmoid) Backward(e Emitter) []Code { return plainBackward(e, "Hardsigmoid") }

// plainForward and plainBackward are the calls of an activation without
// arguments into its own buffer whose backward reads its input:
// rt.<fn>Forward(x, y), rt.<fn>Backward(x, dy, dx).
func plainForward(e Emitter, fn string) []Code {
	return []Code{RT(fn+"Forward").Call(e.In(0), e.Out())}
}

func plainBackward(e Emitter, fn string) []Code {
	if !e.NeedDIn(0) {
		return Comment(e.Name() + ": its input is the network's, no gradient")
	}
	return []Code{RT(fn+"Backward").Call(e.In(0), e.DOut(), e.DIn(0))}
}

// GELU is x*Phi(x), Phi the normal distribution's cdf (nn.GELU); `gelu
// tanh` is PyTorch's approximate='tanh' form. Into its own buffer.
// Runtime: rt.GELU{Tanh}.
type GELU struct {
	elementwise
	Tanh bool
}

var geluKind = Kind{Word: "gelu", Usage: "gelu [tanh]", Parse: parseGELU}

func (g *GELU) Kind() *Kind    { return &geluKind }
func (g *GELU) String() string { return choose(g.Tanh, "gelu tanh", "gelu") }

func parseGELU(a Args) Op {
	g := &GELU{Tanh: a.Has("tanh")}
	for _, w := range []string{"none", "erf", "exact"} {
		if a.Has(w) {
			a.Fail("the exact (erf) form is the default, written gelu; gelu tanh is approximate='tanh'",
				"gelu: the form %q is written gelu", w)
		}
	}
	return g
}

func (g *GELU) geometry(e Emitter) *jen.Statement {
	return jen.Id(e.Geometry("GELU", Field{"Tanh", g.Tanh}))
}

func (g *GELU) Forward(e Emitter) []Code {
	return []Code{g.geometry(e).Dot("Forward").Call(e.In(0), e.Out())}
}

func (g *GELU) Infer(e Emitter) []Code { return g.Forward(e) }

func (g *GELU) Backward(e Emitter) []Code {
	if !e.NeedDIn(0) {
		return Comment(e.Name() + ": its input is the network's, no gradient")
	}
	return []Code{g.geometry(e).Dot("Backward").Call(e.In(0), e.DOut(), e.DIn(0))}
}

// ONNX: Clip between the initializers 0 and 6.
func (r *ReLU6) ONNX(x Exporter) {
	x.Node("Clip", []string{x.In(0), x.Const("min", nil, []float32{0}), x.Const("max", nil, []float32{6})})
}

// ONNX: Tanh.
func (t *Tanh) ONNX(x Exporter) { x.Node("Tanh", []string{x.In(0)}) }

// ONNX: Sigmoid.
func (s *Sigmoid) ONNX(x Exporter) { x.Node("Sigmoid", []string{x.In(0)}) }

// ONNX: x * Sigmoid(x) (opset 17 has no SiLU).
func (s *SiLU) ONNX(x Exporter) {
	x.Node("Mul", []string{x.In(0), x.Step("Sigmoid", []string{x.In(0)})})
}

// ONNX: HardSwish.
func (h *Hardswish) ONNX(x Exporter) { x.Node("HardSwish", []string{x.In(0)}) }

// ONNX: HardSigmoid with PyTorch's alpha 1/6 and beta 1/2 (ONNX's
// defaults are 0.2 and 0.5).
func (h *Hardsigmoid) ONNX(x Exporter) {
	x.Node("HardSigmoid", []string{x.In(0)}, onnx.FloatAttr("alpha", float32(1.0/6)), onnx.FloatAttr("beta", 0.5))
}

// ONNX: opset 17 has no Gelu (opset 20 has): x * (1 + Erf(x/sqrt2)) * 1/2,
// or for the tanh form x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 x^3))) * 1/2.
func (g *GELU) ONNX(x Exporter) {
	in := x.In(0)
	var inner string
	if g.Tanh {
		cube := x.Step("Mul", []string{x.Step("Mul", []string{in, in}), in})
		u := x.Step("Add", []string{in, x.Step("Mul", []string{cube, x.Const("c", nil, []float32{0.044715})})})
		inner = x.Step("Tanh", []string{x.Step("Mul", []string{u, x.Const("k", nil, []float32{float32(math.Sqrt(2 / math.Pi))})})})
	} else {
		inner = x.Step("Erf", []string{x.Step("Div", []string{in, x.Const("sqrt2", nil, []float32{math.Sqrt2})})})
	}
	onePlus := x.Step("Add", []string{inner, x.Const("one", nil, []float32{1})})
	x.Node("Mul", []string{x.Step("Mul", []string{in, onePlus}), x.Const("half", nil, []float32{0.5})})
}
