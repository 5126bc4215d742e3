package diagram

import (
	"bytes"
	"fmt"
	"strings"
)

// DOT writes the diagram as a Graphviz graph: the same boxes, labels,
// colours and edges, each node pinned at its place in this layout (pos,
// in points, for `neato -n`; `dot` lays it out afresh).
func (d *Diagram) DOT() []byte {
	var b bytes.Buffer
	name := "network"
	if len(d.Title) > 0 {
		name = d.Title[0]
	}
	fmt.Fprintf(&b, "digraph %q {\n", name)
	b.WriteString("  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Go Mono\", fontsize=10];\n")
	if len(d.Title) > 1 {
		fmt.Fprintf(&b, "  label=%q; labelloc=t;\n", strings.Join(d.Title, "\n"))
	}
	for i, x := range d.Boxes {
		style := "rounded,filled"
		switch {
		case x.Implied:
			style += ",dotted"
		case x.Aux:
			style += ",dashed"
		}
		p := palette[x.Family]
		// pos in points, y upwards: 72 points per inch, 96 pixels.
		fmt.Fprintf(&b, "  n%d [label=%q, tooltip=%q, style=%q, fillcolor=%q, color=%q, pos=\"%s,%s!\"];\n",
			i, strings.Join(x.Lines, "\n"), x.Name, style, p[0].hex(), p[1].hex(),
			num((x.X+x.W/2)*0.75), num((d.Height-x.Y-x.H/2)*0.75))
	}
	// Each block call is a cluster with its label.
	for i, f := range d.Frames {
		fmt.Fprintf(&b, "  subgraph cluster_%d {\n    label=%q; style=\"rounded,filled\"; fillcolor=%q; color=%q;\n   ",
			i, strings.Join(f.Lines, "\n"), frameFill.hex(), frameInk.hex())
		for j, x := range d.Boxes {
			if strings.HasPrefix(x.Name, f.Name+".") {
				fmt.Fprintf(&b, " n%d;", j)
			}
		}
		b.WriteString("\n  }\n")
	}
	for _, e := range d.Edges {
		attrs := ""
		switch {
		case e.Skip:
			attrs = fmt.Sprintf(" [color=%q]", skipInk.hex())
		case e.Aux:
			attrs = " [style=dashed]"
		}
		fmt.Fprintf(&b, "  n%d -> n%d%s;\n", e.From, e.To, attrs)
	}
	b.WriteString("}\n")
	return b.Bytes()
}
