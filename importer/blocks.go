package importer

import (
	"fmt"
	"slices"
	"strings"
)

// A unit is a residual or concat of the main chain with the activations
// right after it (a ResNet block's final relu): what a block is made of.
type unit struct {
	es   []*elem
	key  string // the template: units with one key differ in numbers only
	vals []int
}

// item is one step of the main chain: a layer or a unit written inline, or
// a call of a block (repeated n times).
type item struct {
	es   []*elem
	def  *blockDef
	args []string
	n    int
}

type blockDef struct {
	name   string
	params []string
	exprs  []string // per slot: a number, a parameter or a multiple of one
	argOf  []int    // per parameter: the slot whose value it takes
	body   []*elem  // one instance, written with exprs
}

var activations = map[string]bool{"Relu": true, "LeakyRelu": true, "Clip": true, "Sigmoid": true, "Tanh": true, "HardSwish": true, "HardSigmoid": true}

// units splits the main chain into layers and units.
func units(chain []*elem) [][]*elem {
	var out [][]*elem
	for i := 0; i < len(chain); i++ {
		e := chain[i]
		if e.layer != nil {
			out = append(out, []*elem{e})
			continue
		}
		u := []*elem{e}
		for i+1 < len(chain) && chain[i+1].layer != nil && activations[chain[i+1].layer.opType] {
			i++
			u = append(u, chain[i])
		}
		out = append(out, u)
	}
	return out
}

// blocks turns units that share a template, two or more of them, into
// calls of one block: a slot that varies between them is a parameter
// (one parameter for slots that always agree, c*4 for one that is always
// four times another), a slot that does not is written as a number.
// Consecutive calls with the same arguments become one call repeated.
func blocks(chain []*elem) ([]*blockDef, []item) {
	us := units(chain)
	byKey := map[string][]*unit{}
	var keys []string
	all := make([]*unit, len(us))
	for i, es := range us {
		u := &unit{es: es}
		if es[0].layer == nil {
			u.key, u.vals = template(es), slots(es)
			if byKey[u.key] == nil {
				keys = append(keys, u.key)
			}
			byKey[u.key] = append(byKey[u.key], u)
		}
		all[i] = u
	}
	defs := map[string]*blockDef{}
	var order []*blockDef
	kinds := map[string]int{}
	for _, k := range keys {
		group := byKey[k]
		if len(group) < 2 {
			continue
		}
		kind := "residual"
		if group[0].es[0].branches != nil {
			kind = "concat"
		}
		name := fmt.Sprintf("%s_%c", kind, 'a'+kinds[kind])
		kinds[kind]++
		d := define(name, group)
		defs[k] = d
		order = append(order, d)
	}
	var items []item
	for _, u := range all {
		d := defs[u.key]
		if u.key == "" || d == nil {
			items = append(items, item{es: u.es})
			continue
		}
		args := make([]string, len(d.params))
		for p, s := range d.argOf {
			args[p] = fmt.Sprint(u.vals[s])
		}
		if n := len(items); n > 0 && items[n-1].def == d && slices.Equal(items[n-1].args, args) {
			items[n-1].n++
			continue
		}
		items = append(items, item{def: d, args: args, n: 1})
	}
	return order, items
}

// define makes the block of a group of units with one template.
func define(name string, group []*unit) *blockDef {
	d := &blockDef{name: name, body: group[0].es}
	kinds := slotTokens(group[0].es)
	col := func(j int) []int {
		c := make([]int, len(group))
		for i, u := range group {
			c[i] = u.vals[j]
		}
		return c
	}
	counts := map[string]int{}
	for j := range group[0].vals {
		c := col(j)
		if allEqual(c) {
			d.exprs = append(d.exprs, fmt.Sprint(c[0]))
			continue
		}
		expr := ""
		for p, s := range d.argOf {
			if m, ok := multiple(c, col(s)); ok {
				expr = d.params[p]
				if m != 1 {
					expr += fmt.Sprintf("*%d", m)
				}
				break
			}
		}
		if expr == "" {
			base := map[string]string{"": "c", "s": "stride", "g": "groups"}[kinds[j].lit]
			counts[base]++
			expr = base
			if counts[base] > 1 {
				expr += fmt.Sprint(counts[base])
			}
			d.params = append(d.params, expr)
			d.argOf = append(d.argOf, j)
		}
		d.exprs = append(d.exprs, expr)
	}
	return d
}

func allEqual(c []int) bool {
	for _, v := range c {
		if v != c[0] {
			return false
		}
	}
	return true
}

// multiple reports whether c is m times base, element by element, for one
// whole m >= 1.
func multiple(c, base []int) (int, bool) {
	if base[0] == 0 || c[0]%base[0] != 0 {
		return 0, false
	}
	m := c[0] / base[0]
	for i := range c {
		if base[i]*m != c[i] {
			return 0, false
		}
	}
	return m, m >= 1
}

// write writes the block definitions and the main chain.
func write(name string, c, h, w int, defs []*blockDef, items []item) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Imported from ONNX by cnnc import.\nnetwork %s\ninput %dx%dx%d\n", name, h, w, c)
	for _, d := range defs {
		wr := &writer{args: d.exprs}
		wr.chain(d.body, "  ", false)
		fmt.Fprintf(&b, "\nblock %s(%s) {\n  %s\n}\n", d.name, strings.Join(d.params, ", "), wr.b.String())
	}
	b.WriteString("\n")
	for i := 0; i < len(items); i++ {
		if i > 0 {
			b.WriteString("\n-> ")
		}
		it := items[i]
		if it.def != nil {
			fmt.Fprintf(&b, "%s(%s)", it.def.name, strings.Join(it.args, ", "))
			if it.n > 1 {
				fmt.Fprintf(&b, " x%d", it.n)
			}
			continue
		}
		// A run of layers: one chain, wrapped.
		run := it.es
		for i+1 < len(items) && items[i+1].def == nil && items[i+1].es[0].layer != nil && run[0].layer != nil {
			i++
			run = append(run, items[i].es...)
		}
		wr := &writer{}
		wr.chain(run, "", false)
		b.WriteString(wr.b.String())
	}
	b.WriteString("\n")
	return b.String()
}
