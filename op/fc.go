package op

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/onnx"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// FC is a fully connected layer (nn.Linear) of Units outputs over the
// flattened input. Runtime: rt.FC.
type FC struct{ Units int }

var fcKind = Kind{
	Word:     "fc",
	Usage:    "fc N",
	Parse:    parseFC,
	Epilogue: true,
	Flat:     true,
}

func (f *FC) Kind() *Kind    { return &fcKind }
func (f *FC) String() string { return fmt.Sprintf("fc %d", f.Units) }

func parseFC(a Args) Op {
	f := &FC{}
	if x, ok := a.Positional(); !ok {
		a.Fail("the form is: fc N", "fc needs the number of outputs")
	} else if v, ok := a.Integer(x, 1, "the number of outputs"); ok {
		f.Units = v
	}
	return f
}

func (f *FC) Shape(_ Checker, in []Shape) (Shape, bool) { return Shape{H: 1, W: 1, C: f.Units}, true }

func (f *FC) Tensors(in []Shape, out Shape) []rt.TensorSpec {
	return []rt.TensorSpec{
		{Name: "weight", Shape: []int{f.Units, in[0].Size()}, Init: rt.InitWeight},
		{Name: "bias", Shape: []int{f.Units}, Init: rt.InitBias},
	}
}

func (f *FC) MACs(k *Count, in []Shape, out Shape) int64 {
	return k.Mul(int64(in[0].H), int64(in[0].W), int64(in[0].C), int64(f.Units))
}

func (f *FC) State([]Shape, Shape) State { return State{} }

func (f *FC) geometry(e Emitter) *jen.Statement {
	return jen.Id(e.Geometry("FC", Field{"In", e.InShape(0).Size()}, Field{"Out", f.Units}, Field{"ReLU", e.ReLU()}))
}

func (f *FC) Forward(e Emitter) []Code {
	return []Code{f.geometry(e).Dot("Forward").Call(e.N(), e.In(0), e.Tensor(0), e.Tensor(1), e.Out())}
}

func (f *FC) Infer(e Emitter) []Code { return f.Forward(e) }

func (f *FC) Backward(e Emitter) []Code {
	code := []Code{f.geometry(e).Dot("BackwardFilter").Call(e.N(), e.In(0), e.DOut(), e.Grad(0), e.Grad(1))}
	if e.NeedDIn(0) {
		code = append(code, f.geometry(e).Dot("BackwardData").Call(e.N(), e.DOut(), e.Tensor(0), e.DIn(0)))
	}
	return code
}

// ONNX: Gemm on the flattened input with the weight transposed (the
// weight is (out, in), as nn.Linear's).
func (f *FC) ONNX(x Exporter) {
	x.Node("Gemm", []string{x.FlatIn(0), x.Tensor(0), x.Tensor(1)}, onnx.IntAttr("transB", 1))
}
