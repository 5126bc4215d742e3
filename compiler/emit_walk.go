package compiler

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/op"
)

// This file writes the walks (inference forward, training forward,
// backward, refold), the loss, and the shared code of the block groups.

var passNames = [...]string{passForward: "Forward", passInfer: "Infer", passBackward: "Backward", passRefold: "Refold"}

// walks writes the four walks and scratchSize. The groups' code is written
// first (into e.groupDecls), so that their geometry and scratch are known.
func (e *emitter) walks() []jen.Code {
	for _, g := range e.groups {
		e.groupFuncs(g)
	}
	memory := jen.Id("m").Op("*").Add(op.RT("Memory"))
	withN := []jen.Code{memory, jen.Id("n").Int()}
	// Written in pass order, so that a layer's geometry is named after its
	// training form first (conv1, then conv1Infer).
	train := e.walkFunc("forwardTrain", "forwardTrain runs the network in training mode on the n images at the start of m.TAct,\n"+
		"keeping every output that backward needs.", passForward, withN)
	decls := []jen.Code{
		e.walkFunc("forwardInfer", "forwardInfer runs the network at inference on the n images at the start of m.Act:\n"+
			"bn folded, relu fused, dropout the identity, auxiliary heads absent.", passInfer, withN),
		train,
		e.walkFunc("backward", "backward runs every layer's backward in reverse order; the gradients of the outputs\nare in m.DAct.", passBackward, withN),
		e.walkFunc("refold", "refold folds every bn that follows a conv into the conv's inference weights and bias.", passRefold, []jen.Code{memory}),
	}
	sizes := append([]jen.Code{jen.Lit(1)}, e.scratch...)
	decls = append(decls, jen.Comment("scratchSize is the scratch every layer needs, for a maximum batch of mb images.").Line().
		Func().Id("scratchSize").Params(jen.Id("mb").Int()).Int().Block(jen.Return(jen.Max(sizes...))))
	return decls
}

// prologue declares the short names a walk's code uses.
func prologue(w *walk) []jen.Code {
	var names, values []jen.Code
	if w.uses["mb"] {
		names, values = append(names, jen.Id("mb")), append(values, jen.Id("m").Dot("MaxBatch"))
	}
	if w.uses["a"] {
		arena := "TAct"
		if w.pass == passInfer {
			arena = "Act"
		}
		names, values = append(names, jen.Id("a")), append(values, jen.Id("m").Dot(arena))
	}
	if w.uses["d"] {
		names, values = append(names, jen.Id("d")), append(values, jen.Id("m").Dot("DAct"))
	}
	if len(names) == 0 {
		return nil
	}
	return []jen.Code{jen.List(names...).Op(":=").List(values...)}
}

// walkFunc writes one walk: the top-level layers written out, the block
// instances as calls of their group's function.
func (e *emitter) walkFunc(name, doc string, p pass, params []jen.Code) jen.Code {
	w := &walk{e: e, pass: p, loc: constant{}, names: e.top, uses: map[string]bool{}}
	units := e.units
	if p == passBackward {
		units = make([]*unit, len(e.units))
		for i, u := range e.units {
			units[len(units)-1-i] = u
		}
	}
	var body []jen.Code
	for _, u := range units {
		if u.inst == "" {
			body = append(body, w.unitCode(u)...)
			continue
		}
		g := u.group
		if !g.funcs[p] {
			continue
		}
		args := []jen.Code{jen.Id("m")}
		if p != passRefold {
			args = append(args, jen.Id("n"))
		}
		if p == passForward {
			body = append(body, jen.Comment(e.instanceDoc(u)))
		}
		body = append(body, jen.Id(g.name+passNames[p]).Call(append(args, jen.Op("&").Id(u.ident))...))
	}
	return comment(doc).Line().Func().Id(name).Params(params...).Block(append(prologue(w), body...)...)
}

// instanceDoc is the comment of a block instance's call: its name, the
// block, where it is called, and its shapes.
func (e *emitter) instanceDoc(u *unit) string {
	first, last := u.steps[0], u.steps[len(u.steps)-1]
	c := first.L.Node.Calls[0]
	in := "?"
	if len(first.L.In) > 0 {
		in = first.L.In[0].String()
	}
	return fmt.Sprintf("%s: %s (%s:%d), %s -> %s", u.inst, c.Block, c.Pos.Filename, c.Pos.Line, in, last.L.Out)
}

// groupFuncs writes the offsets type, the instances and the functions of
// one group into e.groupDecls.
func (e *emitter) groupFuncs(g *group) {
	var insts []string
	for _, u := range g.units {
		insts = append(insts, u.inst)
	}
	u0 := g.units[0]
	first, last := u0.steps[0], u0.steps[len(u0.steps)-1]
	var decls []jen.Code
	decls = append(decls, comment(fmt.Sprintf("%s is the code of %d instance(s) of the block %s: %s; %s -> %s.\n"+
		"Each instance's place in the arenas is a %sOffsets.", g.name, len(g.units), u0.block, strings.Join(insts, ", "),
		first.L.In[0], last.L.Out, g.name)))
	var fields []jen.Code
	for _, f := range g.fields {
		fields = append(fields, jen.Id(f))
	}
	st := jen.Struct()
	if len(fields) > 0 {
		st = jen.Struct(jen.List(fields...).Int())
	}
	decls = append(decls, comment(g.name+"Offsets is the place of one instance of "+g.name+" in the arenas of rt.Memory:\n"+
		"t training activations and gradients, i inference activations, p parameters and gradients,\n"+
		"b buffers, f folded weights, s saved masks and scales, k argmax indices, x bn statistics.").Line().
		Type().Id(g.name+"Offsets").Add(st))
	var vars []jen.Code
	for _, u := range g.units {
		vars = append(vars, jen.Id(u.ident).Op("=").Add(g.instanceValue(u)))
	}
	decls = append(decls, jen.Var().Defs(vars...))
	for p := passForward; p <= passRefold; p++ {
		w := &walk{e: e, pass: p, loc: shared{g}, names: g.names, uses: map[string]bool{}}
		code := w.unitCode(u0)
		if len(code) == 0 {
			continue
		}
		g.funcs[p] = true
		params := []jen.Code{jen.Id("m").Op("*").Add(op.RT("Memory"))}
		if p != passRefold {
			params = append(params, jen.Id("n").Int())
		}
		params = append(params, jen.Id("o").Op("*").Id(g.name+"Offsets"))
		decls = append(decls, jen.Func().Id(g.name+passNames[p]).Params(params...).Block(append(prologue(w), code...)...))
	}
	w := &walk{e: e, pass: passForward, loc: shared{g}, names: g.names, uses: map[string]bool{}}
	if g.tensors = w.tensorRows(u0); len(g.tensors) > 0 {
		ts := jen.Index().Add(op.RT("TensorSpec"))
		decls = append(decls, jen.Func().Id(g.name+"Tensors").Params(jen.Id("t").Add(ts.Clone()), jen.Id("prefix").String(), jen.Id("o").Op("*").Id(g.name+"Offsets")).Add(ts).
			Block(jen.Return(jen.Append(jen.Id("t"), jen.Index().Add(op.RT("TensorSpec")).Values(append(g.tensors, jen.Line())...).Op("...")))))
	}
	e.groupDecls = append(e.groupDecls, decls...)
}

// mainStep is the step of the main output.
func (e *emitter) mainStep() *Step {
	for _, s := range e.p.Steps {
		if s.L.Node == e.p.Model.Net.Output {
			return s
		}
	}
	panic("compiler: no main output")
}

// logits is the step whose output the loss reads: the input of a final
// softmax, or the output itself.
func logits(s *Step) *Step {
	if _, sm := s.Op.(*op.Softmax); sm {
		return s.In[0]
	}
	return s
}

// loss writes the weighted softmax cross-entropy of the main output and of
// every auxiliary head, and its gradient.
func (e *emitter) loss() {
	if !e.p.Classifier {
		return
	}
	steps := []*Step{e.mainStep()}
	weights := []float64{1}
	for _, a := range e.p.Model.Net.Aux {
		for _, s := range e.p.Steps {
			if s.L.Node == a.Output {
				steps = append(steps, s)
				weights = append(weights, a.Weight)
			}
		}
	}
	fw := &walk{e: e, pass: passForward, loc: constant{}, names: e.top, uses: map[string]bool{}}
	bw := &walk{e: e, pass: passBackward, loc: constant{}, names: e.top, uses: map[string]bool{}}
	body := []jen.Code{jen.Var().Id("loss").Float32()}
	var back []jen.Code
	for i, s := range steps {
		sm := func() *jen.Statement {
			return op.RT("Softmax").Values(jen.Dict{jen.Id("Classes"): jen.Lit(s.L.Out.Size())})
		}
		lg := logits(s)
		// The probabilities go where the plan says (Step.Probs): the output's
		// buffer (a final softmax's, in place over the logits, or the logits
		// themselves) unless a backward reads it.
		w := func() *jen.Statement { return jen.Lit(float32(weights[i])) }
		body = append(body, jen.Comment(fmt.Sprintf("%s, weight %g", s.Ident, weights[i])),
			jen.Id("loss").Op("+=").Add(w()).Op("*").Add(sm()).Dot("Loss").Call(jen.Id("n"), fw.act(lg, false), jen.Id("labels"), fw.probs(s)))
		back = append(back, sm().Dot("LossBackward").Call(jen.Id("n"), bw.probs(s), jen.Id("labels"), w(), bw.act(lg, true)))
	}
	body = append(prologue(fw), append(body, jen.Return(jen.Id("loss")))...)
	params := []jen.Code{jen.Id("m").Op("*").Add(op.RT("Memory")), jen.Id("n").Int(), jen.Id("labels").Index().Int32()}
	e.doc("loss returns the cross-entropy of the main output plus each auxiliary head's times its\n" +
		"weight, and leaves each output's probabilities in its softmax's buffer (or in one of their\nown when a backward still reads the logits).")
	e.f.Func().Id("loss").Params(params...).Float32().Block(body...)
	e.f.Line()
	e.doc("lossBackward adds the gradient of loss to the logits' gradients.")
	e.f.Func().Id("lossBackward").Params(params...).Block(append(prologue(bw), back...)...)
	e.f.Line()
}

// probs is where the loss writes the probabilities of output s.
func (w *walk) probs(s *Step) *jen.Statement {
	return w.slice("a", famTrain, s.Probs.Off, s.Probs.Size)
}
