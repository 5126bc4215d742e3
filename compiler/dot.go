package compiler

import (
	"fmt"
	"io"
	"strings"
)

// WriteDot prints the network as a Graphviz graph, a picture of it:
// one box per layer with its name, the layer as written and its output
// shape; auxiliary heads dashed. Render with `dot -Tpng`.
func (m *Model) WriteDot(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n", m.Net.Name)
	b.WriteString("  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n")
	id := map[*Layer]int{}
	for i, l := range m.Layers {
		id[l] = i
		style := ""
		if l.Node.Aux != nil {
			style = ", style=dashed"
		}
		if l.Implied {
			style = ", style=dotted"
		}
		label := fmt.Sprintf("%s\n%s\n%s", l.Node.Name, l.Node.Text, ShapeString(l.Out))
		if l.Params > 0 {
			label += fmt.Sprintf("\n%s params", Comma(l.Params))
		}
		fmt.Fprintf(&b, "  n%d [label=%q%s];\n", i, label, style)
	}
	for _, l := range m.Layers {
		for _, in := range l.Inputs {
			fmt.Fprintf(&b, "  n%d -> n%d;\n", id[in], id[l])
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}
