package importer

import (
	"fmt"
	"regexp"
	"slices"
)

// elem is one element of a chain: a layer, a concat of branches, or a
// residual (a body with a shortcut, nil for the identity or for the
// projection the language implies).
type elem struct {
	layer    *node
	join     *node // the Add or Concat
	branches [][]*elem
	body     []*elem
	shortcut []*elem
	implied  []*elem // the shortcut the language implies, left unwritten
}

// structure recovers the network as one chain from the input to the
// output: a join's branches start at its immediate dominator, the last
// node every path from the input to it passes. A graph that does not
// decompose so (a map read by two joins that do not nest) is refused.
func (g *graph) structure() ([]*elem, error) {
	idom := dominators(g.nodes)
	s := &structurer{g: g, idom: idom, seen: map[*node]bool{}}
	chain := s.chain(g.input, g.out)
	if s.err != nil {
		return nil, s.err
	}
	for _, n := range g.nodes {
		if n != g.input && !s.seen[n] {
			return nil, &Error{Node: n.name, Op: n.opType, Msg: "its output does not lead to the network's output (a second head or a dead branch): cnnc imports one chain from the input to the output"}
		}
	}
	return chain, nil
}

// dominators returns the immediate dominator of every node but the
// first, for nodes in topological order (Cooper, Harvey and Kennedy's
// intersection, which one pass settles on a DAG).
func dominators(nodes []*node) map[*node]*node {
	order := map[*node]int{}
	for i, n := range nodes {
		order[n] = i
	}
	idom := map[*node]*node{nodes[0]: nodes[0]}
	for _, n := range nodes[1:] {
		var d *node
		for _, p := range n.in {
			if _, ok := idom[p]; !ok {
				continue
			}
			if d == nil {
				d = p
				continue
			}
			a, b := d, p
			for a != b {
				for order[a] > order[b] {
					a = idom[a]
				}
				for order[b] > order[a] {
					b = idom[b]
				}
			}
			d = a
		}
		if d != nil {
			idom[n] = d
		}
	}
	return idom
}

type structurer struct {
	g    *graph
	idom map[*node]*node
	seen map[*node]bool
	err  error
}

func (s *structurer) fail(n *node, format string, args ...any) {
	if s.err == nil {
		s.err = &Error{Node: n.name, Op: n.opType, Msg: fmt.Sprintf(format, args...)}
	}
}

// chain is the chain of elements from just after from up to to.
func (s *structurer) chain(from, to *node) []*elem {
	var rev []*elem
	for cur := to; cur != from && s.err == nil; {
		if cur.kind == kInput {
			s.fail(from, "the branches that start here do not join again before the input: not a chain of concats and residuals")
			return nil
		}
		if s.seen[cur] {
			s.fail(cur, "its output is read by two branches that do not join in one concat or residual: the graph is not a chain of concats and residuals")
			return nil
		}
		s.seen[cur] = true
		switch cur.kind {
		case kLayer:
			rev = append(rev, &elem{layer: cur})
			cur = cur.in[0]
		case kConcat:
			f := s.idom[cur]
			e := &elem{join: cur}
			for _, in := range cur.in {
				e.branches = append(e.branches, s.chain(f, in))
			}
			for i, b := range e.branches {
				if len(b) == 0 { // the input itself: DenseNet's concat { identity | ... }
					e.branches[i] = []*elem{{layer: &node{kind: kLayer, name: cur.name, opType: "Identity", text: "identity"}}}
				}
			}
			rev = append(rev, e)
			cur = f
		case kAdd:
			f := s.idom[cur]
			a, b := s.chain(f, cur.in[0]), s.chain(f, cur.in[1])
			if layers(a) < layers(b) {
				a, b = b, a
			}
			if len(a) == 0 {
				s.fail(cur, "x + x: the sum of a map and itself")
				return nil
			}
			e := &elem{join: cur, body: a, shortcut: b}
			if s.implied(f, a, b) {
				e.implied, e.shortcut = b, nil
			}
			rev = append(rev, e)
			cur = f
		}
	}
	slices.Reverse(rev)
	return rev
}

func layers(es []*elem) int {
	n := 0
	for _, e := range es {
		n++
		for _, b := range e.branches {
			n += layers(b)
		}
		n += layers(e.body) + layers(e.shortcut) + layers(e.implied)
	}
	return n
}

var projConv = regexp.MustCompile(`^conv \d+ 1x1( s\d+)?( nobias)?$`)

// implied: the shortcut is the projection the language implies for this
// body (docs/language.md): `conv C 1x1 sS nobias -> bn` after a body with
// a bn, a biased `conv C 1x1 sS` after one without, where the body changes
// the shape.
func (s *structurer) implied(in *node, body, short []*elem) bool {
	hasBN := containsBN(body)
	want := 1
	if hasBN {
		want = 2
	}
	if len(short) != want || short[0].layer == nil || !projConv.MatchString(short[0].layer.text) {
		return false
	}
	conv := short[0].layer
	nobias := len(conv.tensors) == 1
	if nobias != hasBN || (hasBN && (short[1].layer == nil || short[1].layer.text != "bn")) {
		return false
	}
	return conv.c != in.c || conv.stride != 1
}

func containsBN(es []*elem) bool {
	for _, e := range es {
		if e.layer != nil && e.layer.opType == "BatchNormalization" {
			return true
		}
		for _, b := range e.branches {
			if containsBN(b) {
				return true
			}
		}
		if containsBN(e.body) || containsBN(e.shortcut) || containsBN(e.implied) {
			return true
		}
	}
	return false
}
