package op

import (
	"fmt"
	"math"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/onnx"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// LRN is local response normalisation across channels (PyTorch's
// nn.LocalResponseNorm). Runtime: rt.LRN; its forward keeps the scale of
// every value for the backward.
type LRN struct {
	Size           int
	Alpha, Beta, K float64
}

var lrnKind = Kind{
	Word:        "lrn",
	Usage:       "lrn [size] [alpha] [beta] [k]",
	Parse:       parseLRN,
	KeepsOutput: true,
	NeedsMap:    true,
}

func (l *LRN) Kind() *Kind { return &lrnKind }
func (l *LRN) String() string {
	return fmt.Sprintf("lrn size=%d alpha=%s beta=%s k=%s", l.Size, num(l.Alpha), num(l.Beta), num(l.K))
}

func parseLRN(a Args) Op {
	l := &LRN{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2}
	if x, ok := a.Positional(); ok {
		if v, ok := a.Integer(x, 1, "the size"); ok {
			l.Size = v
		}
	}
	for _, f := range []*float64{&l.Alpha, &l.Beta, &l.K} {
		if x, ok := a.Positional(); ok {
			*f = x.Num
			switch {
			case x.Num < 0:
				a.Errorf(x, "lrn: %s must not be negative", x.Text)
			case x.Num > math.MaxFloat32:
				a.Errorf(x, "lrn: %s is too large for float32", x.Text)
			}
		}
	}
	return l
}

func (l *LRN) Shape(_ Checker, in []Shape) (Shape, bool) { return in[0], true }
func (l *LRN) Tensors([]Shape, Shape) []rt.TensorSpec    { return nil }
func (l *LRN) MACs(*Count, []Shape, Shape) int64         { return 0 }
func (l *LRN) State(_ []Shape, out Shape) State          { return State{Saved: out.Size()} }

func (l *LRN) geometry(e Emitter) (*jen.Statement, Code) {
	in := e.InShape(0)
	g := e.Geometry("LRN", Field{"C", in.C}, Field{"H", in.H}, Field{"W", in.W}, Field{"Size", l.Size},
		Field{"Alpha", float32(l.Alpha)}, Field{"Beta", float32(l.Beta)}, Field{"K", float32(l.K)})
	return jen.Id(g), e.Scratch(jen.Id(g).Dot("ScratchSize").Call())
}

func (l *LRN) Forward(e Emitter) []Code {
	g, sc := l.geometry(e)
	return []Code{g.Dot("Forward").Call(e.N(), e.In(0), e.Out(), e.Saved(), sc)}
}

func (l *LRN) Infer(e Emitter) []Code { return l.Forward(e) }

func (l *LRN) Backward(e Emitter) []Code {
	g, sc := l.geometry(e)
	return []Code{g.Dot("Backward").Call(e.N(), e.In(0), e.Out(), e.Saved(), e.DOut(), e.DIn(0), sc)}
}

// BN is batch normalisation (nn.BatchNorm2d(C, eps, momentum)): batch
// statistics in training, running statistics at inference, where a bn
// right after a conv is folded into the conv's weights. Runtime: rt.BN.
type BN struct {
	Eps      float64 // added to the variance; in (0, 1], default 1e-5
	Momentum float64 // of the running statistics' update; in [0, 1], default 0.1
}

// NewBN is a bn with PyTorch's defaults, eps 1e-5 and momentum 0.1.
func NewBN() *BN { return &BN{Eps: 1e-5, Momentum: 0.1} }

var bnKind = Kind{
	Word:  "bn",
	Usage: "bn [eps X] [momentum X]",
	Parse: parseBN,
}

func (b *BN) Kind() *Kind { return &bnKind }
func (b *BN) String() string {
	return fmt.Sprintf("bn eps=%s momentum=%s", num(b.Eps), num(b.Momentum))
}

func parseBN(a Args) Op {
	b := NewBN()
	if x, found := a.Value("eps"); found && x.OK {
		switch {
		case !(x.Num > 0 && x.Num <= 1):
			a.Errorf(x, "bn: eps must be in (0, 1], found %s", num(x.Num))
		case float32(x.Num) == 0:
			a.Errorf(x, "bn: eps %s is 0 in float32", num(x.Num))
		default:
			b.Eps = x.Num
		}
	}
	if x, found := a.Value("momentum"); found && x.OK {
		if x.Num >= 0 && x.Num <= 1 {
			b.Momentum = x.Num
		} else {
			a.Errorf(x, "bn: momentum must be in [0, 1], found %s", num(x.Num))
		}
	}
	return b
}

func (b *BN) Shape(_ Checker, in []Shape) (Shape, bool) { return in[0], true }
func (b *BN) MACs(*Count, []Shape, Shape) int64         { return 0 }

// State: the batch mean and 1/std of every channel.
func (b *BN) State(_ []Shape, out Shape) State { return State{Fixed: 2 * out.C} }

func (b *BN) Tensors(_ []Shape, out Shape) []rt.TensorSpec {
	c := []int{out.C}
	return []rt.TensorSpec{
		{Name: "weight", Shape: c, Init: rt.InitOnes},
		{Name: "bias", Shape: c, Init: rt.InitZeros},
		{Name: "running_mean", Shape: c, Buffer: true, Init: rt.InitZeros},
		{Name: "running_var", Shape: c, Buffer: true, Init: rt.InitOnes},
	}
}

func (b *BN) geometry(e Emitter) *jen.Statement {
	out := e.OutShape()
	return jen.Id(e.Geometry("BN", Field{"C", out.C}, Field{"H", out.H}, Field{"W", out.W},
		Field{"Eps", float32(b.Eps)}, Field{"Momentum", float32(b.Momentum)}))
}

func (b *BN) Forward(e Emitter) []Code {
	c := e.OutShape().C
	return []Code{b.geometry(e).Dot("ForwardTrain").Call(e.N(), e.In(0), e.Out(), e.Tensor(0), e.Tensor(1),
		e.Tensor(2), e.Tensor(3), e.Fixed(0, c), e.Fixed(c, c))}
}

func (b *BN) Infer(e Emitter) []Code {
	return []Code{b.geometry(e).Dot("ForwardInfer").Call(e.N(), e.In(0), e.Out(), e.Tensor(0), e.Tensor(1),
		e.Tensor(2), e.Tensor(3))}
}

func (b *BN) Backward(e Emitter) []Code {
	c := e.OutShape().C
	return []Code{b.geometry(e).Dot("Backward").Call(e.N(), e.In(0), e.DOut(), e.Tensor(0), e.Fixed(0, c), e.Fixed(c, c),
		e.DIn(0), e.Grad(0), e.Grad(1))}
}

// ONNX: LRN, whose alpha is PyTorch's (divided by the size in the formula).
func (l *LRN) ONNX(x Exporter) {
	x.Node("LRN", []string{x.In(0)}, onnx.IntAttr("size", int64(l.Size)), onnx.FloatAttr("alpha", float32(l.Alpha)),
		onnx.FloatAttr("beta", float32(l.Beta)), onnx.FloatAttr("bias", float32(l.K)))
}

// ONNX: BatchNormalization in inference mode, on the running statistics.
// ONNX's momentum weighs the old statistics, PyTorch's the new ones.
func (b *BN) ONNX(x Exporter) {
	x.Node("BatchNormalization", []string{x.In(0), x.Tensor(0), x.Tensor(1), x.Tensor(2), x.Tensor(3)},
		onnx.FloatAttr("epsilon", float32(b.Eps)), onnx.FloatAttr("momentum", float32(1-b.Momentum)))
}
