package op

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/onnx"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Conv is a convolution (PyTorch's nn.Conv2d): Filters filters of KHxKW
// over Groups groups of channels, stride, padding and dilation. Runtime:
// rt.Conv.
//
// Depthwise is the word dwconv: one KHxKW filter per input channel,
// nn.Conv2d(C, C, k, groups=C); Filters and Groups are then 0 and resolved
// from the input's depth (filters), which the layer does not write.
type Conv struct {
	Filters   int
	KH, KW    int
	SH, SW    int
	PH, PW    int
	Same      bool // p same: padding chosen so that stride 1 keeps the size
	Groups    int
	DH, DW    int
	Bias      bool
	Depthwise bool
}

const convUsage = "conv N KxK [sS] [pP | p same] [gG] [dD] [nobias]"

var convKind = Kind{
	Word:     "conv",
	Usage:    convUsage,
	Parse:    parseConv,
	Epilogue: true,
	NeedsMap: true,
}

const dwconvUsage = "dwconv KxK [sS] [pP | p same] [dD] [nobias]"

// dwconvKind is the depthwise convolution, a Conv with Depthwise set:
// its depth (filters and groups) is its input's.
var dwconvKind = Kind{
	Word:     "dwconv",
	Usage:    dwconvUsage,
	Parse:    parseDWConv,
	Epilogue: true,
	NeedsMap: true,
}

func parseDWConv(a Args) Op {
	c := &Conv{DH: 1, DW: 1, SH: 1, SW: 1, Bias: true, Depthwise: true}
	x, num := a.Positional()
	if _, _, ok := a.Flag("g", 1); ok {
		a.Fail("the form is: "+dwconvUsage+"; for other groups write conv N KxK gG",
			"dwconv: groups are not written: dwconv has one group per input channel")
	}
	sized := c.parseWindow(a, !num)
	switch {
	case !num || !x.OK:
	case sized:
		a.Fail(fmt.Sprintf("dwconv takes its depth from its input: write dwconv without it; for %s filters over groups write conv %s KxK gG", x.Text, x.Text),
			"dwconv: unexpected filter count %s", x.Text)
	default:
		a.Fail(fmt.Sprintf("write the kernel as KxK: dwconv %sx%s (dwconv takes its depth from its input)", x.Text, x.Text),
			"dwconv: the kernel is written KxK, found %s", x.Text)
	}
	return c
}

func (c *Conv) Kind() *Kind {
	if c.Depthwise {
		return &dwconvKind
	}
	return &convKind
}

func (c *Conv) String() string {
	same := ""
	if c.Same {
		same = " same"
	}
	if c.Depthwise {
		return fmt.Sprintf("dwconv %dx%d %s %s%s %s %s", c.KH, c.KW, pair("s", c.SH, c.SW), pair("p", c.PH, c.PW),
			same, pair("d", c.DH, c.DW), choose(c.Bias, "bias", "nobias"))
	}
	return fmt.Sprintf("conv %d %dx%d %s %s%s g%d %s %s", c.Filters, c.KH, c.KW, pair("s", c.SH, c.SW), pair("p", c.PH, c.PW),
		same, c.Groups, pair("d", c.DH, c.DW), choose(c.Bias, "bias", "nobias"))
}

func parseConv(a Args) Op {
	c := &Conv{Groups: 1, DH: 1, DW: 1, SH: 1, SW: 1, Bias: true}
	if x, ok := a.Positional(); !ok {
		a.Fail("the form is: "+convUsage, "conv needs a filter count")
	} else if v, ok := a.Integer(x, 1, "the filter count"); ok {
		c.Filters = v
	}
	c.parseWindow(a, true)
	return c
}

// parseWindow reads what conv and dwconv share: the kernel, stride,
// groups (conv), dilation, padding and nobias; a missing kernel is
// reported when missing, and sized says it is written.
func (c *Conv) parseWindow(a Args, missing bool) (sized bool) {
	word := a.Word()
	x, sized := a.Size()
	if !sized && missing {
		a.Fail("write the kernel as KxK, for example 3x3", "%s needs a kernel size", word)
	} else if sized && x.OK {
		if len(x.Dims) != 2 {
			a.Errorf(x, "%s: kernel %s must be KxK", word, x.Text)
		} else {
			c.KH, c.KW = x.Dims[0], x.Dims[1]
		}
	}
	if h, w, ok := a.Flag("s", 1); ok {
		c.SH, c.SW = h, w
	}
	if !c.Depthwise {
		if h, w, ok := a.Flag("g", 1); ok {
			c.Groups = h
			if h != w {
				a.Fail("", "conv: groups take one value")
			}
		}
	}
	if h, w, ok := a.Flag("d", 1); ok {
		c.DH, c.DW = h, w
	}
	padded := false
	if h, w, ok := a.Flag("p", 0); ok {
		c.PH, c.PW, padded = h, w, true
	}
	// A lone p is left to the check of unused arguments, which knows its
	// misspellings (p-1).
	psame, same := a.Has("psame"), a.Has("same")
	p := same && a.Has("p")
	if same && !p {
		a.Fail("write the padding as pN or p same", "%s: same without p before it", word)
	}
	if psame || (p && same) {
		c.Same = true
		switch {
		case padded || (psame && p):
			a.Fail("write the padding once", "%s: the padding is given twice", word)
		case c.SH != 1 || c.SW != 1:
			a.Fail("write the padding as a number", "%s: p same needs stride 1 (PyTorch's rule)", word)
		case (c.DH*(c.KH-1))%2 != 0 || (c.DW*(c.KW-1))%2 != 0:
			a.Fail("use an odd kernel or write the padding", "%s: p same with an even kernel pads one side more than the other, which cnnc does not support", word)
		default:
			c.PH, c.PW = c.DH*(c.KH-1)/2, c.DW*(c.KW-1)/2
		}
	}
	if a.Has("nobias") {
		c.Bias = false
	}
	return sized
}

// resolved returns the filters and groups over in input channels: as
// written, or the input's depth for dwconv.
func (c *Conv) resolved(in int) (filters, groups int) {
	if c.Depthwise {
		return in, in
	}
	return c.Filters, c.Groups
}

func (c *Conv) Shape(ck Checker, in []Shape) (Shape, bool) {
	ok := true
	filters, groups := c.resolved(in[0].C)
	if in[0].C%groups != 0 || filters%groups != 0 {
		ck.Errorf(groupHint(in[0].C, filters),
			"%s: %d input channels and %d filters do not divide into %d groups", ck.Text(), in[0].C, filters, groups)
		ok = false
	}
	out, fits := spatial(ck, in[0], c.KH, c.KW, c.SH, c.SW, c.PH, c.PW, c.DH, c.DW, false)
	out.C = filters
	return out, ok && fits
}

func (c *Conv) Tensors(in []Shape, out Shape) []rt.TensorSpec {
	filters, groups := c.resolved(in[0].C)
	ts := []rt.TensorSpec{{Name: "weight", Shape: []int{filters, in[0].C / groups, c.KH, c.KW}, Init: rt.InitWeightFanOut}}
	if c.Bias {
		ts = append(ts, rt.TensorSpec{Name: "bias", Shape: []int{filters}, Init: rt.InitBias})
	}
	return ts
}

func (c *Conv) MACs(k *Count, in []Shape, out Shape) int64 {
	filters, groups := c.resolved(in[0].C)
	return k.Mul(int64(filters), int64(in[0].C/groups), int64(c.KH), int64(c.KW), int64(out.H), int64(out.W))
}

func (c *Conv) State([]Shape, Shape) State { return State{} }

// Runtime is the layer's rt.Conv on an input of shape in, with the relu
// epilogue when relu.
func (c *Conv) Runtime(in, out Shape, relu bool) rt.Conv {
	filters, groups := c.resolved(in.C)
	return rt.Conv{C: in.C, H: in.H, W: in.W, K: filters, KH: c.KH, KW: c.KW, SH: c.SH, SW: c.SW,
		PH: c.PH, PW: c.PW, DH: c.DH, DW: c.DW, G: groups, OH: out.H, OW: out.W, ReLU: relu}
}

// geometry declares the rt.Conv of the layer, with the relu epilogue when
// relu, and returns its name, the scratch buffer and its value.
func (c *Conv) geometry(e Emitter, relu bool) (string, Code, rt.Conv) {
	r := c.Runtime(e.InShape(0), e.OutShape(), relu)
	g := e.Geometry("Conv", Field{"C", r.C}, Field{"H", r.H}, Field{"W", r.W}, Field{"K", r.K},
		Field{"KH", r.KH}, Field{"KW", r.KW}, Field{"SH", r.SH}, Field{"SW", r.SW}, Field{"PH", r.PH}, Field{"PW", r.PW},
		Field{"DH", r.DH}, Field{"DW", r.DW}, Field{"G", r.G}, Field{"OH", r.OH}, Field{"OW", r.OW}, Field{"ReLU", r.ReLU})
	return g, e.Scratch(jen.Id(g).Dot("ScratchSize").Call(jen.Id("mb"))), r
}

func (c *Conv) bias(e Emitter, grad bool) Code {
	switch {
	case !c.Bias:
		return jen.Nil()
	case grad:
		return e.Grad(1)
	}
	return e.Tensor(1)
}

// Forward is the training forward: by Winograd's algorithm where the
// geometry allows (rt.Conv.Winograd; the weights' transform is made in the
// scratch at each call, as they change every step).
func (c *Conv) Forward(e Emitter) []Code {
	g, sc, r := c.geometry(e, e.ReLU())
	if r.Winograd() {
		return []Code{jen.Id(g).Dot("ForwardWinograd").Call(e.N(), e.In(0), e.Tensor(0), jen.Nil(), c.bias(e, false), e.Out(), sc)}
	}
	return []Code{jen.Id(g).Dot("Forward").Call(e.N(), e.In(0), e.Tensor(0), c.bias(e, false), e.Out(), sc)}
}

func (c *Conv) Infer(e Emitter) []Code {
	g, sc, _ := c.geometry(e, e.ReLU())
	w, b, folded := e.Folded()
	if !folded {
		w, b = e.Tensor(0), c.bias(e, false)
	}
	if u, ok := e.Winograd(); ok {
		return []Code{jen.Id(g).Dot("ForwardWinograd").Call(e.N(), e.In(0), w, u, b, e.Out(), sc)}
	}
	return []Code{jen.Id(g).Dot("Forward").Call(e.N(), e.In(0), w, b, e.Out(), sc)}
}

// Refold is the code that brings the layer's Winograd weights up to date
// with its inference weights (after the bn folded into it), where the plan
// runs its inference by Winograd's algorithm (rt.Conv.Winograd); else
// nothing. The compiler writes it into the refold walk.
func (c *Conv) Refold(e Emitter) []Code {
	u, ok := e.Winograd()
	if !ok {
		return nil
	}
	g, _, _ := c.geometry(e, e.ReLU())
	w, _, folded := e.Folded()
	if !folded {
		w = e.Tensor(0)
	}
	return []Code{jen.Id(g).Dot("WinogradWeights").Call(w, u)}
}

func (c *Conv) Backward(e Emitter) []Code {
	g, sc, _ := c.geometry(e, e.ReLU())
	code := []Code{jen.Id(g).Dot("BackwardFilter").Call(e.N(), e.In(0), e.DOut(), e.Grad(0), c.bias(e, true), sc)}
	if e.NeedDIn(0) {
		code = append(code, jen.Id(g).Dot("BackwardData").Call(e.N(), e.DOut(), e.Tensor(0), e.DIn(0), sc))
	}
	return code
}

// ONNX: Conv, with the bias as its third input when there is one.
func (c *Conv) ONNX(x Exporter) {
	in := []string{x.In(0), x.Tensor(0)}
	if c.Bias {
		in = append(in, x.Tensor(1))
	}
	_, groups := c.resolved(x.InShape(0).C)
	attrs := append(windowAttrs(c.KH, c.KW, c.SH, c.SW, c.PH, c.PW),
		onnx.IntsAttr("dilations", int64(c.DH), int64(c.DW)), onnx.IntAttr("group", int64(groups)))
	x.Node("Conv", in, attrs...)
}
