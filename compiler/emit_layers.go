package compiler

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/dsl"
)

// This file emits one layer: its geometry value, its forward and its
// backward, side by side. The function names follow the .cnn word:
// emitConv writes conv layers.

const rtPath = "github.com/cnnc-dev/cnnc/runtime"

func rt(name string) *jen.Statement { return jen.Qual(rtPath, name) }

// arena slices a per-image tensor region of a parameter arena: m.params[a:b].
func param(t *Tensor, grad bool) *jen.Statement {
	if t == nil {
		return jen.Nil()
	}
	arena := "params"
	switch {
	case t.Buffer:
		arena = "buffers"
	case grad:
		arena = "grads"
	}
	return jen.Id("m").Dot(arena).Index(jen.Lit(t.Off).Op(":").Lit(t.Off + t.Size))
}

// batchSlice slices a per-image buffer of an arena for n images:
// arena[off*mb : off*mb+n*size].
func batchSlice(arena string, b Buf, mb ...string) *jen.Statement {
	stride := "mb"
	if len(mb) > 0 {
		stride = mb[0]
	}
	if b.Off == 0 {
		return jen.Id(arena).Index(jen.Op(":").Id("n").Op("*").Lit(b.Size))
	}
	lo := jen.Lit(b.Off).Op("*").Id(stride)
	return jen.Id(arena).Index(lo.Clone().Op(":").Add(lo).Op("+").Id("n").Op("*").Lit(b.Size))
}

// savedSlice is a per-image region of one of the net's own arenas.
func savedSlice(arena string, off, size int) *jen.Statement {
	return batchSlice("m."+arena, Buf{Off: off, Size: size}, "m.maxBatch")
}

// fixedSlice is a batch-independent region of an arena.
func fixedSlice(arena string, off, size int) *jen.Statement {
	return jen.Id("m").Dot(arena).Index(jen.Lit(off).Op(":").Lit(off + size))
}

// layerDoc is the comment above a layer's functions: its name, the layer
// as written, where, and its shapes.
func layerDoc(s *Step) string {
	n := s.L.Node
	in := ""
	for i, sh := range s.L.In {
		if i > 0 {
			in += " + "
		}
		in += ShapeString(sh)
	}
	where := fmt.Sprintf("%s:%d", n.Pos.Filename, n.Pos.Line)
	if s.L.Implied {
		where = "implied by the residual at " + where
	}
	return fmt.Sprintf("%s: %s (%s), %s -> %s.", s.Ident, n.Text, where, in, ShapeString(s.L.Out))
}

// emitLayer appends the geometry values and methods of one layer.
func (e *emitter) emitLayer(s *Step) {
	switch s.L.Node.Op {
	case dsl.OpInput:
	case dsl.OpConv:
		e.emitConv(s)
	case dsl.OpFC:
		e.emitFC(s)
	case dsl.OpMaxPool:
		e.emitMaxPool(s)
	case dsl.OpAvgPool:
		e.emitAvgPool(s)
	case dsl.OpGAP:
		e.emitGAP(s)
	case dsl.OpLRN:
		e.emitLRN(s)
	case dsl.OpBN:
		e.emitBN(s)
	case dsl.OpReLU:
		e.emitReLU(s)
	case dsl.OpDropout:
		e.emitDropout(s)
	case dsl.OpSoftmax:
		e.emitSoftmax(s)
	case dsl.OpConcat:
		e.emitConcat(s)
	case dsl.OpAdd:
		e.emitAdd(s)
	}
}

// field is one field of a geometry literal; fields keep the order the
// runtime declares them in (C, H, W before K...), which jen.Dict would sort.
type field struct {
	name  string
	value any
}

func (e *emitter) geometry(name, typ string, fields []field) {
	var vs []jen.Code
	for _, f := range fields {
		vs = append(vs, jen.Id(f.name).Op(":").Lit(f.value))
	}
	e.geo = append(e.geo, jen.Id(name).Op("=").Add(rt(typ)).Values(vs...))
}

func (e *emitter) method(name, doc string, params []jen.Code, body ...jen.Code) {
	if doc != "" {
		e.doc(doc)
	}
	e.f.Func().Params(jen.Id("m").Op("*").Id("Net")).Id(name).Params(append([]jen.Code{jen.Id("n").Int()}, params...)...).Block(body...)
	e.f.Line()
}

func xy() []jen.Code { return []jen.Code{jen.List(jen.Id("x"), jen.Id("y")).Index().Float32()} }
func xdydx() []jen.Code {
	return []jen.Code{jen.List(jen.Id("x"), jen.Id("dy"), jen.Id("dx")).Index().Float32()}
}

func convFields(s *Step, relu bool) []field {
	c, in, out := s.L.Node.Conv, s.L.In[0], s.L.Out
	return []field{{"C", in.C}, {"H", in.H}, {"W", in.W}, {"K", c.Filters}, {"KH", c.KH}, {"KW", c.KW},
		{"SH", c.SH}, {"SW", c.SW}, {"PH", c.PH}, {"PW", c.PW}, {"DH", c.DH}, {"DW", c.DW}, {"G", c.Groups},
		{"OH", out.H}, {"OW", out.W}, {"ReLU", relu}}
}

func (e *emitter) emitConv(s *Step) {
	id := s.Ident
	e.geometry(id, "Conv", convFields(s, s.Fused))
	e.scratch = append(e.scratch, jen.Id(id).Dot("ScratchSize").Call(jen.Id("mb")))
	e.method(id+"Forward", layerDoc(s), xy(),
		jen.Id(id).Dot("Forward").Call(jen.Id("n"), jen.Id("x"), param(s.W, false), param(s.B, false), jen.Id("y"), jen.Id("m").Dot("scratch")))
	if s.Folds != nil || s.InfFused != s.Fused {
		w, b := param(s.W, false), param(s.B, false)
		doc := id + "Infer is " + id + " at inference"
		if s.Folds != nil {
			w = fixedSlice("fold", s.FoldOff, s.W.Size)
			b = fixedSlice("fold", s.FoldOff+s.W.Size, s.L.Out.C)
			doc += ", with " + s.Folds.Ident + " folded into its weights and bias"
		}
		if s.InfFused {
			doc += ", relu fused"
		}
		e.geometry(id+"Infer", "Conv", convFields(s, s.InfFused))
		e.scratch = append(e.scratch, jen.Id(id+"Infer").Dot("ScratchSize").Call(jen.Id("mb")))
		e.method(id+"Infer", doc+".", xy(),
			jen.Id(id+"Infer").Dot("Forward").Call(jen.Id("n"), jen.Id("x"), w, b, jen.Id("y"), jen.Id("m").Dot("scratch")))
	}
	e.method(id+"Backward", "", xdydx(),
		jen.Id(id).Dot("BackwardFilter").Call(jen.Id("n"), jen.Id("x"), jen.Id("dy"), param(s.W, true), param(s.B, true), jen.Id("m").Dot("scratch")),
		jen.If(jen.Id("dx").Op("!=").Nil()).Block(
			jen.Id(id).Dot("BackwardData").Call(jen.Id("n"), jen.Id("dy"), param(s.W, false), jen.Id("dx"), jen.Id("m").Dot("scratch"))))
}

func (e *emitter) emitFC(s *Step) {
	id := s.Ident
	dict := func(relu bool) []field {
		return []field{{"In", size(s.L.In[0])}, {"Out", s.L.Node.Units}, {"ReLU", relu}}
	}
	e.geometry(id, "FC", dict(s.Fused))
	e.method(id+"Forward", layerDoc(s), xy(),
		jen.Id(id).Dot("Forward").Call(jen.Id("n"), jen.Id("x"), param(s.W, false), param(s.B, false), jen.Id("y")))
	if s.InfFused != s.Fused {
		e.geometry(id+"Infer", "FC", dict(s.InfFused))
		e.method(id+"Infer", id+"Infer is "+id+" at inference, relu fused.", xy(),
			jen.Id(id+"Infer").Dot("Forward").Call(jen.Id("n"), jen.Id("x"), param(s.W, false), param(s.B, false), jen.Id("y")))
	}
	e.method(id+"Backward", "", xdydx(),
		jen.Id(id).Dot("BackwardFilter").Call(jen.Id("n"), jen.Id("x"), jen.Id("dy"), param(s.W, true), param(s.B, true)),
		jen.If(jen.Id("dx").Op("!=").Nil()).Block(
			jen.Id(id).Dot("BackwardData").Call(jen.Id("n"), jen.Id("dy"), param(s.W, false), jen.Id("dx"))))
}

func poolFields(s *Step) []field {
	p, in, out := s.L.Node.Pool, s.L.In[0], s.L.Out
	return []field{{"C", in.C}, {"H", in.H}, {"W", in.W}, {"KH", p.KH}, {"KW", p.KW}, {"SH", p.SH}, {"SW", p.SW},
		{"PH", p.PH}, {"PW", p.PW}, {"Ceil", p.Ceil}, {"OH", out.H}, {"OW", out.W}}
}

func (e *emitter) emitMaxPool(s *Step) {
	id := s.Ident
	e.geometry(id, "MaxPool", poolFields(s))
	argmax := savedSlice("argmax", s.Argmax, size(s.L.Out))
	e.method(id+"Forward", layerDoc(s), xy(),
		jen.Id(id).Dot("Forward").Call(jen.Id("n"), jen.Id("x"), jen.Id("y"), argmax))
	e.method(id+"Infer", id+"Infer takes the maxima without their positions.", xy(),
		jen.Id(id).Dot("Forward").Call(jen.Id("n"), jen.Id("x"), jen.Id("y"), jen.Nil()))
	e.method(id+"Backward", "", xdydx(),
		jen.Id(id).Dot("Backward").Call(jen.Id("n"), jen.Id("dy"), argmax.Clone(), jen.Id("dx")))
}

func (e *emitter) emitAvgPool(s *Step) {
	id := s.Ident
	e.geometry(id, "AvgPool", poolFields(s))
	e.method(id+"Forward", layerDoc(s), xy(), jen.Id(id).Dot("Forward").Call(jen.Id("n"), jen.Id("x"), jen.Id("y")))
	e.method(id+"Backward", "", xdydx(), jen.Id(id).Dot("Backward").Call(jen.Id("n"), jen.Id("dy"), jen.Id("dx")))
}

func (e *emitter) emitGAP(s *Step) {
	id, in := s.Ident, s.L.In[0]
	e.geometry(id, "GAP", []field{{"C", in.C}, {"H", in.H}, {"W", in.W}})
	e.method(id+"Forward", layerDoc(s), xy(), jen.Id(id).Dot("Forward").Call(jen.Id("n"), jen.Id("x"), jen.Id("y")))
	e.method(id+"Backward", "", xdydx(), jen.Id(id).Dot("Backward").Call(jen.Id("n"), jen.Id("dy"), jen.Id("dx")))
}

func (e *emitter) emitLRN(s *Step) {
	id, in, l := s.Ident, s.L.In[0], s.L.Node.LRN
	e.geometry(id, "LRN", []field{{"C", in.C}, {"H", in.H}, {"W", in.W}, {"Size", l.Size},
		{"Alpha", float32(l.Alpha)}, {"Beta", float32(l.Beta)}, {"K", float32(l.K)}})
	e.scratch = append(e.scratch, jen.Id(id).Dot("ScratchSize").Call())
	scale := savedSlice("saved", s.Saved, size(s.L.Out))
	e.method(id+"Forward", layerDoc(s), xy(),
		jen.Id(id).Dot("Forward").Call(jen.Id("n"), jen.Id("x"), jen.Id("y"), scale, jen.Id("m").Dot("scratch")))
	e.method(id+"Backward", id+"Backward needs the output y of the forward pass.",
		[]jen.Code{jen.List(jen.Id("x"), jen.Id("y"), jen.Id("dy"), jen.Id("dx")).Index().Float32()},
		jen.Id(id).Dot("Backward").Call(jen.Id("n"), jen.Id("x"), jen.Id("y"), scale.Clone(), jen.Id("dy"), jen.Id("dx"), jen.Id("m").Dot("scratch")))
}

func (e *emitter) emitBN(s *Step) {
	id, out := s.Ident, s.L.Out
	e.geometry(id, "BN", []field{{"C", out.C}, {"H", out.H}, {"W", out.W}, {"Eps", float32(1e-5)}, {"Momentum", float32(0.1)}})
	mean := fixedSlice("savedFix", s.SavedFix, out.C)
	invStd := fixedSlice("savedFix", s.SavedFix+out.C, out.C)
	e.method(id+"Forward", layerDoc(s)+" Training: batch statistics, running statistics updated.", xy(),
		jen.Id(id).Dot("ForwardTrain").Call(jen.Id("n"), jen.Id("x"), jen.Id("y"), param(s.W, false), param(s.B, false),
			param(s.Mean, false), param(s.Var, false), mean, invStd))
	if s.Fold == nil {
		e.method(id+"Infer", id+"Infer uses the running statistics.", xy(),
			jen.Id(id).Dot("ForwardInfer").Call(jen.Id("n"), jen.Id("x"), jen.Id("y"), param(s.W, false), param(s.B, false),
				param(s.Mean, false), param(s.Var, false)))
	}
	e.method(id+"Backward", "", xdydx(),
		jen.Id(id).Dot("Backward").Call(jen.Id("n"), jen.Id("x"), jen.Id("dy"), param(s.W, false), mean.Clone(), invStd.Clone(),
			jen.Id("dx"), param(s.W, true), param(s.B, true)))
}

// In-place ops: when Alias, x and y (dx and dy) are the same buffer.

func (e *emitter) emitReLU(s *Step) {
	id := s.Ident
	fwd := []jen.Code{rt("ReluForward").Call(jen.Id("y"))}
	bwd := []jen.Code{rt("ReluBackward").Call(jen.Id("y"), jen.Id("dy"))}
	if !s.Alias {
		fwd = append([]jen.Code{jen.Copy(jen.Id("y"), jen.Id("x"))}, fwd...)
		bwd = append(bwd, rt("Accumulate").Call(jen.Id("dx"), jen.Id("dy")))
	}
	doc := layerDoc(s)
	if s.Skip {
		doc += " Its forward runs in " + s.In[0].Ident + "'s epilogue."
	} else {
		e.method(id+"Forward", doc, xy(), fwd...)
		doc = ""
	}
	e.method(id+"Backward", doc, []jen.Code{jen.List(jen.Id("y"), jen.Id("dy"), jen.Id("dx")).Index().Float32()}, bwd...)
}

func (e *emitter) emitDropout(s *Step) {
	id := s.Ident
	mask := savedSlice("saved", s.Saved, size(s.L.Out))
	e.geometry(id, "Dropout", []field{{"P", float32(s.L.Node.Dropout)}})
	var fwd []jen.Code
	if !s.Alias {
		fwd = append(fwd, jen.Copy(jen.Id("y"), jen.Id("x")))
	}
	fwd = append(fwd, jen.If(jen.Id("m").Dot("frozenMasks")).Block(
		jen.Id(id).Dot("Backward").Call(jen.Id("y"), mask),
		jen.Return(),
	), jen.Id(id).Dot("Forward").Call(jen.Id("y"), mask.Clone(), jen.Id("m").Dot("rng"), jen.True()))
	e.method(id+"Forward", layerDoc(s)+" Training only; the mask is kept for backward (or reused when frozen).", xy(), fwd...)
	bwd := []jen.Code{jen.Id(id).Dot("Backward").Call(jen.Id("dy"), mask.Clone())}
	if !s.Alias {
		bwd = append(bwd, rt("Accumulate").Call(jen.Id("dx"), jen.Id("dy")))
	}
	e.method(id+"Backward", "", []jen.Code{jen.List(jen.Id("dy"), jen.Id("dx")).Index().Float32()}, bwd...)
}

func (e *emitter) emitSoftmax(s *Step) {
	id := s.Ident
	e.geometry(id, "Softmax", []field{{"Classes", size(s.L.Out)}})
	e.method(id+"Forward", layerDoc(s)+" At inference; in training the loss computes it.", xy(),
		jen.Id(id).Dot("Forward").Call(jen.Id("n"), jen.Id("x"), jen.Id("y")))
}

func (e *emitter) emitConcat(s *Step) {
	id, out := s.Ident, s.L.Out
	hw := out.H * out.W
	off := 0
	var fwd, bwd []jen.Code
	var params []jen.Code
	var xs, dxs []jen.Code
	for i, in := range s.L.In {
		x, dx := fmt.Sprintf("x%d", i), fmt.Sprintf("dx%d", i)
		xs, dxs = append(xs, jen.Id(x)), append(dxs, jen.Id(dx))
		g := fmt.Sprintf("%s_%d", id, i)
		e.geometry(g, "Concat", []field{{"C", in.C}, {"Total", out.C}, {"Off", off}, {"HW", hw}})
		fwd = append(fwd, jen.Id(g).Dot("Forward").Call(jen.Id("n"), jen.Id(x), jen.Id("y")))
		bwd = append(bwd, jen.Id(g).Dot("Backward").Call(jen.Id("n"), jen.Id("dy"), jen.Id(dx)))
		off += in.C
	}
	params = append(params, jen.List(append(xs, jen.Id("y"))...).Index().Float32())
	e.method(id+"Forward", layerDoc(s), params, fwd...)
	e.method(id+"Backward", "", []jen.Code{jen.List(append([]jen.Code{jen.Id("dy")}, dxs...)...).Index().Float32()}, bwd...)
}

func (e *emitter) emitAdd(s *Step) {
	id := s.Ident
	e.method(id+"Forward", layerDoc(s)+" The residual sum h(x) = f(x) + x.",
		[]jen.Code{jen.List(jen.Id("a"), jen.Id("b"), jen.Id("y")).Index().Float32()},
		rt("AddForward").Call(jen.Id("a"), jen.Id("b"), jen.Id("y")))
	e.method(id+"Backward", "", []jen.Code{jen.List(jen.Id("dy"), jen.Id("da"), jen.Id("db")).Index().Float32()},
		rt("AddBackward").Call(jen.Id("dy"), jen.Id("da"), jen.Id("db")))
}
