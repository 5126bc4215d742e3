package lsp

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/grammar"
)

// maxRows is how many instances of a layer a hover lists.
const maxRows = 12

// target is something written in the file that hover describes: a layer
// (every instance of it, when it is in a block) or a block call (every
// instance it makes, when it is repeated).
type target struct {
	start, end int
	nodes      []*dsl.Node // a layer's instances
	call       string      // a call's block, with instances below
	instances  []string
}

// targets lists what is written at each span of the document, computed
// on the first hover of a version of the document.
func (a *analysis) targets() []*target {
	if a.tgts == nil && a.net != nil {
		a.tgts = a.findTargets()
	}
	return a.tgts
}

func (a *analysis) findTargets() []*target {
	bySpan := map[[2]int]*target{}
	get := func(start, end int) *target {
		k := [2]int{start, end}
		t := bySpan[k]
		if t == nil {
			t = &target{start: start, end: end}
			bySpan[k] = t
		}
		return t
	}
	for _, n := range a.net.Nodes {
		if l := a.layer(n); l != nil && l.Implied {
			continue
		}
		t := get(a.text.span(n.Pos, n.End, a.base))
		t.nodes = append(t.nodes, n)
		for _, cs := range n.Calls {
			t := get(a.text.span(cs.Pos, cs.End, a.base))
			t.call = cs.Block
			if k := len(t.instances); k == 0 || t.instances[k-1] != cs.Instance {
				t.instances = append(t.instances, cs.Instance)
			}
		}
	}
	var ts []*target
	for _, t := range bySpan {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].start != ts[j].start {
			return ts[i].start < ts[j].start
		}
		return ts[i].end < ts[j].end
	})
	return ts
}

// targetAt is the narrowest target whose span holds off.
func (a *analysis) targetAt(off int) *target {
	var best *target
	for _, t := range a.targets() {
		if t.start <= off && off < t.end && (best == nil || t.end-t.start < best.end-best.start) {
			best = t
		}
	}
	return best
}

func (s *Server) hover(params json.RawMessage) (any, *rpcError) {
	p, d, err := request[positionParams](s, params)
	if err != nil {
		return nil, err
	}
	a := d.a
	off := a.text.offset(p.Position)
	t := a.targetAt(off)
	if t == nil {
		t = a.blockTarget(off)
	}
	if t == nil {
		return nil, nil
	}
	var md string
	if t.call != "" {
		md = a.callHover(t)
	} else {
		md = a.layerHover(t)
	}
	if md == "" {
		return nil, nil
	}
	r := a.text.rangeOf(t.start, t.end)
	return Hover{Contents: MarkupContent{Kind: "markdown", Value: md}, Range: &r}, nil
}

// blockTarget is the name of a block definition at off, with every
// instance its calls make, at any depth.
func (a *analysis) blockTarget(off int) *target {
	if a.syms == nil || a.net == nil {
		return nil
	}
	o, ok := a.syms.at(off)
	name, isBlock := strings.CutPrefix(o.key, "block ")
	if !ok || !o.decl || !isBlock {
		return nil
	}
	t := &target{start: o.start, end: o.end, call: name}
	for _, n := range a.net.Nodes {
		for _, cs := range n.Calls {
			if k := len(t.instances); cs.Block == name && (k == 0 || t.instances[k-1] != cs.Instance) {
				t.instances = append(t.instances, cs.Instance)
			}
		}
	}
	return t
}

// layerHover is a table of a layer's instances: input and output shapes,
// parameters, MACs.
func (a *analysis) layerHover(t *target) string {
	n := t.nodes[0]
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (%s)\n\n", n.Text, n.Word())
	if n.Op.Kind().Usage != "" {
		fmt.Fprintf(&b, "`%s`\n\n", n.Op.Kind().Usage)
	}
	rows := 0
	for _, n := range t.nodes {
		l := a.layer(n)
		if l == nil || l.Out.C == 0 {
			continue
		}
		if rows == 0 {
			b.WriteString("| layer | input | output | params | MACs |\n| --- | --- | --- | ---: | ---: |\n")
		}
		rows++
		if rows > maxRows {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", n.Name, shapeText(l.In), l.Out, compiler.Comma(l.Params), compiler.Comma(l.MACs))
	}
	if rows > maxRows {
		fmt.Fprintf(&b, "\nand %d more instances\n", rows-maxRows)
	}
	if rows == 0 {
		b.WriteString("shapes unknown: the file has errors before this layer\n")
	}
	return b.String()
}

// callHover describes each instance a block call makes: the shapes in and
// out, and the sums of its layers' parameters and MACs (an implied
// projection shortcut included).
func (a *analysis) callHover(t *target) string {
	if a.model == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (block %s)\n\n", strings.TrimSpace(a.text.src[t.start:t.end]), t.call)
	rows := 0
	for _, inst := range t.instances {
		var first, last *compiler.Layer
		var params, macs int64
		for _, l := range a.model.Layers {
			if !calledBy(l.Node, inst) {
				continue
			}
			if first == nil {
				first = l
			}
			if l.Node.Aux == nil || first.Node.Aux != nil {
				last = l
			}
			params += l.Params
			macs += l.MACs
		}
		if first == nil {
			continue
		}
		if rows == 0 {
			b.WriteString("| instance | input | output | params | MACs |\n| --- | --- | --- | ---: | ---: |\n")
		}
		rows++
		if rows <= maxRows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", inst, shapeText(first.In), last.Out, compiler.Comma(params), compiler.Comma(macs))
		}
	}
	if rows > maxRows {
		fmt.Fprintf(&b, "\nand %d more instances\n", rows-maxRows)
	}
	if rows == 0 {
		b.WriteString("shapes unknown: the file has errors before this call\n")
	}
	return b.String()
}

func calledBy(n *dsl.Node, instance string) bool {
	for _, cs := range n.Calls {
		if cs.Instance == instance {
			return true
		}
	}
	return false
}

// maxHintShapes is how many distinct shapes an inlay hint lists (a line in
// a block called with different arguments has one per call).
const maxHintShapes = 4

func (s *Server) inlayHint(params json.RawMessage) (any, *rpcError) {
	p, d, err := request[rangeParams](s, params)
	if err != nil {
		return nil, err
	}
	return d.a.inlayHints(p.Range), nil
}

// inlayHints puts at the end of each line that holds layers the output
// shape of what the line writes: of its last layer, or of the whole call
// for a block call. A line in a block shows each call's shape.
func (a *analysis) inlayHints(r Range) []InlayHint {
	hints := []InlayHint{}
	if a.net == nil || a.model == nil {
		return hints
	}
	// The last node of each (line, instance) pair: what the line produces
	// in that instance of the block it is written in ("" at top level).
	type key struct {
		line int
		inst string
	}
	last := map[key]*dsl.Node{}
	note := func(k key, n *dsl.Node) {
		if p := last[k]; p == nil || p.ID < n.ID {
			last[k] = n
		}
	}
	lineOf := func(pos, end lexer.Position) int {
		start, _ := a.text.span(pos, end, a.base)
		return a.text.position(start).Line
	}
	for _, n := range a.net.Nodes {
		if l := a.layer(n); l == nil || l.Implied || l.Out.C == 0 {
			continue // not checked, or not written in the file
		}
		inst := ""
		if k := len(n.Calls); k > 0 {
			inst = n.Calls[k-1].Instance
		}
		note(key{lineOf(n.Pos, n.End), inst}, n)
		for i, cs := range n.Calls {
			outer := ""
			if i > 0 {
				outer = n.Calls[i-1].Instance
			}
			note(key{lineOf(cs.Pos, cs.End), outer}, n)
		}
	}
	shapes := map[int][]string{}
	var lines []int
	ids := make([]key, 0, len(last))
	for k := range last {
		ids = append(ids, k)
	}
	sort.Slice(ids, func(i, j int) bool { return last[ids[i]].ID < last[ids[j]].ID })
	for _, k := range ids {
		out := a.layer(last[k]).Out.String()
		if _, ok := shapes[k.line]; !ok {
			lines = append(lines, k.line)
		}
		if !slices.Contains(shapes[k.line], out) {
			shapes[k.line] = append(shapes[k.line], out)
		}
	}
	sort.Ints(lines)
	for _, l := range lines {
		if l < r.Start.Line || l > r.End.Line {
			continue
		}
		ss := shapes[l]
		label := strings.Join(ss[:min(len(ss), maxHintShapes)], " | ")
		if len(ss) > maxHintShapes {
			label += fmt.Sprintf(" | … (%d shapes)", len(ss))
		}
		end := a.text.lineEnd(l)
		for end > a.text.lines[l] && (a.text.src[end-1] == ' ' || a.text.src[end-1] == '\t') {
			end--
		}
		hints = append(hints, InlayHint{Position: a.text.position(end), Label: "→ " + label, Kind: inlayHintType, PaddingLeft: true})
	}
	return hints
}

func (s *Server) definition(params json.RawMessage) (any, *rpcError) {
	p, d, err := request[positionParams](s, params)
	if err != nil {
		return nil, err
	}
	a := d.a
	if a.syms == nil {
		return nil, nil
	}
	o, ok := a.syms.at(a.text.offset(p.Position))
	if !ok {
		return nil, nil
	}
	var locs []Location
	for _, o := range a.syms.of(o.key, true) {
		if o.decl {
			locs = append(locs, Location{URI: d.uri, Range: a.text.rangeOf(o.start, o.end)})
		}
	}
	if len(locs) == 0 {
		return nil, nil // a call of a block the file does not define
	}
	return locs, nil
}

func (s *Server) references(params json.RawMessage) (any, *rpcError) {
	p, d, err := request[referenceParams](s, params)
	if err != nil {
		return nil, err
	}
	a := d.a
	locs := []Location{}
	if a.syms == nil {
		return locs, nil
	}
	o, ok := a.syms.at(a.text.offset(p.Position))
	if !ok {
		return locs, nil
	}
	for _, o := range a.syms.of(o.key, p.Context.IncludeDeclaration) {
		locs = append(locs, Location{URI: d.uri, Range: a.text.rangeOf(o.start, o.end)})
	}
	return locs, nil
}

// formatting is `cnnc fmt`: the canonical printer's text as one edit of
// the whole document, none when it is already canonical. A file with
// syntax errors is not formatted (the request fails with the first error).
func (s *Server) formatting(params json.RawMessage) (any, *rpcError) {
	_, d, err := request[formattingParams](s, params)
	if err != nil {
		return nil, err
	}
	f, errs := dsl.Parse(fileName(d.uri), []byte(d.text))
	if len(errs) > 0 {
		return nil, &rpcError{Code: codeRequestFailed, Message: "cannot format a file with syntax errors: " + errs[0].Error()}
	}
	out := string(grammar.Format(f))
	if out == d.text {
		return []TextEdit{}, nil
	}
	t := d.a.text
	return []TextEdit{{Range: t.rangeOf(0, len(t.src)), NewText: out}}, nil
}
