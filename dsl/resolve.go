package dsl

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/cnnc-dev/cnnc/grammar"
	"github.com/cnnc-dev/cnnc/op"
)

// The limits of a .cnn file (docs/language.md, "Limits"). They keep every
// input's cost in time and memory proportional to its size, with small
// constants, and each is checked before the work it bounds: the file size
// before parsing, the layers written while parsing, the expansion while
// expanding.

// MaxNodes is how many layers a network may have after the expansion of
// blocks and repetitions (the input not counted), how many block calls the
// expansion may make, and how many elements (layers, block calls, groups) a
// file may write. It is a variable so that the fuzz test can lower it:
// inputs that hit the limits are then cheap.
var MaxNodes = 100000

const (
	MaxFileSize = 4 << 20 // bytes of a .cnn file
	MaxWords    = 500_000 // words, numbers and symbols of a file (not spaces, line breaks, comments)
	MaxArgs     = 64      // arguments of one layer or setting
	MaxCalls    = 100000  // block calls in the expansion
	MaxRepeat   = 10000   // count of one xN repetition
	MaxNumber   = 1 << 24 // any size, count or channel number
	MaxDepth    = 64      // nested block calls
)

// keywords may not name blocks or labels.
var keywords = map[string]bool{
	"network": true, "input": true, "block": true, "train": true, "concat": true,
	"residual": true, "shortcut": true, "aux": true, "weight": true,
	"split": true, "scale": true, "if": true, "and": true, "or": true, "not": true, "in": true,
}

// Keywords lists the language's reserved words, sorted (for editors).
func Keywords() []string {
	var ks []string
	for k := range keywords {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func isLayerWord(s string) bool { return op.Lookup(s) != nil }

// Parse parses a .cnn file into its AST, converting a syntax error into an
// ErrorList.
// A byte-order mark at the start of src is skipped.
func Parse(filename string, src []byte) (*grammar.File, ErrorList) {
	src = grammar.TrimBOM(src)
	if len(src) > MaxFileSize {
		start := lexer.Position{Filename: filename, Line: 1, Column: 1}
		return nil, ErrorList{{Pos: start, End: start, Msg: fmt.Sprintf("the file is larger than %d MB, the limit of a .cnn file", MaxFileSize>>20),
			Hint: "a .cnn file describes one network: write repeated parts as blocks and xN"}}
	}
	f, err := grammar.ParseLimited(filename, src, grammar.Limits{Elements: MaxNodes, Words: MaxWords, Args: MaxArgs})
	var limit *grammar.LimitError
	switch {
	case errors.As(err, &limit) && limit.Of == "args":
		return nil, ErrorList{{Pos: limit.Pos, End: limit.Pos, Msg: fmt.Sprintf("%s: more than %d arguments, the limit of a layer or setting", limit.Word, MaxArgs)}}
	case errors.As(err, &limit) && limit.Of == "words":
		return nil, ErrorList{{Pos: limit.Pos, End: limit.Pos, Msg: fmt.Sprintf("the file has more than %d words, numbers and symbols, the limit of a .cnn file", MaxWords),
			Hint: "a .cnn file describes one network: write repeated parts as blocks and xN"}}
	case errors.As(err, &limit):
		return nil, ErrorList{{Pos: limit.Pos, End: limit.Pos, Msg: fmt.Sprintf("the file writes more than %d layers, the limit of a network", MaxNodes),
			Hint: "write repeated parts as blocks and xN"}}
	case err != nil:
		return nil, fromParse(err, filename, src)
	}
	return f, nil
}

// Load parses and resolves a .cnn file.
func Load(filename string, src []byte) (*Network, ErrorList) {
	f, errs := Parse(filename, src)
	if errs != nil {
		return nil, errs
	}
	return Resolve(filename, src, f)
}

// Resolve gives the AST its meaning. It reports every error it finds.
// src is the text f was parsed from, with or without its byte-order mark.
func Resolve(filename string, src []byte, f *grammar.File) (*Network, ErrorList) {
	src = grammar.TrimBOM(src)
	r := &resolver{
		src:    src,
		blocks: map[string]*grammar.Block{},
		net:    &Network{File: filename, Source: src, Train: DefaultRecipe()},
	}
	r.file(f)
	r.errs.Sort()
	if len(r.errs) > 0 {
		return r.net, r.errs
	}
	return r.net, nil
}

type resolver struct {
	src     []byte
	net     *Network
	errs    ErrorList
	blocks  map[string]*grammar.Block
	aborted bool      // a limit was reached: stop expanding
	calls   int       // block calls expanded
	shapes  []shapeOf // the shapes of r.net.Nodes[:len(shapes)], for in.c (lang.go)
}

// scope is a naming and binding context: the top level, or one block
// instance, shortcut or auxiliary head.
type scope struct {
	prefix string
	used   map[string]lexer.Position
	count  map[string]int
	env    map[string]float64
	calls  []CallSite
	blocks []string // block names being expanded, for recursion
	aux    *AuxHead
	// inBlock: the scope is inside a block's body, whose input is input
	// (nil after an error): in.c, in.h and in.w read its shape.
	inBlock bool
	input   *Node
}

func newScope(prefix string) *scope {
	return &scope{prefix: prefix, used: map[string]lexer.Position{}, count: map[string]int{}, env: map[string]float64{}}
}

// child makes a scope nested in sc named name (already allocated in sc).
func (sc *scope) child(name string) *scope {
	c := newScope(sc.prefix + name + ".")
	c.env, c.calls, c.blocks, c.aux = sc.env, sc.calls, sc.blocks, sc.aux
	c.inBlock, c.input = sc.inBlock, sc.input
	return c
}

func (r *resolver) errorf(pos, end lexer.Position, hint, format string, args ...any) *Error {
	e := &Error{Pos: pos, End: end, Msg: fmt.Sprintf(format, args...), Hint: hint}
	r.errs = append(r.errs, e)
	return e
}

// errorIn reports an error found while expanding scope sc: it gets a note
// for every block call it was expanded through.
func (r *resolver) errorIn(sc *scope, pos, end lexer.Position, hint, format string, args ...any) {
	e := r.errorf(pos, end, hint, format, args...)
	for i := len(sc.calls) - 1; i >= 0; i-- {
		c := sc.calls[i]
		e.Notes = append(e.Notes, Note{Pos: c.Pos, End: c.End, Msg: fmt.Sprintf("in block %s, called here", c.Block)})
	}
}

// span returns the start and end of a token range.
func span(toks []lexer.Token) (lexer.Position, lexer.Position) {
	var start, end lexer.Position
	for _, t := range toks {
		if t.Type == lexer.EOF || strings.TrimSpace(t.Value) == "" {
			continue
		}
		if start.Line == 0 {
			start = t.Pos
		}
		end = t.Pos
		end.Column += len(t.Value)
		end.Offset += len(t.Value)
	}
	return start, end
}

// text is the source text of a token range.
func (r *resolver) text(toks []lexer.Token) string {
	start, end := span(toks)
	if start.Line == 0 || end.Offset > len(r.src) || start.Offset > end.Offset {
		return ""
	}
	return oneLine(string(r.src[start.Offset:end.Offset]))
}

var blanks = regexp.MustCompile(`[ \t\r]+`)

// oneLine replaces every run of spaces and tabs by one space: the text of a
// layer is printed in aligned columns by cnnc summary.
func oneLine(s string) string { return blanks.ReplaceAllString(s, " ") }

// name allocates a unique name in sc: the label if given, else word and a
// counter.
func (r *resolver) name(sc *scope, word string, label string, pos, end lexer.Position) string {
	if label != "" {
		if prev, ok := sc.used[label]; ok {
			r.errorIn(sc, pos, end, "labels must be unique within a block or the network", "duplicate name %q (already used at %d:%d)", label, prev.Line, prev.Column)
		}
		sc.used[label] = pos
		return sc.prefix + label
	}
	for {
		sc.count[word]++
		n := fmt.Sprintf("%s%d", word, sc.count[word])
		if _, ok := sc.used[n]; !ok {
			sc.used[n] = pos
			return sc.prefix + n
		}
	}
}

func (r *resolver) add(sc *scope, n *Node) *Node {
	if r.aborted {
		return n
	}
	if len(r.net.Nodes) > MaxNodes { // Nodes[0] is the input
		r.aborted = true
		r.errorIn(sc, n.Pos, n.End, "check the repetition counts and the blocks that call each other", "the network expands to more than %d layers", MaxNodes)
		return n
	}
	n.ID = len(r.net.Nodes)
	n.Calls = sc.calls
	n.Aux = sc.aux
	r.net.Nodes = append(r.net.Nodes, n)
	return n
}

func (r *resolver) file(f *grammar.File) {
	var inputStmt *grammar.Input
	var netStmt *grammar.Network
	var mainChain *grammar.Chain
	var trainStmt *grammar.Train
	var prev *grammar.Stmt
	for i, st := range f.Stmts {
		if i > 0 {
			prev = f.Stmts[i-1]
		}
		switch {
		case st.Network != nil:
			if netStmt != nil {
				r.errorf(st.Network.Pos, endOf(st.Network.Tokens), "", "duplicate network line (the first is at %d:%d)", netStmt.Pos.Line, netStmt.Pos.Column)
				continue
			}
			netStmt = st.Network
		case st.Input != nil:
			if inputStmt != nil {
				r.errorf(st.Input.Pos, endOf(st.Input.Tokens), "a network has one input", "duplicate input line (the first is at %d:%d)", inputStmt.Pos.Line, inputStmt.Pos.Column)
				continue
			}
			inputStmt = st.Input
		case st.Block != nil:
			r.defineBlock(st.Block)
		case st.Train != nil:
			if trainStmt != nil {
				r.errorf(st.Train.Pos, st.Train.Pos, "", "duplicate train section (the first is at %d:%d)", trainStmt.Pos.Line, trainStmt.Pos.Column)
				continue
			}
			trainStmt = st.Train
		case st.Chain != nil:
			if mainChain != nil {
				p, e := span(st.Chain.First.Tokens)
				if prev != nil && prev.After == "" && prev.Chain != nil {
					// On the line of the chain before: `b() x 2`, `b() X2`, `b() relu`.
					hint, msg := "the elements of a chain are joined by ->", "unexpected %s: missing -> before it"
					if l := st.Chain.First.Layer; l != nil && repeatHint(l) != "" {
						hint, msg = repeatHint(l), "unexpected %s"
					}
					r.errorf(p, e, hint, msg, r.text(st.Chain.First.Tokens))
					continue
				}
				r.errorf(p, e, "continue the chain with a line that starts with ->", "a second chain: a network has one main chain (it starts at %d:%d)", mainChain.Pos.Line, mainChain.Pos.Column)
				continue
			}
			mainChain = st.Chain
		}
	}
	r.net.Name = FileName(r.net.File)
	if netStmt != nil {
		r.net.Name = netStmt.Name
	}
	in := &Node{Op: &op.Input{}, Name: "input", Text: "input"}
	if inputStmt == nil {
		start := lexer.Position{Filename: r.net.File, Line: 1, Column: 1}
		r.errorf(start, start, "write the input size on its own line, for example: input 227x227x3", "missing input: the network needs an `input HxWxC` line")
	} else {
		in.Pos, in.End = span(inputStmt.Tokens)
		in.Text = r.text(inputStmt.Tokens)
		r.net.InputPos = inputStmt.Pos
		p, e := span(inputStmt.Tokens[1:])
		dims := r.size(p, e, inputStmt.Size, nil)
		if len(dims) != 3 && dims != nil {
			r.errorf(p, e, "write height x width x channels, for example 28x28x1", "input %s: expected HxWxC", inputStmt.Size)
		} else if dims != nil {
			r.net.Input = op.Shape{H: dims[0], W: dims[1], C: dims[2]}
			in.Op = &op.Input{Dims: r.net.Input}
		}
	}
	top := newScope("")
	top.used["input"] = in.Pos
	r.add(top, in)
	if trainStmt != nil {
		r.train(trainStmt)
	}
	if mainChain == nil {
		if inputStmt != nil {
			r.errorf(inputStmt.Pos, endOf(inputStmt.Tokens), "add layers after the input, for example: conv 6 5x5 -> relu -> maxpool 2", "the network has no layers")
		}
		return
	}
	r.net.Output = r.chain(top, mainChain, in)
}

// repeatHint is the hint for a layer that is a misspelt repetition: `x 2`
// or `X2` after a block call or a group.
func repeatHint(l *grammar.Layer) string {
	switch {
	case (l.Word == "x" || l.Word == "X") && len(l.Args) == 1 && l.Args[0].Term != nil && l.Args[0].Term.Left.Number != nil:
		return "a repetition is written without a space: x" + *l.Args[0].Term.Left.Number
	case len(l.Args) == 0 && len(l.Word) > 1 && l.Word[0] == 'X' && strings.Trim(l.Word[1:], "0123456789") == "":
		return "a repetition is written with a lower-case x: x" + l.Word[1:]
	}
	return ""
}

// FileName is the network name a file gives when it has no network line:
// its base name made a name by the rule of the network line, ASCII letters,
// digits and _, not starting with a digit. Accents are dropped (réseau.cnn
// is reseau) and other characters become _ (resnet-18.cnn is resnet_18).
func FileName(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var b strings.Builder
	for _, c := range base {
		switch {
		case c == '_' || c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)):
			b.WriteRune(c)
		case fold[c] != "":
			b.WriteString(fold[c])
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}

// fold spells the accented Latin letters without their accents.
var fold = map[rune]string{}

func init() {
	for _, f := range []string{"aàáâãäåā", "AÀÁÂÃÄÅĀ", "cçćč", "CÇĆČ", "eèéêëēęě", "EÈÉÊËĒĘĚ", "iìíîïī", "IÌÍÎÏĪ",
		"nñń", "NÑŃ", "oòóôõöøō", "OÒÓÔÕÖØŌ", "uùúûüū", "UÙÚÛÜŪ", "yýÿ", "YÝ", "sśš", "SŚŠ", "zźżž", "ZŹŻŽ", "lł", "LŁ"} {
		rs := []rune(f)
		for _, r := range rs[1:] {
			fold[r] = string(rs[0])
		}
	}
	fold['ß'], fold['æ'], fold['Æ'], fold['œ'], fold['Œ'] = "ss", "ae", "AE", "oe", "OE"
}

func endOf(toks []lexer.Token) lexer.Position {
	_, e := span(toks)
	return e
}

var flagLike = regexp.MustCompile(`^[spgdx][0-9]+$`)

func (r *resolver) defineBlock(b *grammar.Block) {
	bname := string(b.Name)
	namePos := b.Pos
	namePos.Column += len("block ")
	nameEnd := namePos
	nameEnd.Column += len(bname)
	switch {
	case isLayerWord(bname) || keywords[bname]:
		r.errorf(namePos, nameEnd, "choose another name", "block name %q is a word of the language", bname)
		return
	case r.blocks[bname] != nil:
		prev := r.blocks[bname]
		r.errorf(namePos, nameEnd, "", "duplicate block %q (first defined at %d:%d)", bname, prev.Pos.Line, prev.Pos.Column)
		return
	}
	seen := map[string]bool{}
	for _, p := range b.Params {
		end := p.Pos
		end.Column += len(p.Name)
		switch {
		case seen[p.Name]:
			r.errorf(p.Pos, end, "", "duplicate parameter %q in block %s", p.Name, bname)
		case flagLike.MatchString(p.Name):
			r.errorf(p.Pos, end, "choose a name that does not read as a flag such as s2 or p1", "parameter name %q reads as a flag", p.Name)
		case isLayerWord(p.Name) || keywords[p.Name]:
			r.errorf(p.Pos, end, "choose another name", "parameter name %q is a word of the language", p.Name)
		}
		seen[p.Name] = true
	}
	r.blocks[bname] = b
}

// chain expands a chain starting from in; it returns the last node, or nil
// after an error that leaves no node to continue from.
func (r *resolver) chain(sc *scope, c *grammar.Chain, in *Node) *Node {
	out := r.element(sc, c.First, in)
	for _, l := range c.Rest {
		out = r.element(sc, l.Elem, out)
	}
	return out
}

func (r *resolver) element(sc *scope, e *grammar.Element, in *Node) *Node {
	if r.aborted {
		return in
	}
	label := ""
	if e.Label != nil {
		label = *e.Label
		end := e.Pos
		end.Column += len(label)
		if isLayerWord(label) || keywords[label] {
			r.errorIn(sc, e.Pos, end, "choose another label", "label %q is a word of the language", label)
			label = ""
		}
	}
	n := 1
	if e.Repeat == nil && e.Layer != nil {
		// `conv c 3x3 x(n)`: the grammar reads x(n) as a flag of the layer.
		if k := len(e.Layer.Args) - 1; k >= 0 && e.Layer.Args[k].Flag != nil && string(e.Layer.Args[k].Flag.Name) == "x" {
			a := e.Layer.Args[k]
			e.Repeat = &grammar.Repeat{Pos: a.Pos, Tokens: a.Tokens, Expr: a.Flag.Value}
			e.Layer.Args = e.Layer.Args[:k]
		}
	}
	if e.Repeat != nil {
		n = r.repeat(sc, e.Repeat)
		if e.Aux != nil {
			p, end := span(e.Repeat.Tokens)
			r.errorIn(sc, p, end, "", "an aux head cannot be repeated")
			n = 1
		}
	}
	for i := 0; i < n && !r.aborted; i++ {
		l := label
		if label != "" && n > 1 {
			l = fmt.Sprintf("%s.%d", label, i+1)
		}
		in = r.elementOnce(sc, e, in, l)
	}
	return in
}

func (r *resolver) repeat(sc *scope, rp *grammar.Repeat) int {
	p, end := span(rp.Tokens)
	var v float64
	if rp.Count != nil {
		var err error
		v, err = strconv.ParseFloat((*rp.Count)[1:], 64)
		if err != nil {
			v = math.Inf(1)
		}
	} else {
		var ok bool
		if v, ok = r.eval(sc, rp.Expr); !ok {
			return 1
		}
	}
	switch {
	case v != math.Trunc(v) || v < 1:
		r.errorIn(sc, p, end, "", "repetition count must be a whole number of at least 1, found %s", fmtNum(v))
		return 1
	case v > MaxRepeat:
		shown := fmtNum(v)
		if rp.Count != nil {
			shown = (*rp.Count)[1:] // as written
		}
		r.errorIn(sc, p, end, "", "repetition x%s exceeds the limit of %d", shown, MaxRepeat)
		return 1
	}
	return int(v)
}

// maxErrors stops the expansion of a file that has this many errors: a
// repeated mistake inside nested repetitions would otherwise be reported
// millions of times.
const maxErrors = 100

func (r *resolver) elementOnce(sc *scope, e *grammar.Element, in *Node, label string) *Node {
	if len(r.errs) >= maxErrors {
		r.aborted = true
		return nil
	}
	switch {
	case e.Layer != nil:
		return r.layer(sc, e.Layer, in, label)
	case e.Call != nil:
		return r.call(sc, e.Call, in, label)
	case e.Concat != nil:
		return r.concat(sc, e, in, label)
	case e.Residual != nil:
		return r.residual(sc, e, in, label)
	case e.Aux != nil:
		return r.aux(sc, e.Aux, in, label)
	case e.Group != nil:
		return r.group(sc, e.Group.Chain, in, label)
	case e.If != nil:
		return r.ifElem(sc, e.If, in, label)
	case e.Scale != nil:
		return r.scale(sc, e.Scale, in, label)
	}
	return in
}

func (r *resolver) call(sc *scope, c *grammar.Call, in *Node, label string) *Node {
	cname := string(c.Name)
	p, end := span(c.Tokens)
	nameEnd := c.Pos
	nameEnd.Column += len(cname)
	b := r.blocks[cname]
	if b == nil {
		hint := ""
		if isLayerWord(cname) {
			hint = fmt.Sprintf("%s is a layer word: write its arguments without parentheses, for example %s", cname, op.Lookup(cname).Usage)
		} else if len(r.blocks) > 0 {
			hint = "blocks defined: " + strings.Join(r.blockNames(), ", ")
		}
		r.errorIn(sc, c.Pos, nameEnd, hint, "undefined block %q", cname)
		return nil
	}
	for i, name := range sc.blocks {
		if name == cname {
			cycle := append(append([]string{}, sc.blocks[i:]...), cname)
			r.errorIn(sc, p, end, "a block cannot call itself, directly or through others", "recursive block: %s", strings.Join(cycle, " -> "))
			return nil
		}
	}
	if r.calls++; r.calls > MaxNodes {
		r.aborted = true
		r.errorIn(sc, p, end, "check the repetition counts and the blocks that call each other", "the network expands to more than %d block calls", MaxNodes)
		return nil
	}
	if len(sc.blocks) >= MaxDepth {
		r.errorIn(sc, p, end, "", "blocks nested more than %d deep", MaxDepth)
		return nil
	}
	if len(c.Args) != len(b.Params) {
		var names []string
		for _, q := range b.Params {
			names = append(names, q.Name)
		}
		r.errorIn(sc, p, end, fmt.Sprintf("block %s is defined at %d:%d as %s(%s)", string(b.Name), b.Pos.Line, b.Pos.Column, string(b.Name), strings.Join(names, ", ")),
			"block %s takes %d arguments, found %d", cname, len(b.Params), len(c.Args))
		return nil
	}
	inst := r.name(sc, cname, label, p, end)
	inner := newScope(inst + ".")
	inner.aux = sc.aux
	inner.calls = append(append([]CallSite{}, sc.calls...), CallSite{Block: cname, Instance: inst, Pos: p, End: end})
	inner.blocks = append(append([]string{}, sc.blocks...), cname)
	inner.inBlock, inner.input = true, in
	ok := true
	for i, a := range c.Args {
		v, good := r.eval(sc, a)
		ok = ok && good
		inner.env[b.Params[i].Name] = v
	}
	if !ok {
		return nil
	}
	return r.chain(inner, b.Body, in)
}

func (r *resolver) blockNames() []string {
	var names []string
	for n := range r.blocks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (r *resolver) concat(sc *scope, e *grammar.Element, in *Node, label string) *Node {
	c := e.Concat
	if c.Word == "split" {
		return r.split(sc, c, in, label)
	}
	outs := []*Node{r.chain(sc, c.First, in)}
	for _, b := range c.Branches {
		outs = append(outs, r.chain(sc, b.Chain, in))
	}
	end := c.Pos
	end.Column += len("concat")
	n := &Node{Op: &op.Concat{}, Text: "concat", Pos: c.Pos, End: end}
	n.Name = r.name(sc, "concat", label, c.Pos, end)
	for _, o := range outs {
		if o == nil {
			return nil
		}
	}
	n.Inputs = outs
	return r.add(sc, n)
}

func (r *resolver) residual(sc *scope, e *grammar.Element, in *Node, label string) *Node {
	res := e.Residual
	end := res.Pos
	end.Column += len("residual")
	if res.If != nil {
		yes, ok := r.condition(sc, res.If, "residual if")
		switch {
		case !ok:
			return nil
		case !yes:
			return r.chain(sc, res.Body, in)
		}
	}
	first := len(r.net.Nodes)
	body := r.chain(sc, res.Body, in)
	add := &op.Add{}
	n := &Node{Op: add, Text: "residual", Pos: res.Pos, End: end}
	n.Name = r.name(sc, "add", label, res.Pos, end)
	shortcut := in
	add.Shortcut = r.name(sc, "shortcut", "", res.Pos, end)
	if res.Shortcut != nil {
		shortcut = r.chain(sc.child(strings.TrimPrefix(add.Shortcut, sc.prefix)), res.Shortcut.Chain, in)
	} else {
		add.Implied = true
		for _, x := range r.net.Nodes[first:] {
			if _, ok := x.Op.(*op.BN); ok {
				add.ProjectBN = true
			}
		}
	}
	if body == nil || shortcut == nil {
		return nil
	}
	n.Inputs = []*Node{body, shortcut}
	return r.add(sc, n)
}

func (r *resolver) aux(sc *scope, a *grammar.Aux, in *Node, label string) *Node {
	p, end := a.Pos, a.Pos
	end.Column += len("aux")
	if sc.aux != nil {
		r.errorIn(sc, p, end, "", "an aux head inside an aux head")
		return in
	}
	w := 0.3
	if a.Weight != nil {
		v, ok := r.eval(sc, a.Weight)
		wp, we := span(a.Weight.Tokens)
		switch {
		case !ok:
		case v <= 0 || v > 1:
			r.errorIn(sc, wp, we, "the lecture's GoogLeNet uses 0.3", "aux weight must be in (0, 1], found %s", fmtNum(v))
		default:
			w = v
		}
	}
	name := r.name(sc, "aux", label, p, end)
	head := &AuxHead{Name: name, Weight: w, From: in, Pos: a.Pos}
	inner := sc.child(strings.TrimPrefix(name, sc.prefix))
	inner.aux = head
	if in == nil {
		return nil
	}
	head.Output = r.chain(inner, a.Head.Chain, in)
	if head.Output != nil && head.Output != in {
		r.net.Aux = append(r.net.Aux, head)
	}
	return in
}

// size parses an `AxB[xC]` token; every dimension must be in [1, MaxNumber].
func (r *resolver) size(pos, end lexer.Position, s string, sc *scope) []int {
	parts := strings.Split(s, "x")
	dims := make([]int, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		switch {
		case err != nil || v > MaxNumber:
			r.errorAt(sc, pos, end, "", "size %s: %s is too large (the limit is %d)", s, p, MaxNumber)
			return nil
		case v < 1:
			r.errorAt(sc, pos, end, "", "size %s: dimensions must be at least 1", s)
			return nil
		}
		dims[i] = v
	}
	return dims
}

func (r *resolver) errorAt(sc *scope, pos, end lexer.Position, hint, format string, args ...any) {
	if sc == nil {
		r.errorf(pos, end, hint, format, args...)
		return
	}
	r.errorIn(sc, pos, end, hint, format, args...)
}
