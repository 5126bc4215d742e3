// Package diagram draws a checked network (compiler.Model) as a picture:
// one box per layer with the layer as written and its output HxWxC, concat
// branches side by side, residual shortcuts as skip edges, auxiliary heads
// as side branches, grouped convolutions marked; or, collapsed, one box per
// block call. The layout is its own (no Graphviz), and so are the writers:
// SVG, DOT and PNG. It is pure Go and builds for GOOS=js GOARCH=wasm.
package diagram

import (
	"fmt"
	"strings"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/op"
)

// Options choose what Layout draws.
type Options struct {
	// Collapse draws each top-level block call as one box with its name,
	// the call as written and its input and output shapes.
	Collapse bool
}

// vertex is one box to draw before it has a place: a layer, or a block
// call when collapsed.
type vertex struct {
	id      int
	name    string // the layer's or the call's name
	lines   []string
	family  Family
	groups  int          // a grouped conv's groups (>1), 0 otherwise
	aux     *dsl.AuxHead // non-nil inside an auxiliary head
	implied bool         // a projection the compiler implied
	inputs  []*vertex    // in the order the layer reads them
	call    string       // the top-level block call it is in (expanded)
	layers  []*compiler.Layer
}

// graph is the network as vertices in topological order.
type graph struct {
	verts []*vertex
	out   *vertex // the main output
	aux   []auxHead
	calls []call // the top-level block calls, expanded, in order
}

// call is a top-level block call: its instance name and the call as
// written.
type call struct{ name, text string }

type auxHead struct {
	head     *dsl.AuxHead
	from, to *vertex
	call     string // the block call the head's layers are in, as written
}

// build turns the model into vertices: one per layer, or one per block
// call when collapsed.
func build(m *compiler.Model, collapse bool) (*graph, error) {
	if m == nil || len(m.Layers) == 0 || m.Output() == nil {
		return nil, fmt.Errorf("diagram: the model has no layers")
	}
	g := &graph{}
	of := map[*compiler.Layer]*vertex{}
	byCall := map[string]*vertex{}
	for _, l := range m.Layers {
		key := ""
		if collapse && len(l.Node.Calls) > 0 {
			key = l.Node.Calls[0].Instance
		}
		v := byCall[key]
		if v == nil || key == "" {
			v = &vertex{id: len(g.verts), aux: l.Node.Aux}
			g.verts = append(g.verts, v)
			if key != "" {
				byCall[key] = v
			}
		}
		v.layers = append(v.layers, l)
		of[l] = v
		if cs := l.Node.Calls; !collapse && len(cs) > 0 && l.Node.Aux == nil {
			v.call = cs[0].Instance
			if len(g.calls) == 0 || g.calls[len(g.calls)-1].name != v.call {
				g.calls = append(g.calls, call{v.call, callText(m.Net, cs[0])})
			}
		}
		for _, in := range l.Inputs {
			u := of[in]
			if u == nil {
				return nil, fmt.Errorf("diagram: %s reads %s, which comes after it", l.Node.Name, in.Node.Name)
			}
			if u != v && !has(v.inputs, u) {
				v.inputs = append(v.inputs, u)
			}
		}
	}
	for _, v := range g.verts {
		if len(v.layers) == 1 && (!collapse || len(v.layers[0].Node.Calls) == 0) {
			layerBox(v, v.layers[0])
		} else {
			callBox(m.Net, v)
		}
	}
	g.out = of[m.Output()]
	for _, a := range m.Net.Aux {
		from, to := of[m.ByNode[a.From]], of[m.ByNode[a.Output]]
		if from == nil || to == nil || from == to {
			continue // a head inside a collapsed block call
		}
		h := auxHead{head: a, from: from, to: to}
		for _, n := range m.Net.Nodes { // the block call the head is, if it is one
			for _, cs := range n.Calls {
				if n.Aux == a && h.call == "" && strings.HasPrefix(cs.Instance, a.Name+".") {
					h.call = callText(m.Net, cs)
				}
			}
		}
		g.aux = append(g.aux, h)
	}
	return g, nil
}

func has(vs []*vertex, v *vertex) bool {
	for _, u := range vs {
		if u == v {
			return true
		}
	}
	return false
}

// layerBox labels one layer: as written, then its output shape, then a
// mark for grouped and depthwise convolutions.
func layerBox(v *vertex, l *compiler.Layer) {
	n := l.Node
	v.name = n.Name
	v.family = familyOf(n.Op)
	v.implied = l.Implied
	v.lines = []string{n.Text, l.Out.String()}
	if len(n.Inputs) == 0 {
		v.lines = v.lines[:1] // input HxWxC says it
	}
	if c, ok := n.Op.(*op.Conv); ok && len(l.In) == 1 {
		groups := c.Groups
		if c.Depthwise {
			groups = l.In[0].C
		}
		switch {
		case groups > 1 && groups == l.In[0].C:
			v.lines = append(v.lines, "depthwise")
		case groups > 1:
			v.groups = groups
			v.lines = append(v.lines, fmt.Sprintf("%d groups of %d -> %d", groups, l.In[0].C/groups, l.Out.C/groups))
		}
	}
}

// callBox labels a block call: its instance name and the call as written,
// then its input and output shapes and its parameters.
func callBox(net *dsl.Network, v *vertex) {
	cs := v.layers[0].Node.Calls[0]
	call := callText(net, cs)
	title := call
	if short := cs.Instance[strings.LastIndex(cs.Instance, ".")+1:]; !strings.HasPrefix(call, short) {
		title = short + ": " + call
	}
	v.name = cs.Instance
	v.family = Block
	var params int64
	residual := false
	first, last := v.layers[0], v.layers[len(v.layers)-1]
	inShape := first.Out
	if len(first.In) > 0 {
		inShape = first.In[0]
	}
	for _, l := range v.layers {
		params += l.Params
		if _, ok := l.Node.Op.(*op.Add); ok {
			residual = true
		}
	}
	v.lines = []string{title, inShape.String() + " -> " + last.Out.String()}
	note := compiler.Comma(params) + " params"
	if residual {
		note += ", residual" // its shortcut is inside the box
	}
	v.lines = append(v.lines, note)
}

// callText is a block call as written, on one line.
func callText(net *dsl.Network, cs dsl.CallSite) string {
	if cs.Pos.Offset >= 0 && cs.End.Offset <= len(net.Source) && cs.Pos.Offset < cs.End.Offset {
		return strings.Join(strings.Fields(string(net.Source[cs.Pos.Offset:cs.End.Offset])), " ")
	}
	return cs.Block + "(...)"
}

// Family is the colour of a box: what kind of layer it is.
type Family string

const (
	Input  Family = "input"
	Conv   Family = "conv"
	Pool   Family = "pool"
	Norm   Family = "norm"
	Act    Family = "act"
	FC     Family = "fc"
	Join   Family = "join"
	Output Family = "output"
	Block  Family = "block"
	Other  Family = "other"
)

func familyOf(o op.Op) Family {
	switch o.Kind().Word {
	case "input":
		return Input
	case "conv", "dwconv":
		return Conv
	case "maxpool", "avgpool", "gap":
		return Pool
	case "bn", "lrn", "layernorm", "layerscale":
		return Norm
	case "fc":
		return FC
	case "concat", "add", "scale", "slice", "shuffle", "identity":
		return Join
	case "softmax":
		return Output
	case "relu", "leakyrelu", "relu6", "tanh", "sigmoid", "silu", "hardswish", "hardsigmoid", "gelu", "dropout", "droppath":
		return Act
	}
	return Other
}
