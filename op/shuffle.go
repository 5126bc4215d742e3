package op

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/onnx"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Shuffle is ShuffleNet's channel shuffle with G groups:
// x.view(N, G, C/G, H, W).transpose(1, 2).reshape(N, C, H, W). Runtime:
// rt.Shuffle, a permutation copy forward and its inverse backward.
type Shuffle struct{ Groups int }

var shuffleKind = Kind{
	Word:     "shuffle",
	Usage:    "shuffle G",
	Parse:    parseShuffle,
	NeedsMap: true,
}

func (s *Shuffle) Kind() *Kind    { return &shuffleKind }
func (s *Shuffle) String() string { return fmt.Sprintf("shuffle %d", s.Groups) }

func parseShuffle(a Args) Op {
	s := &Shuffle{Groups: 1}
	x, ok := a.Positional()
	if !ok {
		a.Fail("the form is: shuffle G, for example shuffle 3 (ShuffleNet's groups)", "shuffle needs a number of groups")
		return s
	}
	if g, ok := a.Integer(x, 1, "the groups"); ok {
		s.Groups = g
	}
	return s
}

func (s *Shuffle) Shape(c Checker, in []Shape) (Shape, bool) {
	if in[0].C%s.Groups != 0 {
		c.Errorf(shuffleHint(in[0].C), "%s: %d channels do not divide into %d groups", c.Text(), in[0].C, s.Groups)
		return in[0], false
	}
	return in[0], true
}

// shuffleHint names the numbers of groups that divide c.
func shuffleHint(c int) string {
	var good []string
	for d := 2; d < c && len(good) < 4; d++ {
		if c%d == 0 {
			good = append(good, fmt.Sprintf("shuffle %d", d))
		}
	}
	h := fmt.Sprintf("the groups must divide the %d channels", c)
	if len(good) == 0 {
		return h + fmt.Sprintf("; %d is prime: only shuffle 1 and shuffle %d do, which change nothing", c, c)
	}
	return h + "; try " + strings.Join(good, " or ")
}

func (s *Shuffle) Tensors([]Shape, Shape) []rt.TensorSpec { return nil }
func (s *Shuffle) MACs(*Count, []Shape, Shape) int64      { return 0 }
func (s *Shuffle) State([]Shape, Shape) State             { return State{} }

func (s *Shuffle) geometry(e Emitter) *jen.Statement {
	out := e.OutShape()
	return jen.Id(e.Geometry("Shuffle", Field{"C", out.C}, Field{"HW", out.H * out.W}, Field{"G", s.Groups}))
}

func (s *Shuffle) Forward(e Emitter) []Code {
	return []Code{s.geometry(e).Dot("Forward").Call(e.N(), e.In(0), e.Out())}
}

func (s *Shuffle) Infer(e Emitter) []Code { return s.Forward(e) }

func (s *Shuffle) Backward(e Emitter) []Code {
	if !e.NeedDIn(0) {
		return nil
	}
	return []Code{s.geometry(e).Dot("Backward").Call(e.N(), e.DOut(), e.DIn(0))}
}

// ONNX: Reshape to (N, G, C/G, H, W), Transpose of the two group axes,
// Reshape back (0 in a shape keeps the batch dimension symbolic).
func (s *Shuffle) ONNX(x Exporter) {
	out := x.OutShape()
	c, h, w, g := int64(out.C), int64(out.H), int64(out.W), int64(s.Groups)
	split := x.Step("Reshape", []string{x.In(0), x.ConstInt64("groups", []int64{5}, []int64{0, g, c / g, h, w})})
	swap := x.Step("Transpose", []string{split}, onnx.IntsAttr("perm", 0, 2, 1, 3, 4))
	x.Node("Reshape", []string{swap, x.ConstInt64("shape", []int64{4}, []int64{0, c, h, w})})
}

// DropPath is stochastic depth (torchvision.ops.StochasticDepth(P, "row")),
// the last layer of a residual body: in training each image's whole input
// is zeroed with probability P and the others are scaled by 1/(1-P); the
// identity at inference. In place. Runtime: rt.DropPath; the forward keeps
// one mask value per image for the backward.
type DropPath struct {
	elementwise
	P float64
}

var droppathKind = Kind{Word: "droppath", Usage: "droppath P", Parse: parseDropPath, InPlace: true}

func (d *DropPath) Kind() *Kind                { return &droppathKind }
func (d *DropPath) String() string             { return "droppath " + num(d.P) }
func (d *DropPath) State([]Shape, Shape) State { return State{Saved: 1} }

func parseDropPath(a Args) Op {
	d := &DropPath{}
	x, ok := a.Positional()
	switch {
	case !ok:
		a.Fail("the form is: droppath P, for example droppath 0.1 (the probability of dropping an image's residual body)", "droppath needs a probability")
	case x.OK && (x.Num < 0 || x.Num >= 1):
		a.Errorf(x, "droppath: probability must be in [0, 1), found %s", num(x.Num))
	default:
		d.P = x.Num
	}
	return d
}

// Forward draws a new mask, or reuses the last one when the masks are
// frozen (gradient checks), as dropout does.
func (d *DropPath) Forward(e Emitter) []Code {
	g := e.Geometry("DropPath", Field{"P", float32(d.P)})
	return append(copyIn(e), jen.If(e.Frozen()).Block(
		jen.Id(g).Dot("Backward").Call(e.Out(), e.Saved()),
	).Else().Block(
		jen.Id(g).Dot("Forward").Call(e.Out(), e.Saved(), e.RNG(), jen.True()),
	))
}

// Infer: the identity, as dropout's.
func (d *DropPath) Infer(e Emitter) []Code {
	if e.Alias() {
		return Comment(e.Name() + ": identity at inference")
	}
	return copyIn(e)
}

func (d *DropPath) Backward(e Emitter) []Code {
	g := e.Geometry("DropPath", Field{"P", float32(d.P)})
	return append([]Code{jen.Id(g).Dot("Backward").Call(e.DOut(), e.Saved())}, accumulateOut(e)...)
}

// ONNX: Identity, as at inference.
func (d *DropPath) ONNX(x Exporter) { x.Node("Identity", []string{x.In(0)}) }
