package netgen

import (
	"math"
	"strconv"
)

// shape is HxWxC: a feature map, or a flat vector (1x1xC) after an fc,
// which the layers that need a map refuse, as PyTorch's 2d layers refuse
// nn.Linear's (N, F).
type shape struct {
	h, w, c int
	flat    bool
}

// dims reports whether a and b have the same size, flat or not.
func (a shape) dims(b shape) bool { return a.h == b.h && a.w == b.w && a.c == b.c }

// env binds a block's parameters to their values at one call.
type env map[string]float64

// expr is an expression of the language: a number, a parameter, a sum or
// a product, with the language's precedence (Expr = Term (+|- Term)*, Term
// = Factor (*|/ Factor)*).
type expr interface {
	eval(env) float64
	text() string
	isSum() bool // + or - at the top: a layer argument needs parentheses
}

type lit struct {
	v float64
	s string
}

type ref string

type bin struct {
	op   string // "+", "-", "*", "/"
	a, b expr
	sp   string // around the operator
}

type paren struct{ e expr }

func (l lit) eval(env) float64     { return l.v }
func (l lit) text() string         { return l.s }
func (l lit) isSum() bool          { return false }
func (r ref) eval(e env) float64   { return e[string(r)] }
func (r ref) text() string         { return string(r) }
func (r ref) isSum() bool          { return false }
func (p paren) eval(e env) float64 { return p.e.eval(e) }
func (p paren) text() string       { return "(" + p.e.text() + ")" }
func (p paren) isSum() bool        { return false }
func (b bin) isSum() bool          { return b.op == "+" || b.op == "-" }
func (b bin) text() string         { return b.a.text() + b.sp + b.op + b.sp + b.b.text() }

func (b bin) eval(e env) float64 {
	x, y := b.a.eval(e), b.b.eval(e)
	switch b.op {
	case "+":
		return x + y
	case "-":
		return x - y
	case "*":
		return x * y
	}
	return x / y
}

// num is the literal of a whole number.
func num(v int) lit { return lit{float64(v), strconv.Itoa(v)} }

// asArg wraps a sum in parentheses, as a layer argument needs.
func asArg(e expr) expr {
	if e.isSum() {
		return paren{e: e}
	}
	return e
}

// whole evaluates e and reports whether it is a whole number in [lo, hi].
func whole(e expr, en env, lo, hi int) (int, bool) {
	v := e.eval(en)
	if math.IsNaN(v) || math.IsInf(v, 0) || v != math.Trunc(v) || v < float64(lo) || v > float64(hi) {
		return 0, false
	}
	return int(v), true
}

// flag is a flag's value: an expression, written s(e), or a literal pair,
// written s2 or s2x1.
type flag struct {
	set  bool
	e    expr
	h, w int
}

func (f flag) values(en env, lo int) (h, w int, ok bool) {
	if f.e != nil {
		v, ok := whole(f.e, en, lo, 1<<20)
		return v, v, ok
	}
	return f.h, f.w, f.h >= lo && f.w >= lo
}

func (f flag) text(name string) string {
	switch {
	case f.e != nil:
		return name + "(" + f.e.text() + ")"
	case f.h == f.w:
		return name + strconv.Itoa(f.h)
	}
	return name + strconv.Itoa(f.h) + "x" + strconv.Itoa(f.w)
}

// layer is one layer with its arguments.
type layer struct {
	word    string
	n       expr // conv's filters, fc's units, a pool's window, lrn's size
	kh, kw  int  // conv's kernel; a pool's window written KxJ when size
	size    bool // the pool's window is written as a size
	s, p, d flag
	g       int
	same    bool
	nobias  bool
	ceil    bool
	nums    []lit // dropout's P, leakyrelu's slope, lrn's alpha, beta, k
}

// elem is an element of a chain: a layer, a call, a concat, a residual or
// an aux head, with a label and a repetition.
type elem struct {
	label  string
	rep    expr // nil: once
	l      *layer
	call   *call
	concat [][]*elem
	body   []*elem // residual
	short  []*elem // residual's written shortcut, or nil
	aux    []*elem
	weight expr      // aux weight, or nil
	group  []*elem   // ( chain )
	split  [][]*elem // split { a | b }
	scale  []*elem   // scale { chain }
	ifBody []*elem   // if cond { chain }
	cond   *cond     // if's condition, or residual if's
}

// cond is a condition: a comparison, or two joined by and / or, perhaps
// negated or parenthesised.
type cond struct {
	a, b  expr   // a comparison's sides
	cmp   string // "==", "<" ...
	l, r  *cond  // and / or
	logic string // "and", "or"
	not   bool
	paren bool
}

func (c *cond) eval(e env) bool {
	var v bool
	switch {
	case c.logic == "and":
		v = c.l.eval(e) && c.r.eval(e)
	case c.logic == "or":
		v = c.l.eval(e) || c.r.eval(e)
	default:
		x, y := c.a.eval(e), c.b.eval(e)
		switch c.cmp {
		case "==":
			v = x == y
		case "!=":
			v = x != y
		case "<":
			v = x < y
		case "<=":
			v = x <= y
		case ">":
			v = x > y
		default:
			v = x >= y
		}
	}
	return v != c.not
}

func (c *cond) text() string {
	var s string
	switch {
	case c.logic != "":
		s = c.l.text() + " " + c.logic + " " + c.r.text()
	default:
		s = c.a.text() + " " + c.cmp + " " + c.b.text()
	}
	if c.paren || c.not && c.logic != "" {
		s = "(" + s + ")"
	}
	if c.not {
		s = "not " + s
	}
	return s
}

type call struct {
	b    *block
	args []expr
}

// block is a block definition.
type block struct {
	name   string
	params []string
	roles  []role
	vals   []float64 // the arguments of its first call
	body   []*elem
}

type role int

const (
	roleChannels role = iota
	roleStride
	roleRepeat
)
