package op

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Identity is the layer whose output is its input (`identity`: a concat
// branch that passes the input on, DenseNet's; a split's untouched half,
// ShuffleNet's). The plan aliases it (Kind.View): it costs no memory and
// no work; it copies only if it ever runs out of place.
type Identity struct{ elementwise }

var identityKind = Kind{Word: "identity", Usage: "identity", Parse: func(Args) Op { return &Identity{} }, InPlace: true, View: true}

func (i *Identity) Kind() *Kind               { return &identityKind }
func (i *Identity) String() string            { return "identity" }
func (i *Identity) Forward(e Emitter) []Code  { return copyIn(e) }
func (i *Identity) Infer(e Emitter) []Code    { return copyIn(e) }
func (i *Identity) Backward(e Emitter) []Code { return accumulateOut(e) }

// ONNX: Identity.
func (i *Identity) ONNX(x Exporter) { x.Node("Identity", []string{x.In(0)}) }

// Slice is part Part of Parts equal parts of its input's channels: one
// branch's part of a `split { a | b }`. Runtime: rt.Slice.
type Slice struct{ Part, Parts int }

var sliceKind = Kind{Word: "slice", NeedsMap: true}

func (s *Slice) Kind() *Kind    { return &sliceKind }
func (s *Slice) String() string { return fmt.Sprintf("slice %d/%d", s.Part+1, s.Parts) }

// Shape: C/Parts channels; the first part reports a depth that does not
// divide (the others fail silently).
func (s *Slice) Shape(c Checker, in []Shape) (Shape, bool) {
	if in[0].C%s.Parts != 0 {
		if s.Part == 0 {
			c.Errorf(fmt.Sprintf("each branch of a split gets an equal part of the channels: give the input a multiple of %d channels, or write as many branches as divide %d", s.Parts, in[0].C),
				"split: the input's %d channels do not split into %d equal parts", in[0].C, s.Parts)
		}
		return in[0], false
	}
	return Shape{H: in[0].H, W: in[0].W, C: in[0].C / s.Parts}, true
}

// channels is the part's range of the input's channels.
func (s *Slice) channels(in Shape) (from, to int) {
	k := in.C / s.Parts
	return s.Part * k, (s.Part + 1) * k
}

func (s *Slice) Tensors([]Shape, Shape) []rt.TensorSpec { return nil }
func (s *Slice) MACs(*Count, []Shape, Shape) int64      { return 0 }
func (s *Slice) State([]Shape, Shape) State             { return State{} }

func (s *Slice) geometry(e Emitter) *jen.Statement {
	in := e.InShape(0)
	from, to := s.channels(in)
	return jen.Id(e.Geometry("Slice", Field{"C", to - from}, Field{"Total", in.C}, Field{"Off", from}, Field{"HW", in.H * in.W}))
}

func (s *Slice) Forward(e Emitter) []Code {
	return []Code{s.geometry(e).Dot("Forward").Call(e.N(), e.In(0), e.Out())}
}
func (s *Slice) Infer(e Emitter) []Code { return s.Forward(e) }
func (s *Slice) Backward(e Emitter) []Code {
	if !e.NeedDIn(0) {
		return nil
	}
	return []Code{s.geometry(e).Dot("Backward").Call(e.N(), e.DOut(), e.DIn(0))}
}

// ONNX: Slice along the channels; starts, ends and axes are int64
// initializers.
func (s *Slice) ONNX(x Exporter) {
	from, to := s.channels(x.InShape(0))
	x.Node("Slice", []string{x.In(0), int64s(x, "starts", int64(from)), int64s(x, "ends", int64(to)), int64s(x, "axes", 1)})
}

// int64s adds a one-dimensional int64 initializer.
func int64s(x Exporter, suffix string, v ...int64) string {
	return x.ConstInt64(suffix, []int64{int64(len(v))}, v)
}

// Scale multiplies its first input, a HxWxC map, channel by channel by its
// second, 1x1xC (`scale { chain }`, squeeze-and-excitation's x * se(x)).
// Runtime: rt.Scale.
type Scale struct{}

var scaleKind = Kind{Word: "scale", FirstMap: true}

func (s *Scale) Kind() *Kind    { return &scaleKind }
func (s *Scale) String() string { return "scale" }

func (s *Scale) Shape(c Checker, in []Shape) (Shape, bool) {
	if want := (Shape{H: 1, W: 1, C: in[0].C}); in[1] != want {
		c.Errorf(fmt.Sprintf("the chain must give one factor per channel of its input, %s: end it with a conv %d 1x1 (or an fc %d) after a gap", want, in[0].C, in[0].C),
			"scale: the chain gives %s but the input has %d channels", in[1], in[0].C)
		return in[0], false
	}
	return in[0], true
}

func (s *Scale) Tensors([]Shape, Shape) []rt.TensorSpec { return nil }
func (s *Scale) MACs(*Count, []Shape, Shape) int64      { return 0 }
func (s *Scale) State([]Shape, Shape) State             { return State{} }

func (s *Scale) geometry(e Emitter) *jen.Statement {
	in := e.InShape(0)
	return jen.Id(e.Geometry("Scale", Field{"C", in.C}, Field{"HW", in.H * in.W}))
}

func (s *Scale) Forward(e Emitter) []Code {
	return []Code{s.geometry(e).Dot("Forward").Call(e.N(), e.In(0), e.In(1), e.Out())}
}
func (s *Scale) Infer(e Emitter) []Code { return s.Forward(e) }
func (s *Scale) Backward(e Emitter) []Code {
	dx, df := Code(jen.Nil()), Code(jen.Nil())
	if e.NeedDIn(0) {
		dx = e.DIn(0)
	}
	if e.NeedDIn(1) {
		df = e.DIn(1)
	}
	return []Code{s.geometry(e).Dot("Backward").Call(e.N(), e.In(0), e.In(1), e.DOut(), dx, df)}
}

// ONNX: Mul, the factors reshaped to (N, C, 1, 1) for the broadcast (they
// are (N, C) when an fc gave them).
func (s *Scale) ONNX(x Exporter) {
	f := x.Step("Reshape", []string{x.In(1), int64s(x, "shape", 0, -1, 1, 1)})
	x.Node("Mul", []string{x.In(0), f})
}
