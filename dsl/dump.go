package dsl

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Dump writes a stable, readable text form of the IR: the golden files of
// dsl/testdata and `cnnc summary --ir` print it. The same network always
// dumps to the same text (no map order, no pointers). The format:
//
//	network NAME input HxWxC
//	ID NAME OP [ATTRS] [<- INPUT, ...] @LINE:COL [in BLOCK@L:C > BLOCK@L:C] [aux=HEAD] "SOURCE TEXT"
//	...                                  one line per node, in topological order
//	output NAME                          the last node of the main chain
//	aux NAME weight=W from=NODE output=NODE @L:C      one line per aux head
//	train set=[KEY@L:C ...]              the keys the file wrote, in source order
//	  batch=N epochs=N seed=N
//	  optimizer=sgd|adam lr=X momentum=X decay=X nesterov=BOOL beta1=X beta2=X eps=X
//	  schedule=KIND divide=X patience=N every=N at=[N ...]
//	  init=KIND std=X
//	  augment crop=N pad=N translate=N mirror=BOOL
//
// The op and its attributes are spelled by the op's String (package op),
// canonically (every field, defaults included), not as written; the source
// text follows in quotes. The "in" chain lists the block calls the node was expanded
// through, outermost first. Numbers are Go's shortest representation
// (strconv 'g' format).
func Dump(w io.Writer, net *Network) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "network %s input %dx%dx%d\n", net.Name, net.Input.H, net.Input.W, net.Input.C)
	for _, n := range net.Nodes {
		b.WriteString(dumpNode(n))
		b.WriteByte('\n')
	}
	fmt.Fprintf(b, "output %s\n", dumpName(net.Output))
	for _, a := range net.Aux {
		fmt.Fprintf(b, "aux %s weight=%s from=%s output=%s @%s\n", a.Name, dumpNum(a.Weight), dumpName(a.From), dumpName(a.Output), dumpPos(a.Pos))
	}
	dumpRecipe(b, &net.Train)
	return b.Flush()
}

// dumpNode is the line of one node, without the line end.
func dumpNode(n *Node) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s %s", n.ID, n.Name, n.Op) // the op's canonical String: every attribute, defaults included
	if len(n.Inputs) > 0 {
		names := make([]string, len(n.Inputs))
		for i, in := range n.Inputs {
			names[i] = dumpName(in)
		}
		b.WriteString(" <- " + strings.Join(names, ", "))
	}
	b.WriteString(" @" + dumpPos(n.Pos))
	if len(n.Calls) > 0 {
		calls := make([]string, len(n.Calls))
		for i, c := range n.Calls {
			calls[i] = c.Block + "@" + dumpPos(c.Pos)
		}
		b.WriteString(" in " + strings.Join(calls, " > "))
	}
	if n.Aux != nil {
		b.WriteString(" aux=" + n.Aux.Name)
	}
	b.WriteString(" " + strconv.Quote(n.Text))
	return b.String()
}

// dumpRecipe writes the train section: every field, and the keys the file
// set, in source order.
func dumpRecipe(b *bufio.Writer, rc *Recipe) {
	keys := make([]string, 0, len(rc.Set))
	for k := range rc.Set {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		p, q := rc.Set[keys[i]], rc.Set[keys[j]]
		if p.Offset != q.Offset {
			return p.Offset < q.Offset
		}
		return keys[i] < keys[j]
	})
	for i, k := range keys {
		keys[i] = k + "@" + dumpPos(rc.Set[k])
	}
	fmt.Fprintf(b, "train set=[%s]\n", strings.Join(keys, " "))
	fmt.Fprintf(b, "  batch=%d epochs=%d seed=%d\n", rc.Batch, rc.Epochs, rc.Seed)
	fmt.Fprintf(b, "  optimizer=%s lr=%s momentum=%s decay=%s nesterov=%t beta1=%s beta2=%s eps=%s\n",
		rc.Optimizer, dumpNum(rc.LR), dumpNum(rc.Momentum), dumpNum(rc.Decay), rc.Nesterov, dumpNum(rc.Beta1), dumpNum(rc.Beta2), dumpNum(rc.Eps))
	at := make([]string, len(rc.Schedule.At))
	for i, v := range rc.Schedule.At {
		at[i] = strconv.Itoa(v)
	}
	s := rc.Schedule
	fmt.Fprintf(b, "  schedule=%s divide=%s patience=%d every=%d at=[%s]\n", s.Kind, dumpNum(s.Divide), s.Patience, s.Every, strings.Join(at, " "))
	fmt.Fprintf(b, "  init=%s std=%s\n", rc.Init.Kind, dumpNum(rc.Init.Std))
	a := rc.Augment
	fmt.Fprintf(b, "  augment crop=%d pad=%d translate=%d mirror=%t\n", a.Crop, a.Pad, a.Translate, a.Mirror)
}

func dumpName(n *Node) string {
	if n == nil {
		return "-"
	}
	return n.Name
}

func dumpPos(p lexer.Position) string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

func dumpNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
