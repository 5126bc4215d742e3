package diagram

import (
	"bytes"
	"fmt"
	"math"

	"git.sr.ht/~sbinet/gg"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/gomonoitalic"
)

// maxPixels bounds a PNG's size: larger diagrams are drawn at a smaller
// scale (at least 1).
const maxPixels = 24_000_000

// PNG rasterises the diagram (git.sr.ht/~sbinet/gg, the Go Mono fonts),
// at twice its size in pixels where that stays under maxPixels.
func (d *Diagram) PNG() ([]byte, error) {
	s := 2.0
	if d.Width*d.Height*s*s > maxPixels {
		s = max(1, math.Sqrt(maxPixels/(d.Width*d.Height)))
	}
	dc := gg.NewContext(int(math.Ceil(d.Width*s)), int(math.Ceil(d.Height*s)))
	faces := map[string]font.Face{}
	face := func(ttf []byte, name string, size float64) error {
		key := fmt.Sprint(name, size)
		f, ok := faces[key]
		if !ok {
			var err error
			if f, err = gg.LoadFontFaceFromBytes(ttf, size*s); err != nil {
				return fmt.Errorf("diagram: %s font: %w", name, err)
			}
			faces[key] = f
		}
		dc.SetFontFace(f)
		return nil
	}
	set := func(c colour) { dc.SetRGB255(int(c.r), int(c.g), int(c.b)) }
	set(paper)
	dc.Clear()
	for i, t := range d.Title {
		size, ttf, c := 13.0, gomono.TTF, greyInk
		if i == 0 {
			size, ttf, c = 17, gomonobold.TTF, ink
		}
		if err := face(ttf, fmt.Sprint(i), size); err != nil {
			return nil, err
		}
		set(c)
		dc.DrawString(t, margin*s, (margin+12+float64(i)*20)*s)
	}
	for _, f := range d.Frames {
		dc.DrawRoundedRectangle(f.X*s, f.Y*s, f.W*s, f.H*s, 8*s)
		set(frameFill)
		dc.FillPreserve()
		set(frameInk)
		dc.SetLineWidth(s)
		dc.Stroke()
		for i, line := range f.Lines {
			ttf, name, c := gomono.TTF, "regular", frameInk
			if i == 0 && len(f.Lines) > 1 {
				ttf, name, c = gomonobold.TTF, "bold", ink
			}
			if err := face(ttf, name, fontSize); err != nil {
				return nil, err
			}
			set(c)
			dc.DrawStringAnchored(line, f.LabelX*s, (f.Y+padY+float64(i)*lineH+fontSize)*s, 1, 0)
		}
	}
	if err := face(gomonoitalic.TTF, "italic", headSize); err != nil {
		return nil, err
	}
	set(auxInk)
	for _, n := range d.Heads {
		dc.DrawString(n.Text, n.X*s, n.Y*s)
	}
	dc.SetLineWidth(1.4 * s)
	for _, e := range d.Edges {
		c := greyInk
		dc.SetDash()
		switch {
		case e.Skip:
			c = skipInk
		case e.Aux:
			c = auxInk
			dc.SetDash(5*s, 3*s)
		}
		set(c)
		pts := e.Points
		if len(pts) < 2 {
			continue
		}
		// Stop the line at the arrowhead's base, then draw the head.
		end, prev := pts[len(pts)-1], pts[len(pts)-2]
		head := 7.0
		base := toward(end, prev, head)
		line := append(append([]Point{}, pts[:len(pts)-1]...), base)
		dc.MoveTo(pts[0].X*s, pts[0].Y*s)
		for _, sg := range roundPath(line, cornerR) {
			if sg.quad {
				dc.QuadraticTo(sg.ctrl.X*s, sg.ctrl.Y*s, sg.to.X*s, sg.to.Y*s)
			} else {
				dc.LineTo(sg.to.X*s, sg.to.Y*s)
			}
		}
		dc.Stroke()
		dc.SetDash()
		nx, ny := (end.X-base.X)/head, (end.Y-base.Y)/head
		w := head * 0.45
		dc.MoveTo(end.X*s, end.Y*s)
		dc.LineTo((base.X-ny*w)*s, (base.Y+nx*w)*s)
		dc.LineTo((base.X+ny*w)*s, (base.Y-nx*w)*s)
		dc.ClosePath()
		dc.Fill()
	}
	for _, x := range d.Boxes {
		fill, border := palette[x.Family][0], palette[x.Family][1]
		rect := func(ox, oy float64) {
			dc.DrawRoundedRectangle((x.X+ox)*s, (x.Y+oy)*s, x.W*s, x.H*s, 4*s)
			set(fill)
			dc.FillPreserve()
			set(border)
			dc.SetLineWidth(1.2 * s)
			dc.Stroke()
		}
		for k := cards(x.Groups) - 1; k > 0; k-- {
			o := float64(k) * cardOffset
			rect(o, o)
		}
		switch {
		case x.Implied:
			dc.SetDash(2*s, 2*s)
		case x.Aux:
			dc.SetDash(5*s, 3*s)
		}
		rect(0, 0)
		dc.SetDash()
		for i, line := range x.Lines {
			ttf, name, c := gomono.TTF, "regular", greyInk
			if i == 0 {
				ttf, name, c = gomonobold.TTF, "bold", ink
			}
			if err := face(ttf, name, fontSize); err != nil {
				return nil, err
			}
			set(c)
			dc.DrawStringAnchored(line, (x.X+x.W/2)*s, baseline(x, i)*s, 0.5, 0)
		}
	}
	var b bytes.Buffer
	if err := dc.EncodePNG(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
