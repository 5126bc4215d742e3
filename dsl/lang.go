package dsl

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/cnnc-dev/cnnc/grammar"
	"github.com/cnnc-dev/cnnc/op"
)

// The constructs of the language after 2015 (docs/language.md): a
// parenthesised sub-chain, `if`, `residual if`, `split`, `scale`, the
// conditions they test and the fields in.c, in.h, in.w of a block's input.

// keyword returns the span of a keyword written at pos.
func keyword(pos lexer.Position, word string) (lexer.Position, lexer.Position) {
	end := pos
	end.Column += len(word)
	end.Offset += len(word)
	return pos, end
}

// group expands `( chain )`: in the current scope, or in a scope named by
// its label (lbl.conv1, lbl.1.conv1 when repeated).
func (r *resolver) group(sc *scope, c *grammar.Chain, in *Node, label string) *Node {
	if label == "" {
		return r.chain(sc, c, in)
	}
	p, e := c.Pos, c.Pos
	name := r.name(sc, "", label, p, e)
	return r.chain(sc.child(strings.TrimPrefix(name, sc.prefix)), c, in)
}

// ifElem expands `if COND { chain }`: the chain when COND holds, nothing
// otherwise.
func (r *resolver) ifElem(sc *scope, f *grammar.If, in *Node, label string) *Node {
	yes, ok := r.condition(sc, f.Cond, "if")
	switch {
	case !ok:
		return nil
	case !yes:
		return in
	}
	return r.group(sc, f.Body.Chain, in, label)
}

// scale expands `scale { chain }`: the input times the chain's output,
// channel by channel.
func (r *resolver) scale(sc *scope, s *grammar.Scale, in *Node, label string) *Node {
	p, end := keyword(s.Pos, "scale")
	body := r.chain(sc, s.Body.Chain, in)
	n := &Node{Op: &op.Scale{}, Text: "scale", Pos: p, End: end}
	n.Name = r.name(sc, "scale", label, p, end)
	if in == nil || body == nil {
		return nil
	}
	if body == in {
		r.errorIn(sc, p, end, "the chain computes the factors from the input, for example: scale { gap -> conv 16 1x1 -> relu -> conv 64 1x1 -> sigmoid }",
			"scale: the chain gives its input back, not one factor per channel")
		return nil
	}
	n.Inputs = []*Node{in, body}
	return r.add(sc, n)
}

// split expands `split { a | b ... }`: branch i runs on part i of the
// input's channels (a slice node each), and the branches are joined by
// depth concatenation.
func (r *resolver) split(sc *scope, c *grammar.Concat, in *Node, label string) *Node {
	p, end := keyword(c.Pos, "split")
	chains := []*grammar.Chain{c.First}
	for _, b := range c.Branches {
		chains = append(chains, b.Chain)
	}
	if len(chains) == 1 {
		r.errorIn(sc, p, end, "a split gives each branch an equal part of the channels: write two branches or more, split { identity | conv ... }",
			"split with one branch")
		return nil
	}
	var outs []*Node
	for i, ch := range chains {
		s := &Node{Op: &op.Slice{Part: i, Parts: len(chains)}, Text: "split", Pos: p, End: end}
		s.Name = r.name(sc, "slice", "", p, end)
		if in != nil {
			s.Inputs = []*Node{in}
			s = r.add(sc, s)
		}
		var o *Node
		if in != nil {
			o = r.chain(sc, ch, s)
		}
		outs = append(outs, o)
	}
	n := &Node{Op: &op.Concat{Split: true}, Text: "split", Pos: p, End: end}
	n.Name = r.name(sc, "split", label, p, end)
	for _, o := range outs {
		if o == nil {
			return nil
		}
	}
	n.Inputs = outs
	return r.add(sc, n)
}

// condition evaluates the condition of `if` or `residual if`.
func (r *resolver) condition(sc *scope, c *grammar.Cond, what string) (yes, ok bool) {
	v, isCond, ok := r.cond(sc, c)
	if ok && !isCond {
		p, end := span(c.Tokens)
		r.errorIn(sc, p, end, "a condition compares numbers, for example: if s == 1 and in.c == c { ... }",
			"%s: %s is a number, not a condition", what, r.text(c.Tokens))
		return false, false
	}
	return v != 0, ok
}

// number evaluates a parenthesised expression, which must not be a
// condition.
func (r *resolver) number(sc *scope, c *grammar.Cond) (float64, bool) {
	v, isCond, ok := r.cond(sc, c)
	if ok && isCond {
		p, end := span(c.Tokens)
		r.errorIn(sc, p, end, "conditions are written after if and residual if", "%s is a condition, not a number", r.text(c.Tokens))
		return 0, false
	}
	return v, ok
}

// cond evaluates a condition or an expression: a truth (1 or 0) with
// isCond, or a number.
func (r *resolver) cond(sc *scope, c *grammar.Cond) (v float64, isCond, ok bool) {
	if len(c.Rest) == 0 {
		return r.conj(sc, c.Left)
	}
	ok, any := true, false
	for _, x := range append([]*grammar.Conj{c.Left}, c.Rest...) {
		w, good := r.truth(sc, x.Left, func() (float64, bool, bool) { return r.conj(sc, x) }, "or")
		ok = ok && good
		any = any || w
	}
	return b2f(any), true, ok
}

func (r *resolver) conj(sc *scope, c *grammar.Conj) (v float64, isCond, ok bool) {
	if len(c.Rest) == 0 {
		return r.neg(sc, c.Left)
	}
	ok, all := true, true
	for _, x := range append([]*grammar.Neg{c.Left}, c.Rest...) {
		w, good := r.truth(sc, x, func() (float64, bool, bool) { return r.neg(sc, x) }, "and")
		ok = ok && good
		all = all && w
	}
	return b2f(all), true, ok
}

// truth evaluates an operand of a logical word, which must be a
// condition; first is its first comparison, for the error's position.
func (r *resolver) truth(sc *scope, first *grammar.Neg, eval func() (float64, bool, bool), word string) (bool, bool) {
	v, isCond, ok := eval()
	if ok && !isCond {
		p, end := span(first.Cmp.Left.Tokens)
		r.errorIn(sc, p, end, "a condition compares numbers, for example: s == 1 and in.c == c",
			"%s: %s is a number, not a condition", word, r.text(first.Cmp.Left.Tokens))
		return false, false
	}
	return v != 0, ok
}

func (r *resolver) neg(sc *scope, n *grammar.Neg) (v float64, isCond, ok bool) {
	c := n.Cmp
	var a float64
	if sub := bareSub(c.Left); c.Op == nil && sub != nil {
		// A parenthesised condition: (a or b) and c.
		a, isCond, ok = r.cond(sc, sub)
	} else {
		a, ok = r.eval(sc, c.Left)
	}
	if c.Op != nil {
		isCond = true
		b, ok2 := r.eval(sc, c.Right)
		ok = ok && ok2
		var yes bool
		switch *c.Op {
		case "==":
			yes = a == b
		case "!=":
			yes = a != b
		case "<":
			yes = a < b
		case "<=":
			yes = a <= b
		case ">":
			yes = a > b
		case ">=":
			yes = a >= b
		}
		a = b2f(yes)
	}
	if n.Not {
		if ok && !isCond {
			p, end := span(c.Left.Tokens)
			r.errorIn(sc, p, end, "a condition compares numbers, for example: not s == 1", "not: %s is a number, not a condition", r.text(c.Left.Tokens))
			return 0, false, false
		}
		a = b2f(a == 0)
	}
	return a, isCond, ok
}

// bareSub returns the parenthesised condition or expression that e is,
// or nil.
func bareSub(e *grammar.Expr) *grammar.Cond {
	if len(e.Rest) > 0 || len(e.Left.Rest) > 0 || e.Left.Left.Neg {
		return nil
	}
	return e.Left.Left.Sub
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// field evaluates in.c, in.h or in.w: the depth, height or width of the
// input of the block being expanded.
func (r *resolver) field(sc *scope, f *grammar.Factor) (float64, bool) {
	name := *f.Ident
	p, end := keyword(f.Pos, name)
	if f.Neg {
		end.Column++
		end.Offset++
	}
	const fields = "in.c (depth), in.h (height) and in.w (width) are the shape of a block's input"
	base, what, _ := strings.Cut(name, ".")
	if base != "in" || (what != "c" && what != "h" && what != "w") {
		r.errorIn(sc, p, end, fields, "unknown name %q", name)
		return 0, false
	}
	if sc == nil || !sc.inBlock {
		r.errorIn(sc, p, end, fields+": use them inside a block's body", "%s outside a block", name)
		return 0, false
	}
	if sc.input == nil {
		return 0, false // the input failed; its error is reported
	}
	s, ok := r.shape(sc.input)
	if !ok {
		r.errorIn(sc, p, end, "fix the error before the block call: the shape of its input comes from the layers before it",
			"%s: the shape of the block's input is unknown because of an earlier error", name)
		return 0, false
	}
	switch what {
	case "c":
		return float64(s.C), true
	case "h":
		return float64(s.H), true
	}
	return float64(s.W), true
}

// shapeOf is a node's output shape as the ops' own shape rules give it.
type shapeOf struct {
	s  op.Shape
	ok bool
}

// silent is an op.Checker that keeps the errors to itself: the compiler
// reports them.
type silent struct{}

func (silent) Text() string                  { return "" }
func (silent) Errorf(string, string, ...any) {}

// shape returns the output shape of n, computing the shapes of the nodes
// built so far in order (each once): a node's inputs come before it.
func (r *resolver) shape(n *Node) (op.Shape, bool) {
	for len(r.shapes) <= n.ID && len(r.shapes) < len(r.net.Nodes) {
		x := r.net.Nodes[len(r.shapes)]
		var ins []op.Shape
		good := true
		for _, in := range x.Inputs {
			if in.ID >= len(r.shapes) || !r.shapes[in.ID].ok {
				good = false
				break
			}
			ins = append(ins, r.shapes[in.ID].s)
		}
		var s shapeOf
		in, isInput := x.Op.(*op.Input)
		switch add, isAdd := x.Op.(*op.Add); {
		case !good || isInput && in.Dims == (op.Shape{}): // no input line
		case isAdd && add.Implied && len(ins) == 2 && ins[0] != ins[1]:
			s = shapeOf{ins[0], true} // the compiler projects the shortcut
		default:
			s.s, s.ok = x.Op.Shape(silent{}, ins)
		}
		r.shapes = append(r.shapes, s)
	}
	if n.ID >= len(r.shapes) || r.net.Nodes[n.ID] != n {
		return op.Shape{}, false
	}
	return r.shapes[n.ID].s, r.shapes[n.ID].ok
}
