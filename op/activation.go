package op

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/onnx"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// elementwise is the frame of the in-place ops: shape and counts of an op
// that maps each value to one value.
type elementwise struct{}

func (elementwise) Shape(_ Checker, in []Shape) (Shape, bool) { return in[0], true }
func (elementwise) Tensors([]Shape, Shape) []rt.TensorSpec    { return nil }
func (elementwise) MACs(*Count, []Shape, Shape) int64         { return 0 }
func (elementwise) State([]Shape, Shape) State                { return State{} }

// copyIn is the copy an in-place op starts with when it does not own its
// input (Alias false).
func copyIn(e Emitter) []Code {
	if e.Alias() {
		return nil
	}
	return []Code{jen.Copy(e.Out(), e.In(0))}
}

// accumulateOut is the backward's end of an op that did not run in place:
// its input's gradient gets the gradient that went through the op's own
// buffer.
func accumulateOut(e Emitter) []Code {
	if e.Alias() {
		return nil
	}
	return []Code{RT("Accumulate").Call(e.DIn(0), e.DOut())}
}

// ReLU is max(x, 0), in place. Runtime: rt.ReLUForward, rt.ReLUBackward;
// after a conv or an fc it runs in their epilogue instead.
type ReLU struct{ elementwise }

var reluKind = Kind{Word: "relu", Usage: "relu", Parse: func(Args) Op { return &ReLU{} }, InPlace: true, ReadsOutput: true}

func (r *ReLU) Kind() *Kind    { return &reluKind }
func (r *ReLU) String() string { return "relu" }

func (r *ReLU) Forward(e Emitter) []Code {
	return append(copyIn(e), RT("ReLUForward").Call(e.Out()))
}

func (r *ReLU) Infer(e Emitter) []Code { return r.Forward(e) }

func (r *ReLU) Backward(e Emitter) []Code {
	return append([]Code{RT("ReLUBackward").Call(e.Out(), e.DOut())}, accumulateOut(e)...)
}

// LeakyReLU is x for x > 0 and Slope*x otherwise (nn.LeakyReLU, default
// slope 0.01), in place. Runtime: rt.LeakyReLU.
type LeakyReLU struct {
	elementwise
	Slope float64
}

var leakyreluKind = Kind{Word: "leakyrelu", Usage: "leakyrelu [slope]", Parse: parseLeakyReLU, InPlace: true, ReadsOutput: true}

func (r *LeakyReLU) Kind() *Kind    { return &leakyreluKind }
func (r *LeakyReLU) String() string { return "leakyrelu " + num(r.Slope) }

func parseLeakyReLU(a Args) Op {
	r := &LeakyReLU{Slope: 0.01}
	if x, ok := a.Positional(); ok && x.OK {
		if x.Num <= 0 || x.Num >= 1 {
			// The backward tells the sign of x from the sign of y.
			a.Errorf(x, "leakyrelu: the slope must be in (0, 1), found %s", x.Text)
		}
		r.Slope = x.Num
	}
	return r
}

func (r *LeakyReLU) geometry(e Emitter) *jen.Statement {
	return jen.Id(e.Geometry("LeakyReLU", Field{"Slope", float32(r.Slope)}))
}

func (r *LeakyReLU) Forward(e Emitter) []Code {
	return append(copyIn(e), r.geometry(e).Dot("Forward").Call(e.Out()))
}

func (r *LeakyReLU) Infer(e Emitter) []Code { return r.Forward(e) }

func (r *LeakyReLU) Backward(e Emitter) []Code {
	return append([]Code{r.geometry(e).Dot("Backward").Call(e.Out(), e.DOut())}, accumulateOut(e)...)
}

// Dropout zeroes each value with probability P in training and scales the
// rest by 1/(1-P) (inverted dropout); the identity at inference. Runtime:
// rt.Dropout; the forward keeps its mask for the backward.
type Dropout struct {
	elementwise
	P float64
}

var dropoutKind = Kind{Word: "dropout", Usage: "dropout P", Parse: parseDropout, InPlace: true}

func (d *Dropout) Kind() *Kind                      { return &dropoutKind }
func (d *Dropout) String() string                   { return "dropout " + num(d.P) }
func (d *Dropout) State(_ []Shape, out Shape) State { return State{Saved: out.Size()} }

func parseDropout(a Args) Op {
	d := &Dropout{}
	x, ok := a.Positional()
	switch {
	case !ok:
		a.Fail("the form is: dropout P, for example dropout 0.5", "dropout needs a probability")
	case x.OK && (x.Num < 0 || x.Num >= 1):
		a.Errorf(x, "dropout: probability must be in [0, 1), found %s", fmt.Sprint(x.Num))
	default:
		d.P = x.Num
	}
	return d
}

// Forward draws a new mask, or reuses the last one when the masks are
// frozen (gradient checks).
func (d *Dropout) Forward(e Emitter) []Code {
	g := e.Geometry("Dropout", Field{"P", float32(d.P)})
	return append(copyIn(e), jen.If(e.Frozen()).Block(
		jen.Id(g).Dot("Backward").Call(e.Out(), e.Saved()),
	).Else().Block(
		jen.Id(g).Dot("Forward").Call(e.Out(), e.Saved(), e.RNG(), jen.True()),
	))
}

// Infer: dropout is the identity at inference. In place the plan skips it;
// on a copy (its input has other readers) it copies.
func (d *Dropout) Infer(e Emitter) []Code {
	if e.Alias() {
		return Comment(e.Name() + ": identity at inference")
	}
	return copyIn(e)
}

func (d *Dropout) Backward(e Emitter) []Code {
	g := e.Geometry("Dropout", Field{"P", float32(d.P)})
	return append([]Code{jen.Id(g).Dot("Backward").Call(e.DOut(), e.Saved())}, accumulateOut(e)...)
}

// Softmax is the softmax over the classes of each image. In training the
// loss computes it (with the cross-entropy, from the logits before it);
// at inference it runs. Runtime: rt.Softmax.
type Softmax struct{ elementwise }

var softmaxKind = Kind{Word: "softmax", Usage: "softmax", Parse: func(Args) Op { return &Softmax{} }, InPlace: true, KeepsOutput: true, Final: true}

func (s *Softmax) Kind() *Kind    { return &softmaxKind }
func (s *Softmax) String() string { return "softmax" }

// Shape: the class scores of a classifier, 1x1xN (a vector, or a map
// reduced by gap). Over a larger map the loss would not exist and the
// softmax would run at inference only, over every value of the map.
func (s *Softmax) Shape(c Checker, in []Shape) (Shape, bool) {
	if in[0].H != 1 || in[0].W != 1 {
		c.Errorf("softmax takes a classifier's scores, 1x1xN: reduce the map first (gap, or fc N)",
			"%s: its input is a %s map, not class scores", c.Text(), in[0])
		return in[0], false
	}
	return in[0], true
}

func (s *Softmax) Forward(e Emitter) []Code { return Comment(e.Name() + ": computed by the loss") }

func (s *Softmax) Infer(e Emitter) []Code {
	g := e.Geometry("Softmax", Field{"Classes", e.OutShape().Size()})
	return []Code{jen.Id(g).Dot("Forward").Call(e.N(), e.In(0), e.Out())}
}

func (s *Softmax) Backward(e Emitter) []Code { return Comment(e.Name() + ": in the loss's backward") }

// ONNX: Relu.
func (r *ReLU) ONNX(x Exporter) { x.Node("Relu", []string{x.In(0)}) }

// ONNX: LeakyRelu.
func (r *LeakyReLU) ONNX(x Exporter) {
	x.Node("LeakyRelu", []string{x.In(0)}, onnx.FloatAttr("alpha", float32(r.Slope)))
}

// ONNX: Dropout with its ratio, which is the identity at inference.
func (d *Dropout) ONNX(x Exporter) {
	x.Node("Dropout", []string{x.In(0), x.Const("ratio", nil, []float32{float32(d.P)})})
}

// ONNX: Softmax over the classes.
func (s *Softmax) ONNX(x Exporter) { x.Node("Softmax", []string{x.In(0)}, onnx.IntAttr("axis", 1)) }
