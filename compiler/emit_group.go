package compiler

import (
	"fmt"
	"go/token"
	"sort"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc-dev/cnnc/op"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Generated code grows with what is distinct in a network, not with its
// depth. The walks are written unit by unit: a unit is a layer at the top
// level, written out in the walk with constant offsets, or a block
// instance (the layers of one top-level call of a block: its implied
// projections and aux heads included), written as a call of its group's
// function. Instances whose code is the same but for the offsets of their
// buffers, tensors and state form a group: ResNet-152's 50 bottlenecks are
// eight groups. A group's functions take the instance's offsets (a small
// struct, one var per instance); every shape stays a constant.
//
// How instances are found to be the same: each instance's code is written
// once with its offsets replaced by placeholders, numbered per arena
// family in order of first use (equal offsets, one placeholder); instances
// whose code is then identical (text, geometry literals and placeholder
// pattern) share a group. In a group, a placeholder whose difference to an
// earlier one of its family is the same in every instance is written as
// that one plus a constant, so that the offsets struct holds only the bases
// (a block's parameters are contiguous: one base).

// unit is a top-level layer or a block instance.
type unit struct {
	steps []*Step
	inst  string // the block instance, layer1.1; "" at the top level
	ident string // the Go name of the instance's offsets: layer1_1
	block string
	group *group
	vals  map[family][]int       // the offset of each placeholder
	key   map[family]map[int]int // offset -> placeholder
}

// group is the instances that share their code.
type group struct {
	name    string // bottleneck2: the block's name and a number
	units   []*unit
	fold    map[family][]offset // placeholder -> base field + delta
	bases   map[family][]int    // the placeholder of each base field
	fields  []string            // the offsets struct's fields: t0, p0 ...
	names   *names              // its geometry values: bottleneck2_conv1 ...
	funcs   [4]bool             // which passes have code
	tensors []jen.Code          // its tensors' rows
}

// placeholders is the locator of an instance's code while instances are
// compared.
type placeholders struct{ u *unit }

func (p placeholders) at(f family, off int) offset {
	if p.u.key[f] == nil {
		p.u.key[f] = map[int]int{}
	}
	k, ok := p.u.key[f][off]
	if !ok {
		k = len(p.u.vals[f])
		p.u.key[f][off] = k
		p.u.vals[f] = append(p.u.vals[f], off)
	}
	return offset{base: fmt.Sprintf("%c%d", f, k)}
}

// shared is the locator of a group's code: the first instance's offsets
// mapped to the fields of the offsets struct.
type shared struct{ g *group }

func (s shared) at(f family, off int) offset {
	return s.g.fold[f][s.g.units[0].key[f][off]]
}

// units splits the plan's steps into units.
func (e *emitter) unitsOf() []*unit {
	var us []*unit
	for _, s := range e.p.Steps {
		n := s.L.Node
		if len(n.Calls) == 0 {
			us = append(us, &unit{steps: []*Step{s}})
			continue
		}
		c := n.Calls[0]
		if last := us[len(us)-1]; last.inst == c.Instance && last.inst != "" {
			last.steps = append(last.steps, s)
			continue
		}
		us = append(us, &unit{steps: []*Step{s}, inst: c.Instance, block: c.Block})
	}
	return us
}

// localName is a step's identifier inside its instance: conv1,
// shortcut1_conv1.
func localName(u *unit, s *Step) string {
	id := strings.ReplaceAll(strings.TrimPrefix(s.L.Node.Name, u.inst+"."), ".", "_")
	id = strings.ReplaceAll(id, "-", "_")
	if token.IsKeyword(id) || predeclared[id] {
		id += "_"
	}
	return id
}

// signature writes an instance's code with placeholders and returns it as
// text.
func (e *emitter) signature(u *unit) string {
	u.vals, u.key = map[family][]int{}, map[family]map[int]int{}
	ns := &names{prefix: "G_", decls: map[string]string{}, byLit: map[string]string{}}
	var b strings.Builder
	for p := passForward; p <= passRefold; p++ {
		w := &walk{pass: p, loc: placeholders{u}, names: ns, uses: map[string]bool{}}
		for _, code := range w.unitCode(u) {
			fmt.Fprintf(&b, "%#v\n", code)
		}
		b.WriteString("--\n")
	}
	for _, d := range ns.order {
		fmt.Fprintf(&b, "%s = %#v\n", d.name, d.lit)
	}
	w := &walk{pass: passForward, loc: placeholders{u}, names: ns, uses: map[string]bool{}}
	for _, row := range w.tensorRows(u) {
		fmt.Fprintf(&b, "%#v\n", row)
	}
	return b.String()
}

// groups finds the groups of the block instances, in order of first use.
func (e *emitter) groupsOf(us []*unit) []*group {
	var gs []*group
	bySig := map[string]*group{}
	count := map[string]int{}
	for _, u := range us {
		if u.inst == "" {
			continue
		}
		sig := e.signature(u)
		g := bySig[sig]
		if g == nil {
			g = &group{name: e.groupName(u.block + letters(count[u.block]))}
			count[u.block]++
			g.names = &names{prefix: g.name + "_", decls: map[string]string{}, byLit: map[string]string{}, e: e}
			bySig[sig] = g
			gs = append(gs, g)
		}
		g.units = append(g.units, u)
		u.group = g
		u.ident = e.unique(strings.NewReplacer(".", "_", "-", "_").Replace(u.inst))
	}
	for _, g := range gs {
		g.foldOffsets()
	}
	return gs
}

// unique claims name, or name with underscores appended.
func (e *emitter) unique(name string) string {
	for !e.claim(name) {
		name += "_"
	}
	return name
}

// groupName claims a group's name and the names derived from it.
func (e *emitter) groupName(base string) string {
	for name := base; ; name += "_" {
		derived := []string{name, name + "Forward", name + "Infer", name + "Backward", name + "Refold", name + "Offsets", name + "Tensors"}
		free := true
		for _, d := range derived {
			free = free && !e.used[d] && !e.layers[d]
		}
		if free {
			for _, d := range derived {
				e.used[d] = true
			}
			return name
		}
	}
}

// foldOffsets writes each placeholder as an earlier base of its family
// plus a constant where the difference is the same in every instance, and
// makes it a base (a field of the offsets struct) otherwise.
func (g *group) foldOffsets() {
	u0 := g.units[0]
	g.fold, g.bases = map[family][]offset{}, map[family][]int{}
	var fams []family
	for f := range u0.vals {
		fams = append(fams, f)
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i] < fams[j] })
	for _, f := range fams {
		for k := range u0.vals[f] {
			o, ok := g.onBase(f, k)
			if !ok {
				o = offset{base: fmt.Sprintf("%c%d", f, len(g.bases[f]))}
				g.bases[f] = append(g.bases[f], k)
				g.fields = append(g.fields, o.base)
			}
			g.fold[f] = append(g.fold[f], o)
		}
	}
}

// onBase finds a base of family f whose difference to placeholder k is the
// same in every instance.
func (g *group) onBase(f family, k int) (offset, bool) {
	for j, b := range g.bases[f] {
		d := g.units[0].vals[f][k] - g.units[0].vals[f][b]
		same := true
		for _, u := range g.units[1:] {
			same = same && u.vals[f][k]-u.vals[f][b] == d
		}
		if same {
			return offset{fmt.Sprintf("%c%d", f, j), d}, true
		}
	}
	return offset{}, false
}

// instanceValue is the offsets struct literal of one instance, on one
// line.
func (g *group) instanceValue(u *unit) jen.Code {
	var vs []jen.Code
	for _, field := range g.fields {
		f := family(field[0])
		var j int
		fmt.Sscanf(field[1:], "%d", &j)
		vs = append(vs, jen.Id(field).Op(":").Lit(u.vals[f][g.bases[f][j]]))
	}
	return jen.Id(g.name + "Offsets").Values(vs...)
}

// letters numbers the groups of a block: A, B, ... Z, AA, AB ...
func letters(k int) string {
	s := string(rune('A' + k%26))
	if k >= 26 {
		return letters(k/26-1) + s
	}
	return s
}

// unitCode is the code of a unit's layers in the walk's pass (backward in
// reverse order).
func (w *walk) unitCode(u *unit) []jen.Code {
	var code []jen.Code
	steps := u.steps
	if w.pass == passBackward {
		steps = make([]*Step, len(u.steps))
		for i, s := range u.steps {
			steps[len(steps)-1-i] = s
		}
	}
	for _, s := range steps {
		name := s.Ident
		if u.inst != "" {
			name = localName(u, s)
		}
		code = append(code, w.stepCode(s, name)...)
	}
	return code
}

// stepCode is one layer's code in the walk's pass.
func (w *walk) stepCode(s *Step, name string) []jen.Code {
	e := stepEmitter{w: w, s: s, name: name}
	if _, in := s.Op.(*op.Input); in {
		return nil
	}
	switch w.pass {
	case passForward:
		doc := jen.Comment(layerDoc(s, name))
		if s.Skip {
			return []jen.Code{doc, jen.Comment(name + ": in the epilogue of the " + s.In[0].Op.Kind().Word + " before it")}
		}
		return append([]jen.Code{doc}, s.Op.Forward(e)...)
	case passInfer:
		switch {
		case s.Aux:
			return nil
		case s.Fold != nil:
			return op.Comment(name + ": folded into the conv before it")
		case s.InfSkip && isReLU(s):
			return op.Comment(name + ": in the epilogue of the conv or fc before it")
		case s.InfSkip:
			return op.Comment(name + ": the identity at inference")
		}
		return s.Op.Infer(e)
	case passBackward:
		need := len(s.Tensors) > 0
		for i := range s.In {
			need = need || e.NeedDIn(i)
		}
		if !need {
			return nil
		}
		return s.Op.Backward(e)
	}
	code := w.refold(s)
	if c, ok := s.Op.(*op.Conv); ok && !s.Aux {
		code = append(code, c.Refold(e)...)
	}
	return code
}

// refold is the inference weights and bias of a conv with a bn folded in
// (the conv's Refold then brings its Winograd weights up to date).
func (w *walk) refold(s *Step) []jen.Code {
	if s.Folds == nil || s.Aux {
		return nil
	}
	bn := s.Folds
	ws := s.Tensors[0].Size()
	fw := func() jen.Code { return w.slice("Fold", famFold, s.FoldOff, ws) }
	fb := func() jen.Code { return w.slice("Fold", famFold, s.FoldOff+ws, s.L.Out.C) }
	code := []jen.Code{jen.Copy(fw(), w.tensor(s, 0, false))}
	if len(s.Tensors) > 1 {
		code = append(code, jen.Copy(fb(), w.tensor(s, 1, false)))
	} else {
		code = append(code, jen.Clear(fb()))
	}
	return append(code, op.RT("FoldBN").Call(fw(), fb(), w.tensor(bn, 0, false), w.tensor(bn, 1, false),
		w.tensor(bn, 2, false), w.tensor(bn, 3, false), jen.Lit(float32(bn.Op.(*op.BN).Eps))))
}

func isReLU(s *Step) bool { _, ok := s.Op.(*op.ReLU); return ok }

// tensorRows are the rt.TensorSpec literals of a unit's tensors, at the
// walk's offsets; a block instance's are named prefix + their local name.
func (w *walk) tensorRows(u *unit) []jen.Code {
	var rows []jen.Code
	for _, s := range u.steps {
		for _, t := range s.Tensors {
			name := jen.Lit(t.Name)
			if u.inst != "" {
				name = jen.Id("prefix").Op("+").Lit(strings.TrimPrefix(t.Name, u.inst+"."))
			}
			f := famParams
			if t.Buffer {
				f = famBuffer
			}
			shape := make([]jen.Code, len(t.Shape))
			for i, d := range t.Shape {
				shape[i] = jen.Lit(d)
			}
			fields := []jen.Code{jen.Id("Name").Op(":").Add(name), jen.Id("Shape").Op(":").Index().Int().Values(shape...),
				jen.Id("Off").Op(":").Add(w.loc.at(f, t.Off).code())}
			if t.Buffer {
				fields = append(fields, jen.Id("Buffer").Op(":").True())
			}
			fields = append(fields, jen.Id("Init").Op(":").Add(op.RT(initNames[t.Init])))
			if t.Init == rt.InitConst {
				fields = append(fields, jen.Id("Value").Op(":").Lit(t.Value))
			}
			rows = append(rows, jen.Line().Values(fields...))
		}
	}
	return rows
}
