package lsp

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/grammar"
	"github.com/cnnc-dev/cnnc/op"
)

// analysis is everything the server knows about one version of a document:
// the errors `cnnc check` reports, and as much of the names, the graph and
// the shapes as could be built.
type analysis struct {
	text  *text
	base  int // length of a byte-order mark the compiler did not see
	file  *grammar.File
	net   *dsl.Network
	model *compiler.Model // partial when errs is not empty; nil without a network
	errs  dsl.ErrorList
	syms  *symbols
	tgts  []*target // what hover describes, once asked (targets)
}

// analyse runs the front end on src the way compiler.CompileSource does
// for `cnnc check`, keeping what was built when there are errors.
func analyse(filename, src string) *analysis {
	a := &analysis{text: newText(src)}
	body := grammar.TrimBOM([]byte(src))
	a.base = len(src) - len(body)
	f, errs := dsl.Parse(filename, body)
	if len(errs) > 0 {
		a.errs = errs
		return a
	}
	a.file = f
	a.syms = collectSymbols(a.text, a.base, f)
	net, errs := dsl.Resolve(filename, body, f)
	a.net, a.errs = net, errs
	if net == nil || net.Input == (op.Shape{}) {
		return a
	}
	m, cerrs := compiler.Compile(net)
	a.model = m
	a.errs = append(a.errs, cerrs...)
	a.errs.Sort()
	return a
}

// diagnostics are the analysis's errors as LSP diagnostics: every error
// `cnnc check` prints, in its order, its hint appended to the message and
// its notes as related information.
func (a *analysis) diagnostics(uri string) []Diagnostic {
	ds := []Diagnostic{}
	for _, e := range a.errs {
		msg := e.Msg
		if e.Hint != "" {
			msg += "\nhint: " + e.Hint
		}
		d := Diagnostic{Range: a.rangeOf(e.Pos, e.End), Severity: severityError, Source: "cnnc", Message: msg}
		for _, n := range e.Notes {
			d.RelatedInformation = append(d.RelatedInformation, RelatedInformation{
				Location: Location{URI: uri, Range: a.rangeOf(n.Pos, n.End)}, Message: n.Msg})
		}
		ds = append(ds, d)
	}
	return ds
}

// rangeOf is the LSP range of a compiler span.
func (a *analysis) rangeOf(pos, end lexer.Position) Range {
	return a.text.rangeOf(a.text.span(pos, end, a.base))
}

// layer is the checked layer of a node, nil when the compiler did not get
// to it.
func (a *analysis) layer(n *dsl.Node) *compiler.Layer {
	if a.model == nil {
		return nil
	}
	return a.model.ByNode[n]
}

// shapeText prints a layer's input shapes.
func shapeText(ss []op.Shape) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, " + ")
}
