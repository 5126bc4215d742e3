package op

import (
	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/onnx"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// LayerNorm is layer normalisation over the channels at every position
// (torchvision's LayerNorm2d, ConvNeXt's: permute to channels-last,
// nn.LayerNorm(C, eps), permute back); after an fc, nn.LayerNorm(F) on the
// vector. A learnable weight and bias per channel. Training and inference
// compute the same. Runtime: rt.LayerNorm; the forward keeps each
// position's mean and 1/std for the backward.
type LayerNorm struct {
	Eps float64 // added to the variance; in (0, 1], default 1e-6 (torchvision's ConvNeXt)
}

var layernormKind = Kind{
	Word:  "layernorm",
	Usage: "layernorm [eps X]",
	Parse: parseLayerNorm,
}

func (l *LayerNorm) Kind() *Kind    { return &layernormKind }
func (l *LayerNorm) String() string { return "layernorm eps=" + num(l.Eps) }

func parseLayerNorm(a Args) Op {
	l := &LayerNorm{Eps: 1e-6}
	if x, found := a.Value("eps"); found && x.OK {
		switch {
		case !(x.Num > 0 && x.Num <= 1):
			a.Errorf(x, "layernorm: eps must be in (0, 1], found %s", num(x.Num))
		case float32(x.Num) == 0:
			a.Errorf(x, "layernorm: eps %s is 0 in float32", num(x.Num))
		default:
			l.Eps = x.Num
		}
	}
	return l
}

func (l *LayerNorm) Shape(_ Checker, in []Shape) (Shape, bool) { return in[0], true }
func (l *LayerNorm) MACs(*Count, []Shape, Shape) int64         { return 0 }

// State: the mean and 1/std of every position.
func (l *LayerNorm) State(_ []Shape, out Shape) State { return State{Saved: 2 * out.H * out.W} }

func (l *LayerNorm) Tensors(_ []Shape, out Shape) []rt.TensorSpec {
	c := []int{out.C}
	return []rt.TensorSpec{
		{Name: "weight", Shape: c, Init: rt.InitOnes},
		{Name: "bias", Shape: c, Init: rt.InitZeros},
	}
}

func (l *LayerNorm) geometry(e Emitter) string {
	out := e.OutShape()
	return e.Geometry("LayerNorm", Field{"C", out.C}, Field{"H", out.H}, Field{"W", out.W}, Field{"Eps", float32(l.Eps)})
}

func (l *LayerNorm) Forward(e Emitter) []Code {
	return []Code{jen.Id(l.geometry(e)).Dot("Forward").Call(e.N(), e.In(0), e.Out(), e.Tensor(0), e.Tensor(1), e.Saved())}
}

func (l *LayerNorm) Infer(e Emitter) []Code { return l.Forward(e) }

func (l *LayerNorm) Backward(e Emitter) []Code {
	g := l.geometry(e)
	sc := e.Scratch(jen.Id(g).Dot("ScratchSize").Call(jen.Id("mb")))
	return []Code{jen.Id(g).Dot("Backward").Call(e.N(), e.In(0), e.DOut(), e.Tensor(0), e.Saved(), e.DIn(0), e.Grad(0), e.Grad(1), sc)}
}

// ONNX: LayerNormalization (opset 17) normalises over the last axes: a map
// is transposed to channels-last and back; a vector, or a 1x1 map, is
// flattened to (N, C) and reshaped back to the input's shape (which is
// (N, C) or (N, C, 1, 1): the layer does not know which).
func (l *LayerNorm) ONNX(x Exporter) {
	attrs := []*onnx.Attr{onnx.IntAttr("axis", -1), onnx.FloatAttr("epsilon", float32(l.Eps))}
	if s := x.InShape(0); s.H == 1 && s.W == 1 {
		flat := x.Step("Flatten", []string{x.In(0)}, onnx.IntAttr("axis", 1))
		norm := x.Step("LayerNormalization", []string{flat, x.Tensor(0), x.Tensor(1)}, attrs...)
		shape := x.Step("Shape", []string{x.In(0)})
		x.Node("Reshape", []string{norm, shape})
		return
	}
	last := x.Step("Transpose", []string{x.In(0)}, onnx.IntsAttr("perm", 0, 2, 3, 1))
	norm := x.Step("LayerNormalization", []string{last, x.Tensor(0), x.Tensor(1)}, attrs...)
	x.Node("Transpose", []string{norm}, onnx.IntsAttr("perm", 0, 3, 1, 2))
}

// LayerScale is ConvNeXt's layer scale: each channel multiplied by its own
// learnable factor, initially Init (torchvision's CNBlock, 1e-6). The
// tensor is layer_scale of shape (C, 1, 1), as torchvision's. Runtime:
// rt.LayerScale.
type LayerScale struct {
	Init float64 // in (0, 1], default 1e-6
}

var layerscaleKind = Kind{
	Word:     "layerscale",
	Usage:    "layerscale [init X]",
	Parse:    parseLayerScale,
	NeedsMap: true,
}

func (l *LayerScale) Kind() *Kind    { return &layerscaleKind }
func (l *LayerScale) String() string { return "layerscale init=" + num(l.Init) }

func parseLayerScale(a Args) Op {
	l := &LayerScale{Init: 1e-6}
	if x, found := a.Value("init"); found && x.OK {
		switch {
		case !(x.Num > 0 && x.Num <= 1):
			a.Errorf(x, "layerscale: init must be in (0, 1], found %s", num(x.Num))
		case float32(x.Num) == 0:
			a.Errorf(x, "layerscale: init %s is 0 in float32", num(x.Num))
		default:
			l.Init = x.Num
		}
	}
	return l
}

func (l *LayerScale) Shape(_ Checker, in []Shape) (Shape, bool) { return in[0], true }
func (l *LayerScale) MACs(*Count, []Shape, Shape) int64         { return 0 }
func (l *LayerScale) State([]Shape, Shape) State                { return State{} }

func (l *LayerScale) Tensors(_ []Shape, out Shape) []rt.TensorSpec {
	return []rt.TensorSpec{{Name: "layer_scale", Shape: []int{out.C, 1, 1}, Init: rt.InitConst, Value: float32(l.Init)}}
}

func (l *LayerScale) geometry(e Emitter) *jen.Statement {
	out := e.OutShape()
	return jen.Id(e.Geometry("LayerScale", Field{"C", out.C}, Field{"HW", out.H * out.W}))
}

func (l *LayerScale) Forward(e Emitter) []Code {
	return []Code{l.geometry(e).Dot("Forward").Call(e.N(), e.In(0), e.Tensor(0), e.Out())}
}

func (l *LayerScale) Infer(e Emitter) []Code { return l.Forward(e) }

func (l *LayerScale) Backward(e Emitter) []Code {
	return []Code{l.geometry(e).Dot("Backward").Call(e.N(), e.In(0), e.Tensor(0), e.DOut(), e.DIn(0), e.Grad(0))}
}

// ONNX: Mul by the (C, 1, 1) tensor, which broadcasts over (N, C, H, W).
func (l *LayerScale) ONNX(x Exporter) { x.Node("Mul", []string{x.In(0), x.Tensor(0)}) }
