package dsl

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/cnnc-dev/cnnc/grammar"
	"github.com/cnnc-dev/cnnc/op"
)

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
			if m := flagProduct(sc, a.Term); m != nil {
				// `p1 *2`: a flag times a number; p(1*2) was meant.
				x.ok = false
				r.errorIn(sc, p, end, fmt.Sprintf("a flag whose value is an expression puts it in parentheses: %s(%s)", m[1], strings.TrimPrefix(x.text, m[1])),
					"%s: unexpected %s", word, x.text)
				break
			}
			id := bareIdent(e)
			if id == "" || hasName(sc, id) || strings.Contains(id, ".") { // in.c is a number
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

// flagProduct matches a product whose first factor reads as a flag (p1 in
// `p1 *2`) and is not a parameter.
func flagProduct(sc *scope, t *grammar.Term) []string {
	if len(t.Rest) == 0 || t.Left.Neg || t.Left.Ident == nil || hasName(sc, *t.Left.Ident) {
		return nil
	}
	return flagRe.FindStringSubmatch(*t.Left.Ident)
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
	// pos and end span the layer, for errors of the layer as a whole.
	pos, end lexer.Position
}

func (r *resolver) newLayerArgs(sc *scope, word string, as []*grammar.Arg) *layerArgs {
	la := &layerArgs{r: r, sc: sc, layer: word, args: r.args(sc, word, as)}
	if k := op.Lookup(word); k != nil {
		la.usage = k.Usage
	}
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

// word takes a bare word such as nobias or ceil; a repeated word is an
// error, as a repeated flag is.
func (la *layerArgs) word(name string) bool {
	found := false
	for i, a := range la.args {
		if la.used[i] || a.kind != argWord || a.name != name {
			continue
		}
		if found {
			la.errorf(a, "%s: %s given twice", la.layer, name)
		}
		la.used[i] = true
		found = true
	}
	return found
}

// keyed takes `key X` (sgd's `lr 0.1`, bn's `eps 0.001`) and returns the
// index of X, -1 after an error; found says the key was written. A key is
// matched by its text: beta1 reads as a flag (beta with the value 1), and a
// key that is also a block parameter's name reads as a number. A key given
// twice is reported by done.
func (la *layerArgs) keyed(key string) (v int, found bool) {
	for i, a := range la.args {
		if la.used[i] || a.text != key || a.kind == argSize {
			continue
		}
		la.used[i] = true
		if i+1 >= len(la.args) || la.args[i+1].kind != argNum {
			la.errorf(a, "%s: %s needs a value", la.layer, key)
			return -1, true
		}
		la.used[i+1] = true
		if !la.args[i+1].ok {
			la.bad = true
			return -1, true
		}
		return i + 1, true
	}
	return -1, false
}

// integer checks that v is a whole number in [min, MaxNumber].
func (la *layerArgs) integer(a arg, v float64, min int, what string) (int, bool) {
	switch {
	case !a.ok:
		la.bad = true
	case v != math.Trunc(v):
		la.errorf(a, "%s: %s must be a whole number, found %s", la.layer, what, shown(a, v))
	case v < float64(min):
		la.errorf(a, "%s: %s must be at least %d, found %s", la.layer, what, min, shown(a, v))
	case v > MaxNumber:
		la.errorf(a, "%s: %s %s is too large (the limit is %d)", la.layer, what, shown(a, v), MaxNumber)
	default:
		return int(v), true
	}
	return 0, false
}

// shown is how an error shows the value v of a: a number as it is written
// (12345678901234567890123, not 1.2345678901234568e+22), the value of an
// expression or a parameter otherwise.
func shown(a arg, v float64) string {
	text := a.text
	if a.kind == argFlag {
		if m := flagValue.FindStringSubmatch(text); m != nil {
			text = m[1]
		}
	}
	if literal(text) {
		return text
	}
	return fmtNum(v)
}

var flagValue = regexp.MustCompile(`^[A-Za-z_]+\((.*)\)$`)

// literal reports whether s is a number as written, optionally negated.
func literal(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimPrefix(s, "-"), 64)
	return (err == nil || errors.Is(err, strconv.ErrRange)) && !strings.ContainsAny(s, "xXnN")
}

// done reports every argument that was not used. A word left over after
// the same word was taken is a key given twice (`lr 0.1 lr 0.2`): that is
// the error, and the key's value goes with it.
func (la *layerArgs) done() {
	reported := make([]bool, len(la.args))
	for i, a := range la.args {
		if la.used[i] || !a.ok || reported[i] {
			continue
		}
		la.bad = true
		if a.kind == argWord && la.taken(a.name) {
			if i+1 < len(la.args) && la.args[i+1].kind == argNum {
				la.used[i+1] = true
			}
			la.r.errorIn(la.sc, a.pos, a.end, "", "%s: %s given twice", la.layer, a.text)
			continue
		}
		if la.misspelt(i, reported) {
			continue
		}
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

// taken reports whether a word argument name was used.
func (la *layerArgs) taken(name string) bool {
	for i, a := range la.args {
		if la.used[i] && a.kind == argWord && a.name == name {
			return true
		}
	}
	return false
}

var upperRepeat = regexp.MustCompile(`^X([0-9]+)$`)

// misspelt reports the unused argument i when it, alone or with its
// neighbour, is a known misspelling: `x 2` or `X2` for a repetition, `3X3`
// for a size, `p-1` for a flag with a negative value.
func (la *layerArgs) misspelt(i int, reported []bool) bool {
	a := la.args[i]
	var next, prev *arg
	if i+1 < len(la.args) {
		next = &la.args[i+1]
	}
	if i > 0 {
		prev = &la.args[i-1]
	}
	adjacent := func(x, y *arg) bool { return x.end.Line == y.pos.Line && x.end.Offset == y.pos.Offset }
	report := func(pos, end lexer.Position, text, hint string) bool {
		la.r.errorIn(la.sc, pos, end, hint, "%s: unexpected %s", la.layer, text)
		return true
	}
	switch {
	case a.kind == argWord && (a.name == "x" || a.name == "X") && next != nil && next.kind == argNum:
		reported[i+1] = true
		return report(a.pos, next.end, a.text+" "+next.text, "a repetition is written without a space: x"+next.text)
	case a.kind == argNum && next != nil && next.kind == argWord && upperRepeat.MatchString(next.name) && adjacent(&a, next):
		reported[i+1] = true
		return report(a.pos, next.end, a.text+next.text, fmt.Sprintf("a size is written with a lower-case x: %sx%s", a.text, next.name[1:]))
	case a.kind == argWord && upperRepeat.MatchString(a.name):
		return report(a.pos, a.end, a.text, "a repetition is written with a lower-case x: x"+a.name[1:])
	case a.kind == argWord && next != nil && next.kind == argNum && strings.HasPrefix(next.text, "-") && adjacent(&a, next):
		reported[i+1] = true
		return report(a.pos, next.end, a.text+next.text, fmt.Sprintf("a flag's value follows its letter, %s1, or is an expression in parentheses, %s(%s)", a.name, a.name, next.text))
	case a.kind == argNum && strings.HasPrefix(a.text, "-") && prev != nil && prev.kind == argWord && adjacent(prev, &a):
		// The letter was taken by the layer (conv reads p in `p same`).
		return report(prev.pos, a.end, prev.text+a.text, fmt.Sprintf("a flag's value follows its letter, %s1, or is an expression in parentheses, %s(%s)", prev.name, prev.name, a.text))
	}
	return false
}

func (r *resolver) layer(sc *scope, l *grammar.Layer, in *Node, label string) *Node {
	p, end := span(l.Tokens)
	wordEnd := l.Pos
	wordEnd.Column += len(l.Word)
	kind := op.Lookup(l.Word)
	if kind == nil {
		words := op.Words()
		hint := "layer words: " + strings.Join(words, ", ")
		if r.blocks[l.Word] != nil {
			hint = fmt.Sprintf("%s is a block: call it with its arguments, %s(...)", l.Word, l.Word)
		} else if w, ok := foreignLayers[strings.ToLower(l.Word)]; ok {
			hint = fmt.Sprintf("%s is written %s in cnnc: %s", l.Word, w, op.Lookup(w).Usage)
		} else if s := closest(l.Word, words); s != "" {
			hint = fmt.Sprintf("did you mean %s?", s)
		}
		r.errorIn(sc, l.Pos, wordEnd, hint, "unknown layer %q", l.Word)
		return nil
	}
	la := r.newLayerArgs(sc, l.Word, l.Args)
	la.pos, la.end = p, end
	n := &Node{Op: kind.Parse(la), Text: r.text(l.Tokens), Pos: p, End: end}
	la.done()
	n.Name = r.name(sc, l.Word, label, p, end)
	if la.bad || in == nil {
		return nil
	}
	n.Inputs = []*Node{in}
	return r.add(sc, n)
}

// layerArgs is op.Args: the op table's parsers read a layer's arguments
// through it.

func (la *layerArgs) Word() string { return la.layer }

func (la *layerArgs) export(i int, a arg) op.Arg {
	return op.Arg{Num: a.num, Dims: a.dims, Text: a.text, OK: a.ok, ID: i}
}

func (la *layerArgs) Positional() (op.Arg, bool) {
	for i, a := range la.args {
		if !la.used[i] && a.kind == argNum {
			la.used[i] = true
			return la.export(i, a), true
		}
	}
	return op.Arg{}, false
}

func (la *layerArgs) Size() (op.Arg, bool) {
	for i, a := range la.args {
		if !la.used[i] && a.kind == argSize {
			la.used[i] = true
			return la.export(i, a), true
		}
	}
	return op.Arg{}, false
}

func (la *layerArgs) Flag(name string, min int) (h, w int, found bool) { return la.flag(name, min) }
func (la *layerArgs) Has(word string) bool                             { return la.word(word) }

func (la *layerArgs) Value(key string) (op.Arg, bool) {
	i, found := la.keyed(key)
	if i < 0 {
		return op.Arg{}, found
	}
	return la.export(i, la.args[i]), true
}

func (la *layerArgs) Integer(a op.Arg, min int, what string) (int, bool) {
	return la.integer(la.args[a.ID], a.Num, min, what)
}

func (la *layerArgs) Errorf(a op.Arg, format string, v ...any) {
	la.errorf(la.args[a.ID], format, v...)
}

func (la *layerArgs) Fail(hint, format string, v ...any) {
	la.bad = true
	la.r.errorIn(la.sc, la.pos, la.end, hint, format, v...)
}

// foreignLayers are PyTorch's and Caffe's layer names (lower case) and
// the cnnc word of each.
var foreignLayers = map[string]string{
	"conv2d": "conv", "convolution": "conv", "linear": "fc", "dense": "fc", "innerproduct": "fc",
	"maxpool2d": "maxpool", "pooling": "maxpool", "avgpool2d": "avgpool",
	"adaptiveavgpool2d": "gap", "globalaveragepooling2d": "gap",
	"batchnorm2d": "bn", "batchnorm": "bn", "localresponsenorm": "lrn",
	"relu": "relu", "leakyrelu": "leakyrelu", "leaky_relu": "leakyrelu",
	"dropout": "dropout", "softmax": "softmax", "lrn": "lrn",
	"relu6": "relu6", "sigmoid": "sigmoid", "logistic": "sigmoid", "tanh": "tanh", "silu": "silu", "swish": "silu",
	"gelu": "gelu", "hardswish": "hardswish", "hard_swish": "hardswish", "hswish": "hardswish",
	"hardsigmoid": "hardsigmoid", "hard_sigmoid": "hardsigmoid", "hsigmoid": "hardsigmoid",
	"depthwiseconv2d": "dwconv", "depthwiseconv": "dwconv", "dwconv2d": "dwconv",
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
