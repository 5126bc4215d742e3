package diagram

import (
	"math"
	"strings"
	"unicode/utf8"
)

// Frames: padding around a call's boxes, and the gap between a frame and
// its label.
const (
	framePad = 8.0
	labelGap = 10.0
)

// frames surrounds each top-level block call's boxes (and the lanes of
// its shortcuts) with a frame; its label goes to the left, where only
// other labels are, unless a box is there (a call inside a branch), when
// the frame has no label.
func (l *layouter) frames() []Frame {
	var fs []Frame
	for _, c := range l.g.calls {
		x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, v := range l.g.verts {
			if v.call != c.name {
				continue
			}
			b := l.box[v.id]
			o := float64(cards(b.Groups)-1) * cardOffset
			x0, y0, x1, y1 = min(x0, b.X), min(y0, b.Y), max(x1, b.X+b.W+o), max(y1, b.Y+b.H+o)
		}
		for k, x := range l.lane {
			if l.g.verts[k[1]].call == c.name {
				x1 = max(x1, x+laneW/4)
			}
		}
		if math.IsInf(x0, 1) {
			continue
		}
		f := Frame{Name: c.name, X: x0 - framePad, Y: y0 - framePad, W: x1 - x0 + 2*framePad, H: y1 - y0 + 2*framePad}
		f.LabelX = f.X - labelGap
		lines := []string{c.name, c.text}
		if strings.HasPrefix(c.text, c.name) {
			lines = lines[1:]
		}
		w := 0.0
		for _, s := range lines {
			w = max(w, float64(utf8.RuneCountInString(s))*charW)
		}
		free := true
		for _, b := range l.box {
			if b.X < f.LabelX && b.X+b.W > f.LabelX-w && b.Y < f.Y+float64(len(lines))*lineH && b.Y+b.H > f.Y {
				free = false
			}
		}
		if free {
			f.Lines = lines
		}
		fs = append(fs, f)
	}
	return fs
}

// shift moves everything right by the room the frames' labels need left
// of their frames.
func (l *layouter) shift(d *Diagram) {
	dx := 0.0
	for _, f := range d.Frames {
		for _, s := range f.Lines {
			dx = max(dx, margin-(f.LabelX-float64(utf8.RuneCountInString(s))*charW))
		}
		dx = max(dx, margin-f.X)
	}
	dx = math.Ceil(dx)
	if dx <= 0 {
		return
	}
	for _, b := range l.box {
		b.X += dx
	}
	for k := range l.lane {
		l.lane[k] += dx
	}
	for i := range d.Heads {
		d.Heads[i].X += dx
	}
	for i := range d.Frames {
		d.Frames[i].X += dx
		d.Frames[i].LabelX += dx
	}
}
