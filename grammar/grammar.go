// Package grammar is the syntax of the .cnn language: the lexer, the
// participle grammar and the AST it produces. Every AST node carries its
// source position and tokens; meaning (blocks, shapes, names) belongs to
// package dsl.
//
// Newlines are significant: a statement ends at the end of its line, and a
// chain continues on the next line when that line starts with "->" (or the
// line before ends with one). A run of blank lines and comment lines is one
// NL token whose text keeps the comments, so that the formatter can print
// them back.
package grammar

import (
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Rules are the tokens of .cnn files, tried in order.
var Rules = []lexer.SimpleRule{
	{Name: "NL", Pattern: `([ \t\r]*(#[^\n]*)?\n)+`},
	{Name: "Space", Pattern: `[ \t\r]+`},
	{Name: "Comment", Pattern: `#[^\n]*`},
	{Name: "Size", Pattern: `[0-9]+(x[0-9]+)+`},
	{Name: "Number", Pattern: `([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?`},
	{Name: "Repeat", Pattern: `x[0-9]+\b`},
	{Name: "Field", Pattern: `[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Call", Pattern: `[A-Za-z_][A-Za-z0-9_]*\(`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Arrow", Pattern: `->`},
	{Name: "Cmp", Pattern: `[=!<>]=|[<>]`},
	{Name: "Punct", Pattern: `[-+*/(){}|,:]`},
}

// Lexer is the lexer built from Rules.
var Lexer = lexer.MustSimple(Rules)

// File is a whole .cnn file: statements, one per line.
type File struct {
	Pos   lexer.Position
	Head  string  `parser:"@NL?"`
	Stmts []*Stmt `parser:"@@*"`
}

// Stmt is one top-level statement.
type Stmt struct {
	Pos     lexer.Position
	Network *Network `parser:"( @@"`
	Input   *Input   `parser:"| @@"`
	Block   *Block   `parser:"| @@"`
	Train   *Train   `parser:"| @@"`
	Chain   *Chain   `parser:"| @@ )"`
	After   string   `parser:"@NL?"`
}

// Network is `network NAME`.
type Network struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Name   string `parser:"'network' @Ident"`
}

// Input is `input HxWxC`.
type Input struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Size   string `parser:"'input' @Size"`
}

// Block is `block NAME(p, q) { chain }`.
type Block struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Name   CallName `parser:"'block' @Call"`
	Params []*Param `parser:"( @@ ( ',' @@ )* )? ')'"`
	Open   string   `parser:"'{' @NL?"`
	Body   *Chain   `parser:"@@"`
	Close  string   `parser:"@NL? '}'"`
}

// Param is one formal parameter of a block.
type Param struct {
	Pos  lexer.Position
	Name string `parser:"@Ident"`
}

// Train is the training recipe: `train { setting... }`, one setting a line.
type Train struct {
	Pos      lexer.Position
	Open     string     `parser:"'train' '{' @NL?"`
	Settings []*Setting `parser:"@@*"`
	Close    string     `parser:"'}'"`
}

// Setting is one line of a train section: a key word and its arguments.
type Setting struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Key    string `parser:"@Ident"`
	Args   []*Arg `parser:"@@*"`
	After  string `parser:"@NL?"`
}

// Chain is elements joined by arrows.
type Chain struct {
	Pos   lexer.Position
	First *Element `parser:"@@"`
	Rest  []*Link  `parser:"@@*"`
}

// Link is one `-> element` of a chain; Before and After hold the line
// breaks (and comments) around the arrow.
type Link struct {
	Pos    lexer.Position
	Before string   `parser:"@NL? '->'"`
	After  string   `parser:"@NL?"`
	Elem   *Element `parser:"@@"`
}

// Element is one step of a chain: a layer, a block call or a group,
// optionally labelled (`conv1: conv 96 11x11 s4`) and repeated (`x3`).
type Element struct {
	Pos      lexer.Position
	Tokens   []lexer.Token
	Label    *string   `parser:"( @Ident ':' )?"`
	Concat   *Concat   `parser:"( @@"`
	Residual *Residual `parser:"| @@"`
	Aux      *Aux      `parser:"| @@"`
	Scale    *Scale    `parser:"| @@"`
	If       *If       `parser:"| @@"`
	Group    *Group    `parser:"| @@"`
	Call     *Call     `parser:"| @@"`
	Layer    *Layer    `parser:"| @@ )"`
	Repeat   *Repeat   `parser:"@@?"`
}

// Concat is `concat { chain | chain ... }`: parallel branches joined by
// depth concatenation; or `split { chain | chain ... }`: the input's
// channels split into equal parts, branch i on part i, joined by depth
// concatenation.
type Concat struct {
	Pos      lexer.Position
	Word     string    `parser:"@( 'concat' | 'split' )"`
	Open     string    `parser:"'{' @NL?"`
	First    *Chain    `parser:"@@"`
	Branches []*Branch `parser:"@@*"`
	Close    string    `parser:"@NL? '}'"`
}

// Branch is one `| chain` of a concat.
type Branch struct {
	Pos    lexer.Position
	Before string `parser:"@NL? '|'"`
	After  string `parser:"@NL?"`
	Chain  *Chain `parser:"@@"`
}

// Residual is `residual [if COND] { body } [shortcut { chain }]`:
// h(x) = f(x) + x; with a condition that is false, the body alone.
type Residual struct {
	Pos      lexer.Position
	If       *Cond   `parser:"'residual' ( 'if' @@ )?"`
	Open     string  `parser:"'{' @NL?"`
	Body     *Chain  `parser:"@@"`
	Close    string  `parser:"@NL? '}'"`
	Shortcut *Braced `parser:"( 'shortcut' @@ )?"`
}

// Braced is `{ chain }`.
type Braced struct {
	Pos   lexer.Position
	Open  string `parser:"'{' @NL?"`
	Chain *Chain `parser:"@@"`
	Close string `parser:"@NL? '}'"`
}

// Aux is `aux [weight W] { chain }`: an auxiliary head.
type Aux struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Weight *Expr   `parser:"'aux' ( 'weight' @@ )?"`
	Head   *Braced `parser:"@@"`
}

// Scale is `scale { chain }`: the input multiplied, channel by channel,
// by the chain's 1x1xC output (squeeze-and-excitation).
type Scale struct {
	Pos  lexer.Position
	Body *Braced `parser:"'scale' @@"`
}

// If is `if COND { chain }`: the chain when COND holds, nothing otherwise.
type If struct {
	Pos  lexer.Position
	Cond *Cond   `parser:"'if' @@"`
	Body *Braced `parser:"@@"`
}

// Group is `( chain )`: a sub-chain, to repeat it as one element.
type Group struct {
	Pos   lexer.Position
	Open  string `parser:"'(' @NL?"`
	Chain *Chain `parser:"@@"`
	Close string `parser:"@NL? ')'"`
}

// Call is a block call `name(arg, ...)`.
type Call struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Name   CallName `parser:"@Call"`
	Args   []*Expr  `parser:"( @@ ( ',' @@ )* )? ')'"`
}

// Layer is a layer word and its arguments: `conv 96 11x11 s4`.
type Layer struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Word   string `parser:"@Ident"`
	Args   []*Arg `parser:"@@*"`
}

// Repeat is `xN` or `x(expr)` after an element.
type Repeat struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Count  *string `parser:"( @Repeat"`
	Expr   *Expr   `parser:"| 'x(' @@ ')' )"`
}

// Arg is one argument of a layer or setting: a size (`11x11`), a flag with
// a parenthesised value (`s(stride)`), or a product (`96`, `s4`, `same`,
// `c*4`, `-1`). Sums need parentheses, `(c+1)`, so that `lr -1` reads as two
// arguments.
type Arg struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Size   *string `parser:"( @Size"`
	Flag   *Flag   `parser:"| @@"`
	Term   *Term   `parser:"| @@ )"`
}

// Flag is `name(expr)`, for example `s(stride)`.
type Flag struct {
	Pos   lexer.Position
	Name  CallName `parser:"@Call"`
	Value *Expr    `parser:"@@ ')'"`
}

// Expr is a sum of terms.
type Expr struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Left   *Term     `parser:"@@"`
	Rest   []*OpTerm `parser:"@@*"`
}

// OpTerm is `+ term` or `- term`.
type OpTerm struct {
	Op   string `parser:"@('+' | '-')"`
	Term *Term  `parser:"@@"`
}

// Term is a product of factors.
type Term struct {
	Left *Factor     `parser:"@@"`
	Rest []*OpFactor `parser:"@@*"`
}

// OpFactor is `* factor` or `/ factor`.
type OpFactor struct {
	Op     string  `parser:"@('*' | '/')"`
	Factor *Factor `parser:"@@"`
}

// Factor is a number, a name (`c`, or a field such as `in.c`) or a
// parenthesised expression or condition, optionally negated.
type Factor struct {
	Pos    lexer.Position
	Neg    bool    `parser:"@'-'?"`
	Number *string `parser:"( @Number"`
	Ident  *string `parser:"| @( Ident | Field )"`
	Sub    *Cond   `parser:"| '(' @@ ')' )"`
}

// Cond is a condition, `a or b`; without a logical operator or a
// comparison it is an expression. Conditions are evaluated when the
// network is resolved: `if s == 1 and in.c == c { ... }`.
type Cond struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Left   *Conj   `parser:"@@"`
	Rest   []*Conj `parser:"( 'or' @@ )*"`
}

// Conj is `a and b`.
type Conj struct {
	Left *Neg   `parser:"@@"`
	Rest []*Neg `parser:"( 'and' @@ )*"`
}

// Neg is a comparison, optionally negated: `not a == b`.
type Neg struct {
	Pos lexer.Position
	Not bool `parser:"@'not'?"`
	Cmp *Cmp `parser:"@@"`
}

// Cmp is an expression, or a comparison of two: `a <= b`.
type Cmp struct {
	Left  *Expr   `parser:"@@"`
	Op    *string `parser:"( @Cmp"`
	Right *Expr   `parser:"  @@ )?"`
}

// CallName is a name written directly before "(": a block, a block call, a
// flag such as s(stride). The lexer keeps "name(" as one token, so that
// `conv (c+1) 3x3` (a space before the parenthesis) is a layer with a
// parenthesised argument, not a call.
type CallName string

// Capture implements participle.Capture: it drops the "(".
func (n *CallName) Capture(values []string) error {
	*n = CallName(strings.TrimSuffix(strings.Join(values, ""), "("))
	return nil
}

// Parser is the participle parser for File.
var Parser = participle.MustBuild[File](
	participle.Lexer(Lexer),
	participle.Elide("Space", "Comment"),
	participle.UseLookahead(4),
)

// Parse parses src; filename is used in positions. The error, if any, is a
// participle.Error with a position. It runs the fast parser (fast.go), and
// Parser where that one gives up.
func Parse(filename string, src []byte) (*File, error) {
	return ParseLimited(filename, src, Limits{})
}

// EBNF is the grammar printed by participle from the parser itself.
func EBNF() string { return Parser.String() }
