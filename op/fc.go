package op

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/onnx"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// FC is a fully connected layer (nn.Linear) of Units outputs over the
// flattened input, with a bias unless NoBias (`fc N nobias`,
// nn.Linear(in, N, bias=False)). Runtime: rt.FC.
type FC struct {
	Units  int
	NoBias bool
}

var fcKind = Kind{
	Word:     "fc",
	Usage:    "fc N [nobias]",
	Parse:    parseFC,
	Epilogue: true,
	Flat:     true,
}

func (f *FC) Kind() *Kind { return &fcKind }
func (f *FC) String() string {
	if f.NoBias {
		return fmt.Sprintf("fc %d nobias", f.Units)
	}
	return fmt.Sprintf("fc %d", f.Units)
}

func parseFC(a Args) Op {
	f := &FC{}
	if x, ok := a.Positional(); !ok {
		a.Fail("the form is: fc N [nobias]", "fc needs the number of outputs")
	} else if v, ok := a.Integer(x, 1, "the number of outputs"); ok {
		f.Units = v
	}
	f.NoBias = a.Has("nobias")
	return f
}

func (f *FC) Shape(_ Checker, in []Shape) (Shape, bool) { return Shape{H: 1, W: 1, C: f.Units}, true }

func (f *FC) Tensors(in []Shape, out Shape) []rt.TensorSpec {
	ts := []rt.TensorSpec{{Name: "weight", Shape: []int{f.Units, in[0].Size()}, Init: rt.InitWeight}}
	if !f.NoBias {
		ts = append(ts, rt.TensorSpec{Name: "bias", Shape: []int{f.Units}, Init: rt.InitBias})
	}
	return ts
}

// bias is the bias or its gradient, nil without one.
func (f *FC) bias(e Emitter, grad bool) Code {
	switch {
	case f.NoBias:
		return jen.Nil()
	case grad:
		return e.Grad(1)
	}
	return e.Tensor(1)
}

func (f *FC) MACs(k *Count, in []Shape, out Shape) int64 {
	return k.Mul(int64(in[0].H), int64(in[0].W), int64(in[0].C), int64(f.Units))
}

func (f *FC) State([]Shape, Shape) State { return State{} }

func (f *FC) geometry(e Emitter) *jen.Statement {
	return jen.Id(e.Geometry("FC", Field{"In", e.InShape(0).Size()}, Field{"Out", f.Units}, Field{"ReLU", e.ReLU()}))
}

func (f *FC) Forward(e Emitter) []Code {
	return []Code{f.geometry(e).Dot("Forward").Call(e.N(), e.In(0), e.Tensor(0), f.bias(e, false), e.Out())}
}

func (f *FC) Infer(e Emitter) []Code { return f.Forward(e) }

func (f *FC) Backward(e Emitter) []Code {
	code := []Code{f.geometry(e).Dot("BackwardFilter").Call(e.N(), e.In(0), e.DOut(), e.Grad(0), f.bias(e, true))}
	if e.NeedDIn(0) {
		code = append(code, f.geometry(e).Dot("BackwardData").Call(e.N(), e.DOut(), e.Tensor(0), e.DIn(0)))
	}
	return code
}

// ONNX: Gemm on the flattened input with the weight transposed (the
// weight is (out, in), as nn.Linear's), and the bias as its third input
// when there is one.
func (f *FC) ONNX(x Exporter) {
	in := []string{x.FlatIn(0), x.Tensor(0)}
	if !f.NoBias {
		in = append(in, x.Tensor(1))
	}
	x.Node("Gemm", in, onnx.IntAttr("transB", 1))
}
