package compiler

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/cnnc-dev/cnnc/op"
)

// SummaryJSON is the object `cnnc summary --json` prints.
type SummaryJSON struct {
	Network     string         `json:"network"`
	File        string         `json:"file"`
	Input       [3]int         `json:"input"`
	Layers      []LayerJSON    `json:"layers"`
	Params      int64          `json:"params"`
	MACs        int64          `json:"macs"`
	Activations int64          `json:"activations"`
	Inference   InferenceJSON  `json:"inference"`
	Aux         []AuxJSON      `json:"aux,omitempty"`
	Train       map[string]any `json:"train"`
}

// LayerJSON is one row of the summary.
type LayerJSON struct {
	Name        string `json:"name"`
	Op          string `json:"op"`
	Text        string `json:"text"`
	Line        int    `json:"line"`
	Output      [3]int `json:"output"`
	Params      int64  `json:"params"`
	MACs        int64  `json:"macs"`
	Activations int64  `json:"activations"`
	Aux         string `json:"aux,omitempty"`
}

// InferenceJSON is the totals without auxiliary heads.
type InferenceJSON struct {
	Params      int64 `json:"params"`
	MACs        int64 `json:"macs"`
	Activations int64 `json:"activations"`
}

// AuxJSON describes an auxiliary head.
type AuxJSON struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
	From   string  `json:"from"`
	Output [3]int  `json:"output"`
}

func dims(s op.Shape) [3]int { return [3]int{s.H, s.W, s.C} }

// JSON builds the summary object.
func (m *Model) JSON() SummaryJSON {
	n := m.Net
	s := SummaryJSON{
		Network: n.Name, File: n.File, Input: dims(n.Input),
		Params: m.Params, MACs: m.MACs, Activations: m.Activations,
		Inference: InferenceJSON{m.Inference.Params, m.Inference.MACs, m.Inference.Activations},
		Layers:    []LayerJSON{},
	}
	for _, l := range m.Layers {
		j := LayerJSON{Name: l.Node.Name, Op: l.Node.Word(), Text: l.Node.Text, Line: l.Node.Pos.Line,
			Output: dims(l.Out), Params: l.Params, MACs: l.MACs, Activations: l.Activations}
		if l.Node.Aux != nil {
			j.Aux = l.Node.Aux.Name
		}
		s.Layers = append(s.Layers, j)
	}
	for _, a := range n.Aux {
		s.Aux = append(s.Aux, AuxJSON{Name: a.Name, Weight: a.Weight, From: a.From.Name, Output: dims(m.ByNode[a.Output].Out)})
	}
	t := n.Train
	s.Train = map[string]any{
		"batch": t.Batch, "epochs": t.Epochs, "optimizer": t.Optimizer, "lr": t.LR, "momentum": t.Momentum,
		"decay": t.Decay, "nesterov": t.Nesterov, "schedule": t.Schedule.Kind, "divide": t.Schedule.Divide,
		"init": t.Init.Kind,
	}
	return s
}

// WriteJSON prints the summary as indented JSON.
func (m *Model) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(m.JSON(), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// Comma prints n with thousands separators.
func Comma(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// WriteTable prints the per-layer table with totals underneath.
func (m *Model) WriteTable(w io.Writer) error {
	n := m.Net
	fmt.Fprintf(w, "%s (%s): input %s\n\n", n.Name, n.File, ShapeString(n.Input))
	rows := [][]string{{"#", "name", "layer", "output", "params", "MACs", "activations"}}
	for i, l := range m.Layers {
		text := l.Node.Text
		if len(text) > 48 {
			text = text[:45] + "..."
		}
		rows = append(rows, []string{fmt.Sprint(i), l.Node.Name, text, ShapeString(l.Out), Comma(l.Params), Comma(l.MACs), Comma(l.Activations)})
	}
	rows = append(rows, []string{"", "total", "", ShapeString(m.Output().Out), Comma(m.Params), Comma(m.MACs), Comma(m.Activations)})
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		b.Reset()
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-len(c))
			if i == 1 || i == 2 { // names and layers read left to right
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
			if i < len(r)-1 {
				b.WriteString("  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	fmt.Fprintf(w, "\nparameters: %s (%.1f MB float32)\n", Comma(m.Params), float64(m.Params)*4/1e6)
	fmt.Fprintf(w, "conv+fc multiply-accumulates per image: %s\n", Comma(m.MACs))
	fmt.Fprintf(w, "forward activations per image: %s values (%.1f MB float32; input included, relu/dropout/softmax in place)\n",
		Comma(m.Activations), float64(m.Activations)*4/1e6)
	if len(n.Aux) > 0 {
		var names []string
		for _, a := range n.Aux {
			names = append(names, fmt.Sprintf("%s (weight %g, from %s)", a.Name, a.Weight, a.From.Name))
		}
		fmt.Fprintf(w, "auxiliary heads, training only: %s\n", strings.Join(names, ", "))
		fmt.Fprintf(w, "inference (without auxiliary heads): %s parameters, %s MACs\n", Comma(m.Inference.Params), Comma(m.Inference.MACs))
	}
	return nil
}
