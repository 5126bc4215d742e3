package diagram

import (
	"bytes"
	"fmt"
	"html"
	"unicode/utf8"
)

// SVG writes the diagram as a standalone SVG document. The text is
// monospace and every line's length is fixed (textLength), so the boxes
// fit whatever monospace font the viewer has.
func (d *Diagram) SVG() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="'Go Mono', 'DejaVu Sans Mono', Menlo, Consolas, monospace">`+"\n",
		num(d.Width), num(d.Height), num(d.Width), num(d.Height))
	b.WriteString("<defs>\n")
	for _, m := range []struct {
		id string
		c  colour
	}{{"arrow", greyInk}, {"skip", skipInk}, {"aux", auxInk}} {
		fmt.Fprintf(&b, `<marker id="%s" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,1 L10,5 L0,9 z" fill="%s"/></marker>`+"\n", m.id, m.c.hex())
	}
	b.WriteString("</defs>\n")
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="%s"/>`+"\n", paper.hex())
	for i, t := range d.Title {
		size, weight, c := 13.0, "normal", greyInk
		if i == 0 {
			size, weight, c = 17, "bold", ink
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="%s" font-weight="%s" fill="%s">%s</text>`+"\n",
			num(margin), num(margin+12+float64(i)*20), num(size), weight, c.hex(), html.EscapeString(t))
	}
	for _, n := range d.Heads {
		fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="%s" font-style="italic" fill="%s">%s</text>`+"\n",
			num(n.X), num(n.Y), num(headSize), auxInk.hex(), html.EscapeString(n.Text))
	}
	for _, e := range d.Edges {
		c, marker, dash := greyInk, "arrow", ""
		switch {
		case e.Skip:
			c, marker = skipInk, "skip"
		case e.Aux:
			c, marker, dash = auxInk, "aux", ` stroke-dasharray="5,3"`
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.4"%s marker-end="url(#%s)"/>`+"\n", pathData(e.Points), c.hex(), dash, marker)
	}
	for _, x := range d.Boxes {
		fill, border := palette[x.Family][0], palette[x.Family][1]
		style := ""
		switch {
		case x.Implied:
			style = ` stroke-dasharray="2,2"`
		case x.Aux:
			style = ` stroke-dasharray="5,3"`
		}
		b.WriteString("<g>")
		fmt.Fprintf(&b, "<title>%s</title>", html.EscapeString(x.Name))
		for k := cards(x.Groups) - 1; k > 0; k-- {
			o := float64(k) * cardOffset
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" rx="4" fill="%s" stroke="%s" stroke-width="1.2"/>`,
				num(x.X+o), num(x.Y+o), num(x.W), num(x.H), fill.hex(), border.hex())
		}
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" rx="4" fill="%s" stroke="%s" stroke-width="1.2"%s/>`,
			num(x.X), num(x.Y), num(x.W), num(x.H), fill.hex(), border.hex(), style)
		for i, line := range x.Lines {
			c, weight := greyInk, ""
			if i == 0 {
				c, weight = ink, ` font-weight="bold"`
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="%s" text-anchor="middle" textLength="%s" lengthAdjust="spacingAndGlyphs" fill="%s"%s>%s</text>`,
				num(x.X+x.W/2), num(baseline(x, i)), num(fontSize), num(float64(utf8.RuneCountInString(line))*charW), c.hex(), weight, html.EscapeString(line))
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// baseline is the y of line i of box x.
func baseline(x Box, i int) float64 { return x.Y + padY + float64(i)*lineH + fontSize }

func pathData(pts []Point) string {
	if len(pts) == 0 {
		return ""
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "M%s,%s", num(pts[0].X), num(pts[0].Y))
	for _, s := range roundPath(pts, cornerR) {
		if s.quad {
			fmt.Fprintf(&b, " Q%s,%s %s,%s", num(s.ctrl.X), num(s.ctrl.Y), num(s.to.X), num(s.to.Y))
		} else {
			fmt.Fprintf(&b, " L%s,%s", num(s.to.X), num(s.to.Y))
		}
	}
	return b.String()
}

// num prints a coordinate with at most one decimal, the same on every
// platform.
func num(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		s = s[:len(s)-2]
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
