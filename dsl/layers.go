package dsl

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/cnnc-dev/cnnc/grammar"
)

// layerUsage is the form of every layer word, for hints.
var layerUsage = map[string]string{
	"conv":    "conv N KxK [sS] [pP | p same] [gG] [dD] [nobias]",
	"maxpool": "maxpool K [sS] [pP] [ceil]",
	"avgpool": "avgpool K [sS] [pP] [ceil]",
	"gap":     "gap",
	"lrn":     "lrn [size] [alpha] [beta] [k]",
	"bn":      "bn",
	"relu":    "relu",
	"dropout": "dropout P",
	"fc":      "fc N",
	"softmax": "softmax",
}

// argKind is what an argument turned out to be.
type argKind int

const (
	argNum  argKind = iota // a number or expression: 96, c*4, 0.5
	argSize                // 11x11
	argFlag                // s4, p(pad), s2x1
	argWord                // same, nobias, ceil
)

// arg is a classified, evaluated argument.
type arg struct {
	kind     argKind
	name     string  // flag or word name
	num      float64 // argNum, and argFlag with one value
	dims     []int   // argSize, and argFlag with literal values
	pos, end lexer.Position
	text     string
	ok       bool // evaluated without error
}

var flagRe = regexp.MustCompile(`^([a-z]+?)([0-9]+(x[0-9]+)?)$`)

// args classifies and evaluates layer or setting arguments.
func (r *resolver) args(sc *scope, word string, as []*grammar.Arg) []arg {
	out := make([]arg, 0, len(as))
	for _, a := range as {
		p, end := span(a.Tokens)
		x := arg{pos: p, end: end, text: r.text(a.Tokens), ok: true}
		switch {
		case a.Size != nil:
			x.kind = argSize
			x.dims = r.size(p, end, *a.Size, sc)
			x.ok = x.dims != nil
		case a.Flag != nil:
			x.kind, x.name = argFlag, string(a.Flag.Name)
			x.num, x.ok = r.eval(sc, a.Flag.Value)
		default:
			e := &grammar.Expr{Pos: a.Pos, Tokens: a.Tokens, Left: a.Term}
			id := bareIdent(e)
			if id == "" || hasName(sc, id) {
				x.kind = argNum
				x.num, x.ok = r.eval(sc, e)
				break
			}
			if m := flagRe.FindStringSubmatch(id); m != nil {
				x.kind, x.name = argFlag, m[1]
				x.dims = flagDims(m[2])
				x.ok = x.dims != nil
				if !x.ok {
					r.errorIn(sc, p, end, "", "%s: %s is too large (the limit is %d)", word, id, MaxNumber)
				}
				if x.ok {
					x.num = float64(x.dims[0])
				}
				break
			}
			x.kind, x.name = argWord, id
		}
		out = append(out, x)
	}
	return out
}

func hasName(sc *scope, id string) bool {
	if sc == nil {
		return false
	}
	_, ok := sc.env[id]
	return ok
}

// flagDims parses the digits of a flag such as s2 or p1x2.
func flagDims(s string) []int {
	var dims []int
	for _, p := range strings.Split(s, "x") {
		v, err := strconv.Atoi(p)
		if err != nil || v > MaxNumber {
			return nil
		}
		dims = append(dims, v)
	}
	return dims
}

// bareIdent returns the name when e is a lone identifier.
func bareIdent(e *grammar.Expr) string {
	if e == nil || len(e.Rest) > 0 || len(e.Left.Rest) > 0 {
		return ""
	}
	f := e.Left.Left
	if f.Neg || f.Ident == nil {
		return ""
	}
	return *f.Ident
}

// layerArgs walks the arguments of one layer and reports what does not fit.
type layerArgs struct {
	r     *resolver
	sc    *scope
	layer string
	usage string
	args  []arg
	used  []bool
	bad   bool
}

func (r *resolver) newLayerArgs(sc *scope, word string, as []*grammar.Arg) *layerArgs {
	la := &layerArgs{r: r, sc: sc, layer: word, usage: layerUsage[word], args: r.args(sc, word, as)}
	la.used = make([]bool, len(la.args))
	for _, a := range la.args {
		if !a.ok {
			la.bad = true
		}
	}
	return la
}

func (la *layerArgs) errorf(a arg, format string, v ...any) {
	la.bad = true
	la.r.errorIn(la.sc, a.pos, a.end, "", format, v...)
}

// positional takes the next unused number argument.
func (la *layerArgs) positional() (arg, bool) {
	for i, a := range la.args {
		if !la.used[i] && a.kind == argNum {
			la.used[i] = true
			return a, true
		}
	}
	return arg{}, false
}

// sizeArg takes the first size argument.
func (la *layerArgs) sizeArg() (arg, bool) {
	for i, a := range la.args {
		if !la.used[i] && a.kind == argSize {
			la.used[i] = true
			return a, true
		}
	}
	return arg{}, false
}

// flag takes flag name (sN, s(expr), sNxM) and returns its one or two
// integer values.
func (la *layerArgs) flag(name string, min int) (h, w int, found bool) {
	for i, a := range la.args {
		if la.used[i] || a.kind != argFlag || a.name != name {
			continue
		}
		if found {
			la.errorf(a, "%s: flag %s given twice", la.layer, name)
		}
		la.used[i] = true
		found = true
		if !a.ok {
			la.bad = true
			continue
		}
		vals := a.dims
		if vals == nil {
			v, ok := la.integer(a, a.num, min, "flag "+name)
			if !ok {
				continue
			}
			vals = []int{v}
		}
		if len(vals) > 2 {
			la.errorf(a, "%s: flag %s takes one value or HxW", la.layer, a.text)
			continue
		}
		for _, v := range vals {
			if v < min {
				la.errorf(a, "%s: %s must be at least %d", la.layer, a.text, min)
			}
		}
		h, w = vals[0], vals[len(vals)-1]
	}
	return h, w, found
}

// word takes a bare word such as nobias or ceil.
func (la *layerArgs) word(name string) bool {
	found := false
	for i, a := range la.args {
		if !la.used[i] && a.kind == argWord && a.name == name {
			la.used[i] = true
			found = true
		}
	}
	return found
}

// integer checks that v is a whole number in [min, MaxNumber].
func (la *layerArgs) integer(a arg, v float64, min int, what string) (int, bool) {
	switch {
	case !a.ok:
		la.bad = true
	case v != math.Trunc(v):
		la.errorf(a, "%s: %s must be a whole number, found %s", la.layer, what, fmtNum(v))
	case v < float64(min):
		la.errorf(a, "%s: %s must be at least %d, found %s", la.layer, what, min, fmtNum(v))
	case v > MaxNumber:
		la.errorf(a, "%s: %s %s is too large (the limit is %d)", la.layer, what, fmtNum(v), MaxNumber)
	default:
		return int(v), true
	}
	return 0, false
}

// done reports every argument that was not used.
func (la *layerArgs) done() {
	for i, a := range la.args {
		if la.used[i] || !a.ok {
			continue
		}
		la.bad = true
		what := fmt.Sprintf("unexpected %s", a.text)
		switch a.kind {
		case argFlag:
			what = fmt.Sprintf("unknown flag %s", a.text)
		case argWord:
			what = fmt.Sprintf("unknown flag or name %q", a.text)
		}
		hint := "the form is: " + la.usage
		if p := la.r.paramHint(la.sc); p != "" && a.kind == argWord {
			hint += "; " + p
		}
		la.r.errorIn(la.sc, a.pos, a.end, hint, "%s: %s", la.layer, what)
	}
}

func (r *resolver) layer(sc *scope, l *grammar.Layer, in *Node, label string) *Node {
	p, end := span(l.Tokens)
	wordEnd := l.Pos
	wordEnd.Column += len(l.Word)
	if !isLayerWord(l.Word) {
		hint := "layer words: " + strings.Join(LayerWords, ", ")
		if r.blocks[l.Word] != nil {
			hint = fmt.Sprintf("%s is a block: call it with its arguments, %s(...)", l.Word, l.Word)
		} else if s := closest(l.Word, LayerWords); s != "" {
			hint = fmt.Sprintf("did you mean %s?", s)
		}
		r.errorIn(sc, l.Pos, wordEnd, hint, "unknown layer %q", l.Word)
		return nil
	}
	n := &Node{Op: Op(l.Word), Text: r.text(l.Tokens), Pos: p, End: end}
	la := r.newLayerArgs(sc, l.Word, l.Args)
	switch n.Op {
	case OpConv:
		n.Conv = la.conv(p, end)
	case OpMaxPool, OpAvgPool:
		n.Pool = la.pool(p, end)
	case OpLRN:
		n.LRN = la.lrn()
	case OpDropout:
		la.dropout(n, p, end)
	case OpFC:
		if a, ok := la.positional(); !ok {
			r.errorIn(sc, p, end, "the form is: "+layerUsage["fc"], "fc needs the number of outputs")
			la.bad = true
		} else if v, ok := la.integer(a, a.num, 1, "the number of outputs"); ok {
			n.Units = v
		}
	}
	la.done()
	n.Name = r.name(sc, l.Word, label, p, end)
	if la.bad || in == nil {
		return nil
	}
	n.Inputs = []*Node{in}
	return r.add(sc, n)
}

func (la *layerArgs) conv(p, end lexer.Position) *Conv {
	c := &Conv{Groups: 1, DH: 1, DW: 1, SH: 1, SW: 1, Bias: true}
	if a, ok := la.positional(); !ok {
		la.r.errorIn(la.sc, p, end, "the form is: "+layerUsage["conv"], "conv needs a filter count")
		la.bad = true
	} else if v, ok := la.integer(a, a.num, 1, "the filter count"); ok {
		c.Filters = v
	}
	if a, ok := la.sizeArg(); !ok {
		la.r.errorIn(la.sc, p, end, "write the kernel as KxK, for example 3x3", "conv needs a kernel size")
		la.bad = true
	} else if a.ok {
		if len(a.dims) != 2 {
			la.errorf(a, "conv: kernel %s must be KxK", a.text)
		} else {
			c.KH, c.KW = a.dims[0], a.dims[1]
		}
	}
	if h, w, ok := la.flag("s", 1); ok {
		c.SH, c.SW = h, w
	}
	if h, w, ok := la.flag("g", 1); ok {
		c.Groups = h
		if h != w {
			la.r.errorIn(la.sc, p, end, "", "conv: groups take one value")
			la.bad = true
		}
	}
	if h, w, ok := la.flag("d", 1); ok {
		c.DH, c.DW = h, w
	}
	if h, w, ok := la.flag("p", 0); ok {
		c.PH, c.PW = h, w
	}
	if la.word("psame") || (la.word("p") && la.word("same")) {
		c.Same = true
		if c.SH != 1 || c.SW != 1 {
			la.r.errorIn(la.sc, p, end, "write the padding as a number", "conv: p same needs stride 1 (PyTorch's rule)")
			la.bad = true
		} else if (c.DH*(c.KH-1))%2 != 0 || (c.DW*(c.KW-1))%2 != 0 {
			la.r.errorIn(la.sc, p, end, "use an odd kernel or write the padding", "conv: p same with an even kernel pads one side more than the other, which cnnc does not support")
			la.bad = true
		} else {
			c.PH, c.PW = c.DH*(c.KH-1)/2, c.DW*(c.KW-1)/2
		}
	}
	if la.word("nobias") {
		c.Bias = false
	}
	return c
}

func (la *layerArgs) pool(p, end lexer.Position) *Pool {
	pl := &Pool{}
	if a, ok := la.sizeArg(); ok {
		if a.ok && len(a.dims) == 2 {
			pl.KH, pl.KW = a.dims[0], a.dims[1]
		} else if a.ok {
			la.errorf(a, "%s: window %s must be K or KxK", la.layer, a.text)
		}
	} else if a, ok := la.positional(); ok {
		if v, ok := la.integer(a, a.num, 1, "the window size"); ok {
			pl.KH, pl.KW = v, v
		}
	} else {
		la.r.errorIn(la.sc, p, end, "the form is: "+layerUsage[la.layer], "%s needs a window size", la.layer)
		la.bad = true
	}
	pl.SH, pl.SW = pl.KH, pl.KW
	if h, w, ok := la.flag("s", 1); ok {
		pl.SH, pl.SW = h, w
	}
	if h, w, ok := la.flag("p", 0); ok {
		pl.PH, pl.PW = h, w
		if 2*h > pl.KH || 2*w > pl.KW {
			la.r.errorIn(la.sc, p, end, "PyTorch requires pad <= kernel/2", "%s: padding %dx%d is more than half the window %dx%d", la.layer, h, w, pl.KH, pl.KW)
			la.bad = true
		}
	}
	pl.Ceil = la.word("ceil")
	return pl
}

func (la *layerArgs) lrn() *LRN {
	l := &LRN{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2}
	if a, ok := la.positional(); ok {
		if v, ok := la.integer(a, a.num, 1, "the size"); ok {
			l.Size = v
		}
	}
	for _, f := range []*float64{&l.Alpha, &l.Beta, &l.K} {
		if a, ok := la.positional(); ok {
			*f = a.num
			if a.num < 0 {
				la.errorf(a, "lrn: %s must not be negative", a.text)
			}
		}
	}
	return l
}

func (la *layerArgs) dropout(n *Node, p, end lexer.Position) {
	a, ok := la.positional()
	if !ok {
		la.r.errorIn(la.sc, p, end, "the form is: dropout P, for example dropout 0.5", "dropout needs a probability")
		la.bad = true
		return
	}
	if a.ok && (a.num < 0 || a.num >= 1) {
		la.errorf(a, "dropout: probability must be in [0, 1), found %s", fmtNum(a.num))
		return
	}
	n.Dropout = a.num
}

// closest returns the word of words nearest to s when it is near enough.
func closest(s string, words []string) string {
	best, bestD := "", 3
	for _, w := range words {
		if d := editDistance(s, w); d < bestD {
			best, bestD = w, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
