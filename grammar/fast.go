package grammar

import (
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The participle parser costs about 30 µs and 16 KB per layer (reflection,
// a branch context for every alternative tried). fastParse is a hand-written
// lexer and recursive-descent parser for the same grammar that builds the
// same AST (positions and token ranges included; TestFastParse and
// FuzzFastParse compare the two) in linear time. It takes no alternative
// that participle would not take: wherever it is not sure, and on every
// syntax error, it gives up and Parse asks participle, so that the errors
// and their messages stay participle's.

// Token types, as the participle lexer numbers them.
var (
	tNL      = Lexer.Symbols()["NL"]
	tSpace   = Lexer.Symbols()["Space"]
	tComment = Lexer.Symbols()["Comment"]
	tSize    = Lexer.Symbols()["Size"]
	tNumber  = Lexer.Symbols()["Number"]
	tRepeat  = Lexer.Symbols()["Repeat"]
	tCall    = Lexer.Symbols()["Call"]
	tIdent   = Lexer.Symbols()["Ident"]
	tArrow   = Lexer.Symbols()["Arrow"]
	tField   = Lexer.Symbols()["Field"]
	tCmp     = Lexer.Symbols()["Cmp"]
	tPunct   = Lexer.Symbols()["Punct"]
)

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isWord(c byte) bool       { return isIdentStart(c) || isDigit(c) }

func digits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// match returns the type and end of the token at s[i:], trying Rules in
// order with their regular expressions' meaning; ok is false when no rule
// matches.
func match(s string, i int) (typ lexer.TokenType, end int, ok bool) {
	c := s[i]
	// NL: ([ \t\r]*(#[^\n]*)?\n)+
	end = -1
	for j := i; ; {
		k := j
		for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r') {
			k++
		}
		if k < len(s) && s[k] == '#' {
			if n := strings.IndexByte(s[k:], '\n'); n >= 0 {
				k += n
			} else {
				k = len(s)
			}
		}
		if k >= len(s) || s[k] != '\n' {
			break
		}
		j = k + 1
		end = j
	}
	if end > 0 {
		return tNL, end, true
	}
	switch {
	case c == ' ' || c == '\t' || c == '\r':
		j := i
		for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r') {
			j++
		}
		return tSpace, j, true
	case c == '#':
		if n := strings.IndexByte(s[i:], '\n'); n >= 0 {
			return tComment, i + n, true
		}
		return tComment, len(s), true
	case isDigit(c) || c == '.':
		j := digits(s, i)
		if j > i { // Size: [0-9]+(x[0-9]+)+
			k := j
			for k+1 < len(s) && s[k] == 'x' && isDigit(s[k+1]) {
				k = digits(s, k+1)
			}
			if k > j {
				return tSize, k, true
			}
		}
		// Number: ([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?
		switch {
		case j > i && j < len(s) && s[j] == '.':
			j = digits(s, j+1)
		case j > i:
		case i+1 < len(s) && isDigit(s[i+1]):
			j = digits(s, i+1)
		default:
			return 0, 0, false // "." alone
		}
		if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
			k := j + 1
			if k < len(s) && (s[k] == '-' || s[k] == '+') {
				k++
			}
			if k < len(s) && isDigit(s[k]) {
				j = digits(s, k)
			}
		}
		return tNumber, j, true
	case isIdentStart(c):
		if c == 'x' && i+1 < len(s) && isDigit(s[i+1]) { // Repeat: x[0-9]+\b
			if j := digits(s, i+1); j == len(s) || !isWord(s[j]) {
				return tRepeat, j, true
			}
		}
		j := i + 1
		for j < len(s) && isWord(s[j]) {
			j++
		}
		if j+1 < len(s) && s[j] == '.' && isIdentStart(s[j+1]) { // Field
			k := j + 2
			for k < len(s) && isWord(s[k]) {
				k++
			}
			return tField, k, true
		}
		if j < len(s) && s[j] == '(' {
			return tCall, j + 1, true
		}
		return tIdent, j, true
	case c == '-' && i+1 < len(s) && s[i+1] == '>':
		return tArrow, i + 2, true
	case strings.IndexByte("=!<>", c) >= 0 && i+1 < len(s) && s[i+1] == '=':
		return tCmp, i + 2, true
	case c == '<' || c == '>':
		return tCmp, i + 1, true
	case strings.IndexByte("-+*/(){}|,:", c) >= 0:
		return tPunct, i + 1, true
	}
	return 0, 0, false
}

// lexOne appends the next token of the source (EOF at its end) to p.toks,
// as the participle lexer would; it gives up at a character no rule
// matches, and stops at the limit on tokens.
func (p *fast) lexOne() {
	s, i := p.src, p.pos.Offset
	if i >= len(s) {
		p.toks = append(p.toks, lexer.EOFToken(p.pos))
		return
	}
	typ, end, ok := match(s, i)
	if !ok {
		panic(giveUp{bad: true})
	}
	if !elided(typ) && typ != tNL {
		if p.words++; p.maxWords > 0 && p.words > p.maxWords {
			panic(&LimitError{Pos: p.pos, Of: "words", Limit: p.maxWords})
		}
	}
	span := s[i:end]
	p.toks = append(p.toks, lexer.Token{Type: typ, Value: span, Pos: p.pos})
	if typ == tNL || typ == tComment {
		p.pos.Advance(span)
	} else { // one line, ASCII
		p.pos.Offset += len(span)
		p.pos.Column += len(span)
	}
}

// count is the pre-scan: it counts the tokens of the source (up to a
// character no rule matches), so that they are stored in one allocation,
// and stops with a *LimitError at the first word past the limit, before
// anything is parsed.
func (p *fast) count() int {
	n, words := 0, 0
	for i := 0; i < len(p.src); n++ {
		typ, end, ok := match(p.src, i)
		if !ok {
			break
		}
		if !elided(typ) && typ != tNL {
			if words++; p.maxWords > 0 && words > p.maxWords {
				pos := p.pos
				pos.Advance(p.src[:i])
				panic(&LimitError{Pos: pos, Of: "words", Limit: p.maxWords})
			}
		}
		i = end
	}
	return n
}

// tok returns token i, lexing up to it.
func (p *fast) tok(i int) *lexer.Token {
	for len(p.toks) <= i {
		if n := len(p.toks); n > 0 && p.toks[n-1].Type == lexer.EOF {
			return &p.toks[n-1]
		}
		p.lexOne()
	}
	return &p.toks[i]
}

// Limits bound what ParseLimited reads; 0 is no limit.
type Limits struct {
	Elements int // layers, block calls and groups written
	Words    int // tokens other than spaces, comments and line breaks: words, numbers, symbols
	Args     int // arguments of one layer or setting
}

// LimitError is returned by ParseLimited when a file crosses one of its
// Limits: the parse stops at Pos.
type LimitError struct {
	Pos   lexer.Position
	Of    string // "words", "elements" or "args"
	Word  string // for "args": the layer word or setting key
	Limit int
}

func (e *LimitError) Error() string { return fmt.Sprintf("%s: more than %d", e.Pos, e.Limit) }

// giveUp is panicked by the fast parser when participle must decide: at a
// token, or at a character no rule matches (bad).
type giveUp struct {
	at  *lexer.Token
	bad bool
}

// slab hands out values of T from blocks (of 8, 16, ... up to 256): the
// AST's many small nodes cost one allocation per block instead of one each.
type slab[T any] struct {
	free []T
	n    int // size of the last block
}

func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.n = min(max(2*s.n, 8), 256)
		s.free = make([]T, s.n)
	}
	x := &s.free[0]
	s.free = s.free[1:]
	return x
}

type fast struct {
	elements slab[Element]
	links    slab[Link]
	layers   slab[Layer]
	argsOf   slab[Arg]
	terms    slab[Term]
	factors  slab[Factor]
	strs     slab[string]

	src       string
	pos       lexer.Position // of the next token to lex
	toks      []lexer.Token  // lexed so far
	raw, next int            // participle's raw cursor and next non-elided token

	elems, maxElems int
	words, maxWords int
	maxArgs         int
}

func elided(t lexer.TokenType) bool { return t == tSpace || t == tComment }

// peek returns the k-th non-elided token from the cursor (0 is the next).
func (p *fast) peek(k int) *lexer.Token {
	i := p.next
	for {
		t := p.tok(i)
		if t.Type == lexer.EOF || (!elided(t.Type) && k == 0) {
			return t
		}
		if !elided(t.Type) {
			k--
		}
		i++
	}
}

func (p *fast) is(k int, value string) bool {
	return p.peek(k).Value == value && p.peek(k).Type != lexer.EOF
}
func (p *fast) isType(k int, typ lexer.TokenType) bool { return p.peek(k).Type == typ }

func (p *fast) fail() { panic(giveUp{at: p.peek(0)}) }

// take consumes the next token.
func (p *fast) take() string {
	t := p.tok(p.next)
	if t.Type == lexer.EOF {
		p.fail()
	}
	p.next++
	p.raw = p.next
	p.skip()
	return t.Value
}

func (p *fast) expect(value string) {
	if !p.is(0, value) {
		p.fail()
	}
	p.take()
}

func (p *fast) expectType(typ lexer.TokenType) string {
	if !p.isType(0, typ) {
		p.fail()
	}
	return p.take()
}

func (p *fast) optNL() string {
	if p.isType(0, tNL) {
		return p.take()
	}
	return ""
}

func (p *fast) str(v string) *string {
	s := p.strs.new()
	*s = v
	return s
}

// skip moves the next cursor past elided tokens.
func (p *fast) skip() {
	for elided(p.tok(p.next).Type) {
		p.next++
	}
}

func (p *fast) at() lexer.Position { return p.tok(p.next).Pos }

// span is participle's Tokens of a node that started at raw cursor start.
func (p *fast) span(start int) []lexer.Token { return p.toks[start:p.raw:p.raw] }

func (p *fast) file() *File {
	f := &File{Pos: p.at()}
	f.Head = p.optNL()
	for !p.isType(0, lexer.EOF) {
		f.Stmts = append(f.Stmts, p.stmt())
	}
	return f
}

func (p *fast) stmt() *Stmt {
	st := &Stmt{Pos: p.at()}
	switch {
	case p.is(0, "network") && p.isType(1, tIdent):
		st.Network = &Network{Pos: p.at()}
		start := p.raw
		p.take()
		st.Network.Name = p.take()
		st.Network.Tokens = p.span(start)
	case p.is(0, "input") && p.isType(1, tSize):
		st.Input = &Input{Pos: p.at()}
		start := p.raw
		p.take()
		st.Input.Size = p.take()
		st.Input.Tokens = p.span(start)
	case p.is(0, "block") && p.isType(1, tCall):
		st.Block = p.block()
	case p.is(0, "train") && p.is(1, "{"):
		st.Train = p.train()
	default:
		st.Chain = p.chain()
	}
	st.After = p.optNL()
	return st
}

func (p *fast) block() *Block {
	b := &Block{Pos: p.at()}
	start := p.raw
	p.take()
	b.Name = CallName(strings.TrimSuffix(p.take(), "("))
	if p.isType(0, tIdent) {
		for {
			b.Params = append(b.Params, &Param{Pos: p.at(), Name: p.expectType(tIdent)})
			if !p.is(0, ",") {
				break
			}
			p.take()
		}
	}
	p.expect(")")
	p.expect("{")
	b.Open = p.optNL()
	b.Body = p.chain()
	b.Close = p.optNL()
	p.expect("}")
	b.Tokens = p.span(start)
	return b
}

func (p *fast) train() *Train {
	t := &Train{Pos: p.at()}
	p.take()
	p.take()
	t.Open = p.optNL()
	for p.isType(0, tIdent) {
		s := &Setting{Pos: p.at()}
		start := p.raw
		s.Key = p.take()
		s.Args = p.args(s.Key)
		s.After = p.optNL()
		s.Tokens = p.span(start)
		t.Settings = append(t.Settings, s)
	}
	p.expect("}")
	return t
}

// chain: Element ( NL? "->" NL? Element )*.
func (p *fast) chain() *Chain {
	c := &Chain{Pos: p.at(), First: p.element()}
	for p.isType(0, tArrow) || p.isType(0, tNL) && p.isType(1, tArrow) {
		l := p.links.new()
		l.Pos = p.at()
		l.Before = p.optNL()
		p.take()
		l.After = p.optNL()
		l.Elem = p.element()
		c.Rest = append(c.Rest, l)
	}
	return c
}

func (p *fast) element() *Element {
	if p.elems++; p.maxElems > 0 && p.elems > p.maxElems {
		panic(&LimitError{Pos: p.at(), Of: "elements", Limit: p.maxElems})
	}
	e := p.elements.new()
	e.Pos = p.at()
	start := p.raw
	if p.isType(0, tIdent) && p.is(1, ":") {
		e.Label = p.str(p.take())
		p.take()
	}
	switch {
	case (p.is(0, "concat") || p.is(0, "split")) && p.is(1, "{"):
		e.Concat = p.concat()
	case p.is(0, "residual") && (p.is(1, "{") || p.is(1, "if")):
		e.Residual = p.residual()
	case p.is(0, "aux") && (p.is(1, "{") || p.is(1, "weight")):
		e.Aux = p.aux()
	case p.is(0, "scale") && p.is(1, "{"):
		e.Scale = &Scale{Pos: p.at()}
		p.take()
		e.Scale.Body = p.braced()
	case p.is(0, "if"):
		e.If = &If{Pos: p.at()}
		p.take()
		e.If.Cond = p.cond()
		e.If.Body = p.braced()
	case p.is(0, "("):
		g := &Group{Pos: p.at()}
		p.take()
		g.Open = p.optNL()
		g.Chain = p.chain()
		g.Close = p.optNL()
		p.expect(")")
		e.Group = g
	case p.isType(0, tCall):
		e.Call = p.call()
	case p.isType(0, tIdent):
		l := p.layers.new()
		l.Pos = p.at()
		start := p.raw
		l.Word = p.take()
		l.Args = p.args(l.Word)
		l.Tokens = p.span(start)
		e.Layer = l
	default:
		p.fail()
	}
	switch {
	case p.isType(0, tRepeat):
		r := &Repeat{Pos: p.at()}
		start := p.raw
		r.Count = p.str(p.take())
		r.Tokens = p.span(start)
		e.Repeat = r
	case p.is(0, "x("):
		r := &Repeat{Pos: p.at()}
		start := p.raw
		p.take()
		r.Expr = p.expr()
		p.expect(")")
		r.Tokens = p.span(start)
		e.Repeat = r
	}
	e.Tokens = p.span(start)
	return e
}

func (p *fast) concat() *Concat {
	c := &Concat{Pos: p.at()}
	c.Word = p.take()
	p.take()
	c.Open = p.optNL()
	c.First = p.chain()
	for p.is(0, "|") || p.isType(0, tNL) && p.is(1, "|") {
		b := &Branch{Pos: p.at()}
		b.Before = p.optNL()
		p.take()
		b.After = p.optNL()
		b.Chain = p.chain()
		c.Branches = append(c.Branches, b)
	}
	c.Close = p.optNL()
	p.expect("}")
	return c
}

func (p *fast) residual() *Residual {
	r := &Residual{Pos: p.at()}
	p.take()
	if p.is(0, "if") {
		p.take()
		r.If = p.cond()
	}
	p.expect("{")
	r.Open = p.optNL()
	r.Body = p.chain()
	r.Close = p.optNL()
	p.expect("}")
	if p.is(0, "shortcut") {
		if !p.is(1, "{") {
			p.fail()
		}
		p.take()
		r.Shortcut = p.braced()
	}
	return r
}

func (p *fast) braced() *Braced {
	b := &Braced{Pos: p.at()}
	p.expect("{")
	b.Open = p.optNL()
	b.Chain = p.chain()
	b.Close = p.optNL()
	p.expect("}")
	return b
}

func (p *fast) aux() *Aux {
	a := &Aux{Pos: p.at()}
	start := p.raw
	p.take()
	if p.is(0, "weight") {
		p.take()
		a.Weight = p.expr()
	}
	a.Head = p.braced()
	a.Tokens = p.span(start)
	return a
}

func (p *fast) call() *Call {
	c := &Call{Pos: p.at()}
	start := p.raw
	c.Name = CallName(strings.TrimSuffix(p.take(), "("))
	if !p.is(0, ")") {
		for {
			c.Args = append(c.Args, p.expr())
			if !p.is(0, ",") {
				break
			}
			p.take()
		}
	}
	p.expect(")")
	c.Tokens = p.span(start)
	return c
}

// args: Arg*, where an Arg is a Size, a Flag or a Term; word is the
// layer's or setting's.
func (p *fast) args(word string) []*Arg {
	var args []*Arg
	for {
		t := p.peek(0)
		if p.maxArgs > 0 && len(args) == p.maxArgs && (t.Type == tSize || t.Type == tCall || t.Type == tNumber || t.Type == tIdent || t.Type == tField || t.Value == "(" || t.Value == "-") {
			panic(&LimitError{Pos: t.Pos, Of: "args", Word: word, Limit: p.maxArgs})
		}
		a := p.argsOf.new()
		a.Pos = t.Pos
		start := p.raw
		switch {
		case t.Type == tSize:
			a.Size = p.str(p.take())
		case t.Type == tCall:
			f := &Flag{Pos: t.Pos}
			f.Name = CallName(strings.TrimSuffix(p.take(), "("))
			f.Value = p.expr()
			p.expect(")")
			a.Flag = f
		case t.Type == tNumber || t.Type == tIdent || t.Type == tField || t.Value == "(" || t.Value == "-":
			a.Term = p.term()
		default:
			return args
		}
		a.Tokens = p.span(start)
		args = append(args, a)
	}
}

func (p *fast) expr() *Expr {
	e := &Expr{Pos: p.at()}
	start := p.raw
	e.Left = p.term()
	for p.is(0, "+") || p.is(0, "-") {
		op := p.take()
		e.Rest = append(e.Rest, &OpTerm{Op: op, Term: p.term()})
	}
	e.Tokens = p.span(start)
	return e
}

func (p *fast) term() *Term {
	t := p.terms.new()
	t.Left = p.factor()
	for p.is(0, "*") || p.is(0, "/") {
		op := p.take()
		t.Rest = append(t.Rest, &OpFactor{Op: op, Factor: p.factor()})
	}
	return t
}

func (p *fast) factor() *Factor {
	f := p.factors.new()
	f.Pos = p.at()
	if p.is(0, "-") {
		p.take()
		f.Neg = true
	}
	switch {
	case p.isType(0, tNumber):
		f.Number = p.str(p.take())
	case p.isType(0, tIdent) || p.isType(0, tField):
		f.Ident = p.str(p.take())
	case p.is(0, "("):
		p.take()
		f.Sub = p.cond()
		p.expect(")")
	default:
		p.fail()
	}
	return f
}

// cond: Conj ( "or" Conj )*, Conj: Neg ( "and" Neg )*, Neg: "not"? Expr
// ( Cmp Expr )?.
func (p *fast) cond() *Cond {
	c := &Cond{Pos: p.at()}
	start := p.raw
	c.Left = p.conj()
	for p.is(0, "or") {
		p.take()
		c.Rest = append(c.Rest, p.conj())
	}
	c.Tokens = p.span(start)
	return c
}

func (p *fast) conj() *Conj {
	c := &Conj{Left: p.neg()}
	for p.is(0, "and") {
		p.take()
		c.Rest = append(c.Rest, p.neg())
	}
	return c
}

func (p *fast) neg() *Neg {
	n := &Neg{Pos: p.at(), Cmp: &Cmp{}}
	if p.is(0, "not") {
		p.take()
		n.Not = true
	}
	n.Cmp.Left = p.expr()
	if p.isType(0, tCmp) {
		n.Cmp.Op = p.str(p.take())
		n.Cmp.Right = p.expr()
	}
	return n
}

// fastParse parses src with the hand-written parser. ok is false when it
// gave up (a syntax error, or something participle must decide); at is then
// the token where it stopped, or nil at a character no rule matches (bad
// is its position). A crossed limit stops it with a *LimitError.
func fastParse(filename string, src []byte, lim Limits) (f *File, ok bool, at *lexer.Token, bad lexer.Position, limit *LimitError) {
	p := &fast{src: string(src), pos: lexer.Position{Filename: filename, Line: 1, Column: 1}, maxElems: lim.Elements, maxWords: lim.Words, maxArgs: lim.Args}
	defer func() {
		switch x := recover().(type) {
		case nil:
		case giveUp:
			f, ok, at, bad = nil, false, x.at, p.pos
		case *LimitError:
			f, ok, limit = nil, false, x
		default:
			panic(x)
		}
	}()
	p.toks = make([]lexer.Token, 0, p.count()+1)
	p.skip()
	return p.file(), true, nil, bad, nil
}

// fallbackSize is the largest file whose syntax errors participle reports
// (with what it expected); a larger file's are reported by the fast parser.
const fallbackSize = 64 << 10

// ParseLimited parses src as Parse does, stopping with a *LimitError when
// the file crosses a limit.
func ParseLimited(filename string, src []byte, lim Limits) (*File, error) {
	f, ok, at, bad, limit := fastParse(filename, src, lim)
	switch {
	case ok:
		return f, nil
	case limit != nil:
		return nil, limit
	case len(src) <= fallbackSize:
		return Parser.ParseBytes(filename, src)
	case at == nil:
		return nil, &lexer.Error{Msg: fmt.Sprintf("invalid input text %q", sample(src[bad.Offset:])), Pos: bad}
	}
	return nil, &participle.UnexpectedTokenError{Unexpected: *at}
}

func sample(b []byte) string {
	r := []rune(string(b[:min(len(b), 64)]))
	if len(r) > 16 {
		r = append(r[:16], []rune("...")...)
	}
	return string(r)
}
