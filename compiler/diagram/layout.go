package diagram

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/cnnc-dev/cnnc/compiler"
)

// Diagram is a laid-out picture of a network: boxes and the edges between
// them, in pixels, with the origin at the top left.
type Diagram struct {
	Title         []string // the network's name, then its shapes and totals
	Width, Height float64
	Boxes         []Box  // one per layer (or block call), in the network's order
	Edges         []Edge // one per input of every box
	Heads         []Note // a caption under each auxiliary head
	Frames        []Frame
}

// Frame surrounds the boxes of one top-level block call, in an expanded
// diagram, with its name and the call as written to its left.
type Frame struct {
	Name       string   // the call's instance name: inception3a
	Lines      []string // its label: the name, the call as written
	X, Y, W, H float64
	LabelX     float64 // where the label's lines end (they are right-aligned)
}

// Box is one layer, or one block call when collapsed.
type Box struct {
	Name       string   // the layer's unique name: inception3a.conv2
	Lines      []string // the layer as written, its output shape, marks
	Family     Family
	Groups     int  // a grouped conv's groups, drawn as dividers
	Aux        bool // part of an auxiliary head (training only)
	Implied    bool // a projection the compiler implied
	X, Y, W, H float64
}

// Edge is a data flow from box From to box To along Points (the first on
// From's border, the last on To's).
type Edge struct {
	From, To int
	Skip     bool // a residual's identity shortcut
	Aux      bool // into an auxiliary head
	Points   []Point
}

// Point is a position in pixels.
type Point struct{ X, Y float64 }

// Note is a caption at a position.
type Note struct {
	Text string
	X, Y float64
}

// Geometry, in pixels. Text is monospace: every glyph is charW wide, as
// in the Go Mono font the PNG uses and in any monospace font an SVG
// viewer picks.
const (
	fontSize  = 13.0
	charW     = fontSize * 0.6
	lineH     = 17.0
	padX      = 10.0
	padY      = 6.0
	minBoxW   = 96.0
	gapY      = 28.0 // between rows
	gapX      = 22.0 // between branches
	laneW     = 26.0 // a skip edge's lane
	margin    = 20.0
	titleH    = 44.0
	cornerR   = 6.0
	auxGapX   = 56.0
	headNoteH = 18.0
)

// Layout draws the checked model m.
func Layout(m *compiler.Model, o Options) (*Diagram, error) {
	g, err := build(m, o.Collapse)
	if err != nil {
		return nil, err
	}
	l := &layouter{g: g, box: make([]*Box, len(g.verts)), lane: map[[2]int]float64{}, bottom: map[*par]float64{}}
	l.dominators()
	for _, v := range g.verts {
		w := minBoxW
		for _, s := range v.lines {
			w = max(w, float64(utf8.RuneCountInString(s))*charW+2*padX)
		}
		l.box[v.id] = &Box{Name: v.name, Lines: v.lines, Family: v.family, Groups: v.groups, Aux: v.aux != nil, Implied: v.implied,
			W: math.Ceil(w), H: float64(len(v.lines))*lineH + 2*padY}
	}
	main := l.seq(g.out, nil)
	d := &Diagram{}
	mainSize := l.measure(main)
	l.place(main, margin, margin+titleH, mainSize)
	d.Heads = l.auxHeads(margin + mainSize.w)
	for _, v := range g.verts {
		if !l.placed[v.id] {
			return nil, fmt.Errorf("diagram: %s is neither on the way to the output nor in an auxiliary head", v.name)
		}
	}
	d.Frames = l.frames()
	l.shift(d)
	for _, b := range l.box {
		d.Width = max(d.Width, b.X+b.W+margin)
		d.Height = max(d.Height, b.Y+b.H+margin)
		d.Boxes = append(d.Boxes, *b)
	}
	for _, x := range l.lane {
		d.Width = max(d.Width, x+margin)
	}
	for _, n := range d.Heads {
		d.Width = max(d.Width, n.X+float64(utf8.RuneCountInString(n.Text))*headSize*0.6+margin)
	}
	d.Width, d.Height = math.Ceil(d.Width), math.Ceil(d.Height)
	d.Edges = l.edges()
	net := m.Net
	d.Title = []string{net.Name, fmt.Sprintf("%s -> %s, %s params, %s MACs", net.Input, m.Output().Out, compiler.Comma(m.Params), compiler.Comma(m.MACs))}
	for _, s := range d.Title {
		d.Width = max(d.Width, math.Ceil(float64(utf8.RuneCountInString(s))*charW+2*margin))
	}
	return d, nil
}

// The layout follows the network's structure: a sequence of boxes and
// parallel sections, a parallel section being the branches between a
// fork (the join's immediate dominator) and a join (a box of several
// inputs). An empty branch is an identity: a skip edge in its own lane.
type item interface{}

type par struct {
	fork, join *vertex
	branches   [][]item
}

type layouter struct {
	g      *graph
	idom   []*vertex
	box    []*Box
	placed []bool
	lane   map[[2]int]float64 // the x of a skip edge's lane, by (from, to)
	bottom map[*par]float64   // where a parallel section's branches end
	pars   []*par
	size   map[any]size
}

// dominators computes every vertex's immediate dominator: the vertex every
// path from the input to it passes last (vertices are in topological
// order, so one pass suffices).
func (l *layouter) dominators() {
	n := len(l.g.verts)
	l.idom = make([]*vertex, n)
	depth := make([]int, n)
	for _, v := range l.g.verts {
		var d *vertex
		for _, u := range v.inputs {
			if d == nil {
				d = u
				continue
			}
			a, b := d, u
			for a != b && a != nil && b != nil {
				switch {
				case depth[a.id] > depth[b.id]:
					a = l.idom[a.id]
				case depth[b.id] > depth[a.id]:
					b = l.idom[b.id]
				default:
					a, b = l.idom[a.id], l.idom[b.id]
				}
			}
			if a != b {
				a = nil
			}
			d = a
		}
		l.idom[v.id] = d
		if d != nil {
			depth[v.id] = depth[d.id] + 1
		}
	}
	l.placed = make([]bool, n)
}

// seq is the sequence of items that ends with v, walking back to stop
// (excluded).
func (l *layouter) seq(v, stop *vertex) []item {
	var rev []item
	for v != nil && v != stop && !l.placed[v.id] {
		l.placed[v.id] = true
		rev = append(rev, v)
		if len(v.inputs) < 2 {
			if len(v.inputs) == 0 {
				break
			}
			v = v.inputs[0]
			continue
		}
		f := l.idom[v.id]
		p := &par{fork: f, join: v}
		for _, in := range v.inputs {
			p.branches = append(p.branches, l.seq(in, f))
		}
		l.pars = append(l.pars, p)
		rev = append(rev, p)
		v = f
	}
	items := make([]item, len(rev))
	for i, it := range rev {
		items[len(rev)-1-i] = it
	}
	return items
}

// size is what an item needs: its width, the x of its axis (where the
// boxes of a sequence are centred) and its height.
type size struct{ w, axis, h float64 }

func (l *layouter) measure(it any) size {
	if l.size == nil {
		l.size = map[any]size{}
	}
	switch it := it.(type) {
	case *vertex:
		b := l.box[it.id]
		return size{b.W, b.W / 2, b.H}
	case []item:
		if len(it) == 0 {
			return size{laneW, laneW / 2, 0}
		}
		var left, right, h float64
		for i, x := range it {
			s := l.measure(x)
			left, right = max(left, s.axis), max(right, s.w-s.axis)
			h += s.h
			if i > 0 {
				h += gapY
			}
		}
		return size{left + right, left, h}
	case *par:
		if s, ok := l.size[it]; ok {
			return s
		}
		var s size
		if body := l.residual(it); body >= 0 {
			b := l.measure(it.branches[body])
			s = size{b.axis + l.sideX(it, b), b.axis, b.h}
			for i, br := range it.branches {
				if i != body {
					bs := l.measure(br)
					s.w += bs.w + gapX/2
					s.h = max(s.h, bs.h)
				}
			}
		} else {
			for i, br := range it.branches {
				b := l.measure(br)
				s.w += b.w
				if i > 0 {
					s.w += gapX
				}
				s.h = max(s.h, b.h)
			}
			s.axis = s.w / 2
		}
		l.size[it] = s
		return s
	}
	panic(fmt.Sprintf("diagram: measure %T", it))
}

// sideX is how far right of the axis a residual's side branches start.
func (l *layouter) sideX(p *par, body size) float64 {
	return max(body.w-body.axis, l.half(p.join), l.half(p.fork)) + gapX/2
}

func (l *layouter) half(v *vertex) float64 {
	if v == nil {
		return 0
	}
	return l.box[v.id].W / 2
}

// residual reports the one branch of p that is neither an identity nor
// a projection the compiler implied (its side branches, drawn to its
// right), or -1 when p has several such branches.
func (l *layouter) residual(p *par) int {
	body := -1
	for i, br := range p.branches {
		if !l.side(br) {
			if body >= 0 {
				return -1
			}
			body = i
		}
	}
	return body
}

// side reports whether a branch is an identity or an implied projection.
func (l *layouter) side(br []item) bool {
	for _, it := range br {
		if v, ok := it.(*vertex); !ok || !v.implied {
			return false
		}
	}
	return true
}

// place puts the item with its top left corner at (x, y).
func (l *layouter) place(it any, x, y float64, s size) {
	switch it := it.(type) {
	case *vertex:
		b := l.box[it.id]
		b.X, b.Y = x, y
	case []item:
		for _, c := range it {
			cs := l.measure(c)
			l.place(c, x+s.axis-cs.axis, y, cs)
			y += cs.h + gapY
		}
	case *par:
		l.bottom[it] = y + s.h
		if body := l.residual(it); body >= 0 {
			b := l.measure(it.branches[body])
			l.place(it.branches[body], x, y, b)
			sx := x + b.axis + l.sideX(it, b)
			for i, br := range it.branches {
				if i == body {
					continue
				}
				bs := l.measure(br)
				if len(br) == 0 {
					l.lane[[2]int{l.id(it.fork), it.join.id}] = sx + bs.axis
				}
				l.place(br, sx, y, bs)
				sx += bs.w + gapX/2
			}
			return
		}
		for _, br := range it.branches {
			b := l.measure(br)
			if len(br) == 0 {
				l.lane[[2]int{l.id(it.fork), it.join.id}] = x + b.axis
			}
			l.place(br, x, y, b)
			x += b.w + gapX
		}
	}
}

func (l *layouter) id(v *vertex) int {
	if v == nil {
		return -1
	}
	return v.id
}

// auxHeads places each auxiliary head as a column to the right of the
// main network, starting below the box it branches from.
func (l *layouter) auxHeads(right float64) []Note {
	var notes []Note
	x := right + auxGapX
	colBottom := math.Inf(-1)
	for _, a := range l.g.aux {
		items := l.seq(a.to, a.from)
		if len(items) == 0 {
			continue
		}
		s := l.measure(items)
		from := l.box[a.from.id]
		y := from.Y + from.H + gapY
		if y < colBottom+gapY { // it would overlap the previous head: a new column
			x = right + auxGapX
		}
		l.place(items, x, y, s)
		colBottom = y + s.h + headNoteH
		text := a.head.Name
		if a.call != "" {
			text += ": " + a.call
		}
		notes = append(notes, Note{Text: fmt.Sprintf("%s, weight %g, training only", text, a.head.Weight), X: x, Y: colBottom - 4})
		right = max(right, x+s.w)
	}
	return notes
}

// edges routes one edge per input of every box.
func (l *layouter) edges() []Edge {
	var es []Edge
	for _, v := range l.g.verts {
		to := l.box[v.id]
		for _, u := range v.inputs {
			from := l.box[u.id]
			e := Edge{From: u.id, To: v.id, Aux: v.aux != nil && u.aux == nil, Skip: u.implied || v.implied}
			if x, ok := l.lane[[2]int{u.id, v.id}]; ok {
				e.Skip = true
				e.Points = lane(from, to, x)
			} else if e.Aux {
				fy := from.Y + from.H/2
				cx := to.X + to.W/2
				e.Points = []Point{{from.X + from.W, fy}, {cx, fy}, {cx, to.Y}}
			} else {
				e.Points = route(from, to, len(v.inputs) > 1)
			}
			es = append(es, e)
		}
	}
	return es
}

// lane routes a skip edge down the lane at x: out of from's side toward
// the lane (or its bottom, when the lane runs under it: a shortcut from
// outside the branch a residual is in), and into to's side (or top).
func lane(from, to *Box, x float64) []Point {
	var pts []Point
	fy, ty := from.Y+from.H/2, to.Y+to.H/2
	switch {
	case x >= from.X+from.W:
		pts = append(pts, Point{from.X + from.W, fy}, Point{x, fy})
	case x <= from.X:
		pts = append(pts, Point{from.X, fy}, Point{x, fy})
	default:
		pts = append(pts, Point{x, from.Y + from.H})
	}
	switch {
	case x >= to.X+to.W:
		pts = append(pts, Point{x, ty}, Point{to.X + to.W, ty})
	case x <= to.X:
		pts = append(pts, Point{x, ty}, Point{to.X, ty})
	default:
		pts = append(pts, Point{x, to.Y})
	}
	return pts
}

// route goes down from the bottom of from to the top of to: straight when
// they are aligned, otherwise with one horizontal run, just above a join
// (so that a short branch goes down its own column) or just below a fork.
func route(from, to *Box, join bool) []Point {
	fx, fy := from.X+from.W/2, from.Y+from.H
	tx, ty := to.X+to.W/2, to.Y
	if math.Abs(fx-tx) < 0.5 {
		return []Point{{fx, fy}, {fx, ty}}
	}
	mid := fy + gapY/2
	if join {
		mid = ty - gapY/2
	}
	return []Point{{fx, fy}, {fx, mid}, {tx, mid}, {tx, ty}}
}
