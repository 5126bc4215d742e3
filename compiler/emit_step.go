package compiler

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/op"
)

// This file is the op.Emitter an op writes its calls with: the
// expressions of one step's buffers, tensors and state in the function
// being written, at the offsets its locator gives.

// family is an arena of offsets: offsets of one family can be shared by
// the instances of a block (see emit_group.go).
type family byte

// The families: per-image arenas (their offsets times the maximum batch)
// and per-network ones.
const (
	famTrain  family = 't' // training activations and their gradients (TAct, DAct)
	famInfer  family = 'i' // inference activations (Act)
	famSaved  family = 's' // dropout masks and lrn scales (Saved)
	famArgmax family = 'k' // max pool argmax indices (Argmax)
	famParams family = 'p' // parameters and their gradients (Params, Grads)
	famBuffer family = 'b' // bn running statistics (Buffers)
	famFold   family = 'f' // folded conv weights and biases (Fold)
	famFixed  family = 'x' // bn batch mean and 1/std (Fixed)
)

func (f family) perImage() bool {
	return f == famTrain || f == famInfer || f == famSaved || f == famArgmax
}

// offset is an offset as generated code writes it: a constant (base ""),
// or a field of the instance's offsets plus a constant.
type offset struct {
	base  string
	delta int
}

func (o offset) plus(k int) offset { return offset{o.base, o.delta + k} }

func (o offset) code() *jen.Statement {
	switch {
	case o.base == "":
		return jen.Lit(o.delta)
	case o.delta == 0:
		return jen.Id("o").Dot(o.base)
	}
	return jen.Id("o").Dot(o.base).Op("+").Lit(o.delta)
}

// locator turns an arena offset of the plan into the offset the code
// writes.
type locator interface {
	at(f family, off int) offset
}

// constant is the locator of code written for one layer: offsets are
// constants.
type constant struct{}

func (constant) at(_ family, off int) offset { return offset{delta: off} }

// pass is the walk being written.
type pass int

const (
	passForward  pass = iota // training forward
	passInfer                // inference forward
	passBackward             // backward
	passRefold               // bn folded into convs for inference
)

// walk is the function being written: its pass, its locator, and the
// local names its code uses.
type walk struct {
	e     *emitter
	pass  pass
	loc   locator
	names *names // geometry names of this walk's layers
	uses  map[string]bool
}

// slice is arena[lo:hi] of a per-image buffer for n images, or of a
// per-network region.
func (w *walk) slice(arena string, f family, off, size int) *jen.Statement {
	o := w.loc.at(f, off)
	if !f.perImage() {
		return jen.Id("m").Dot(arena).Index(o.code().Op(":").Add(o.plus(size).code()))
	}
	if arena == "a" || arena == "d" {
		w.uses[arena] = true
	} else {
		arena = "m." + arena
	}
	if o.base == "" && o.delta == 0 {
		return jen.Id(arena).Index(jen.Op(":").Id("n").Op("*").Lit(size))
	}
	w.uses["mb"] = true
	lo := func() *jen.Statement {
		if o.base != "" && o.delta != 0 {
			return jen.Parens(o.code()).Op("*").Id("mb")
		}
		return o.code().Op("*").Id("mb")
	}
	return jen.Id(arena).Index(lo().Op(":").Add(lo()).Op("+").Id("n").Op("*").Lit(size))
}

// act is a step's output buffer (activation or gradient) in this walk's
// layout.
func (w *walk) act(s *Step, grad bool) *jen.Statement {
	if w.pass == passInfer {
		return w.slice("a", famInfer, s.Inf.Off, s.Inf.Size)
	}
	arena := "a"
	if grad {
		arena = "d"
	}
	return w.slice(arena, famTrain, s.Out.Off, s.Out.Size)
}

// tensor is a parameter, buffer or gradient.
func (w *walk) tensor(s *Step, i int, grad bool) *jen.Statement {
	t := s.Tensors[i]
	switch {
	case t.Buffer:
		return w.slice("Buffers", famBuffer, t.Off, t.Size())
	case grad:
		return w.slice("Grads", famParams, t.Off, t.Size())
	}
	return w.slice("Params", famParams, t.Off, t.Size())
}

// stepEmitter is op.Emitter for one step in one walk.
type stepEmitter struct {
	w    *walk
	s    *Step
	name string // the layer's identifier in the walk: conv1, or a block's local conv1
}

var _ op.Emitter = stepEmitter{}

func (e stepEmitter) Name() string           { return e.name }
func (e stepEmitter) N() op.Code             { return jen.Id("n") }
func (e stepEmitter) NumIn() int             { return len(e.s.In) }
func (e stepEmitter) InShape(i int) op.Shape { return e.s.L.In[i] }
func (e stepEmitter) OutShape() op.Shape     { return e.s.L.Out }
func (e stepEmitter) In(i int) op.Code       { return e.w.act(e.s.In[i], false) }
func (e stepEmitter) Out() op.Code           { return e.w.act(e.s, false) }
func (e stepEmitter) DIn(i int) op.Code      { return e.w.act(e.s.In[i], true) }
func (e stepEmitter) DOut() op.Code          { return e.w.act(e.s, true) }
func (e stepEmitter) NeedDIn(i int) bool     { _, in := e.s.In[i].Op.(*op.Input); return !in }
func (e stepEmitter) Tensor(i int) op.Code   { return e.w.tensor(e.s, i, false) }
func (e stepEmitter) Grad(i int) op.Code     { return e.w.tensor(e.s, i, true) }
func (e stepEmitter) RNG() op.Code           { return jen.Id("m").Dot("RNG") }
func (e stepEmitter) Frozen() op.Code        { return jen.Id("m").Dot("Frozen") }
func (e stepEmitter) Alias() bool            { return e.s.Alias }

func (e stepEmitter) Saved() op.Code {
	return e.w.slice("Saved", famSaved, e.s.Saved, e.s.State.Saved)
}

func (e stepEmitter) Argmax() op.Code {
	return e.w.slice("Argmax", famArgmax, e.s.Argmax, e.s.State.Argmax)
}

func (e stepEmitter) Fixed(off, size int) op.Code {
	return e.w.slice("Fixed", famFixed, e.s.Fixed+off, size)
}

func (e stepEmitter) ReLU() bool {
	if e.w.pass == passInfer || e.w.pass == passRefold {
		return e.s.InfFused
	}
	return e.s.Fused
}

func (e stepEmitter) Folded() (w, b op.Code, ok bool) {
	if (e.w.pass != passInfer && e.w.pass != passRefold) || e.s.Folds == nil {
		return nil, nil, false
	}
	ws := e.s.Tensors[0].Size()
	return e.w.slice("Fold", famFold, e.s.FoldOff, ws), e.w.slice("Fold", famFold, e.s.FoldOff+ws, e.s.L.Out.C), true
}

func (e stepEmitter) Winograd() (u op.Code, ok bool) {
	if (e.w.pass != passInfer && e.w.pass != passRefold) || e.s.Wino == 0 {
		return nil, false
	}
	return e.w.slice("Fold", famFold, e.s.WinoOff, e.s.Wino), true
}

func (e stepEmitter) Geometry(typ string, fields ...op.Field) string {
	return e.w.names.geometry(e.name, e.w.pass, typ, fields)
}

func (e stepEmitter) Scratch(size op.Code) op.Code {
	if e.w.e != nil { // not while a block's code is only compared
		e.w.e.scratchOf(size)
	}
	return jen.Id("m").Dot("Scratch")
}

// geometryLit is the literal of a runtime geometry value: rt.Conv{C: 3, ...}.
func geometryLit(typ string, fields []op.Field) *jen.Statement {
	var vs []jen.Code
	for _, f := range fields {
		vs = append(vs, jen.Id(f.Name).Op(":").Lit(f.Value))
	}
	return op.RT(typ).Values(vs...)
}

// names gives the geometry values of the layers of one scope (the top
// level, or a block's shared code) their names: the layer's identifier
// for its first geometry, then <id>Infer for a different one at inference,
// <id>_1, <id>_2 ... for more (concat's inputs). Equal literals share a
// name.
type names struct {
	prefix string            // a block's shared code: bottleneck2_
	decls  map[string]string // name -> literal
	byLit  map[string]string // layer and literal -> name
	order  []geoDecl
	e      *emitter
}

type geoDecl struct {
	name string
	lit  *jen.Statement
}

func (ns *names) geometry(layer string, p pass, typ string, fields []op.Field) string {
	lit := geometryLit(typ, fields)
	text := fmt.Sprintf("%#v", lit)
	base := ns.prefix + layer
	if name, ok := ns.byLit[base+" "+text]; ok {
		return name
	}
	cands := []string{base}
	if p == passInfer {
		cands = append(cands, base+"Infer")
	}
	for k := 1; ; k++ {
		for _, name := range cands {
			if _, ours := ns.decls[name]; !ours && (ns.e == nil || ns.e.claimFor(name, layer)) {
				ns.decls[name] = text
				ns.byLit[base+" "+text] = name
				ns.order = append(ns.order, geoDecl{name, lit})
				return name
			}
		}
		cands = []string{fmt.Sprintf("%s_%d", base, k)}
	}
}
