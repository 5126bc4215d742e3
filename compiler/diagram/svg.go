package diagram

import (
	"bytes"
	"fmt"
	"html"
	"sort"
	"unicode/utf8"
)

// SVG writes the diagram as a standalone SVG document. The text is
// monospace and every line's length is fixed (textLength), so the boxes
// fit whatever monospace font the viewer has. Styles are classes, all
// prefixed cnnc-, so that the SVG can be put inline in a page.
func (d *Diagram) SVG() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="'Go Mono', 'DejaVu Sans Mono', Menlo, Consolas, monospace">`+"\n",
		num(d.Width), num(d.Height), num(d.Width), num(d.Height))
	b.WriteString("<style>\n")
	fmt.Fprintf(&b, ".cnnc-e{fill:none;stroke:%s;stroke-width:1.4}.cnnc-skip{stroke:%s}.cnnc-aux{stroke:%s;stroke-dasharray:5,3}\n", greyInk.hex(), skipInk.hex(), auxInk.hex())
	fmt.Fprintf(&b, ".cnnc-t{font-size:%spx;text-anchor:middle;fill:%s}.cnnc-r{stroke-width:1.2}.cnnc-implied{stroke-dasharray:2,2}.cnnc-auxbox{stroke-dasharray:5,3}\n",
		num(fontSize), greyInk.hex())
	fmt.Fprintf(&b, ".cnnc-frame{fill:%s;stroke:%s}.cnnc-label{font-size:%spx;text-anchor:end;fill:%s}.cnnc-note{font-size:%spx;font-style:italic;fill:%s}\n",
		frameFill.hex(), frameInk.hex(), num(fontSize), frameInk.hex(), num(headSize), auxInk.hex())
	families := make([]string, 0, len(palette))
	for f := range palette {
		families = append(families, string(f))
	}
	sort.Strings(families)
	for _, f := range families {
		p := palette[Family(f)]
		fmt.Fprintf(&b, ".cnnc-%s{fill:%s;stroke:%s}", f, p[0].hex(), p[1].hex())
	}
	fmt.Fprintf(&b, "\n.cnnc-t1{font-weight:bold;fill:%s}\n</style>\n<defs>\n", ink.hex())
	for _, m := range []struct {
		id string
		c  colour
	}{{"arrow", greyInk}, {"skip", skipInk}, {"aux", auxInk}} {
		fmt.Fprintf(&b, `<marker id="cnnc-%s" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,1 L10,5 L0,9 z" fill="%s"/></marker>`+"\n", m.id, m.c.hex())
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
	for _, f := range d.Frames {
		fmt.Fprintf(&b, `<rect class="cnnc-frame" x="%s" y="%s" width="%s" height="%s" rx="8"/>`+"\n", num(f.X), num(f.Y), num(f.W), num(f.H))
		for i, line := range f.Lines {
			class := "cnnc-label"
			if i == 0 && len(f.Lines) > 1 {
				class += " cnnc-t1"
			}
			fmt.Fprintf(&b, `<text class="%s" x="%s" y="%s"%s>%s</text>`+"\n",
				class, num(f.LabelX), num(f.Y+padY+float64(i)*lineH+fontSize), textLength(line), html.EscapeString(line))
		}
	}
	for _, n := range d.Heads {
		fmt.Fprintf(&b, `<text class="cnnc-note" x="%s" y="%s">%s</text>`+"\n", num(n.X), num(n.Y), html.EscapeString(n.Text))
	}
	for _, e := range d.Edges {
		class, marker := "cnnc-e", "arrow"
		switch {
		case e.Skip:
			class, marker = "cnnc-e cnnc-skip", "skip"
		case e.Aux:
			class, marker = "cnnc-e cnnc-aux", "aux"
		}
		fmt.Fprintf(&b, `<path class="%s" d="%s" marker-end="url(#cnnc-%s)"/>`+"\n", class, pathData(e.Points), marker)
	}
	for _, x := range d.Boxes {
		class := "cnnc-r cnnc-" + string(x.Family)
		switch {
		case x.Implied:
			class += " cnnc-implied"
		case x.Aux:
			class += " cnnc-auxbox"
		}
		fmt.Fprintf(&b, "<g><title>%s</title>", html.EscapeString(x.Name))
		for k := cards(x.Groups) - 1; k > 0; k-- {
			o := float64(k) * cardOffset
			fmt.Fprintf(&b, `<rect class="cnnc-r cnnc-%s" x="%s" y="%s" width="%s" height="%s" rx="4"/>`, x.Family, num(x.X+o), num(x.Y+o), num(x.W), num(x.H))
		}
		fmt.Fprintf(&b, `<rect class="%s" x="%s" y="%s" width="%s" height="%s" rx="4"/>`, class, num(x.X), num(x.Y), num(x.W), num(x.H))
		for i, line := range x.Lines {
			class := "cnnc-t"
			if i == 0 {
				class += " cnnc-t1"
			}
			fmt.Fprintf(&b, `<text class="%s" x="%s" y="%s"%s>%s</text>`, class, num(x.X+x.W/2), num(baseline(x, i)), textLength(line), html.EscapeString(line))
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// textLength fixes a line's width to that of its glyphs in a monospace
// font of fontSize.
func textLength(s string) string {
	return fmt.Sprintf(` textLength="%s" lengthAdjust="spacingAndGlyphs"`, num(float64(utf8.RuneCountInString(s))*charW))
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
