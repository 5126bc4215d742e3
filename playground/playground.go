// Package playground is cnnc in a web page: the front end (parse, check,
// summary table, picture) compiled to WebAssembly (playground/wasm) and a
// static page (web/) where a person edits a .cnn file and sees the table,
// the errors and the picture as they type, with the zoo as examples.
//
// Check is what the page calls on every edit; Build writes the servable
// directory. `go generate ./playground` builds it into playground/site,
// `go run ./playground/serve` builds and serves it.
package playground

//go:generate go run ./build -o site

import (
	"bytes"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/grammar"
)

// Options are the page's switches.
type Options struct {
	Collapse bool // draw each block call as one box
}

// Result is what the page shows for one version of the text. Exactly one
// of Errors and Rows is set.
type Result struct {
	Errors string `json:"errors,omitempty"` // as `cnnc check` prints them
	Marks  []Mark `json:"marks,omitempty"`  // the errors' spans, to underline in the editor

	Network string   `json:"network,omitempty"`
	Input   string   `json:"input,omitempty"` // HxWxC
	Rows    []Row    `json:"rows,omitempty"`  // one per layer, then the total
	Totals  []string `json:"totals,omitempty"`

	SVG          string `json:"svg,omitempty"`          // the picture
	PictureError string `json:"pictureError,omitempty"` // why there is none
}

// Mark is an error's span in the text, in UTF-16 code units (a JavaScript
// string's indices): [From, To).
type Mark struct {
	From int    `json:"from"`
	To   int    `json:"to"`
	Msg  string `json:"msg"`
}

// Row is one line of the summary table, its numbers formatted as `cnnc
// summary` prints them.
type Row struct {
	Name        string `json:"name"`
	Layer       string `json:"layer"` // the layer as written
	Line        int    `json:"line,omitempty"`
	Output      string `json:"output"`
	Params      string `json:"params"`
	MACs        string `json:"macs"`
	Activations string `json:"activations"`
	Aux         bool   `json:"aux,omitempty"` // in an auxiliary head (training only)
	Implied     bool   `json:"implied,omitempty"`
}

// Check compiles src (the text of the file name) and returns what the page
// shows: the errors, or the table and the picture.
func Check(name string, src []byte, opt Options) *Result {
	m, errs := compiler.CompileSource(name, src)
	if len(errs) > 0 {
		return &Result{Errors: errs.Render(src), Marks: marks(src, errs)}
	}
	r := &Result{Network: m.Net.Name, Input: compiler.ShapeString(m.Net.Input)}
	for i, l := range m.Layers {
		row := Row{Name: l.Node.Name, Layer: l.Node.Text, Line: l.Node.Pos.Line, Output: compiler.ShapeString(l.Out),
			Params: compiler.Comma(l.Params), MACs: compiler.Comma(l.MACs), Activations: compiler.Comma(l.Activations),
			Aux: l.Node.Aux != nil, Implied: l.Implied}
		if i == 0 {
			row.Line = m.Net.InputPos.Line
		}
		r.Rows = append(r.Rows, row)
	}
	r.Rows = append(r.Rows, Row{Name: "total", Output: compiler.ShapeString(m.Output().Out),
		Params: compiler.Comma(m.Params), MACs: compiler.Comma(m.MACs), Activations: compiler.Comma(m.Activations)})
	r.Totals = totals(m)
	r.SVG, r.PictureError = picture(m, opt)
	return r
}

// totals are the lines under `cnnc summary`'s table.
func totals(m *compiler.Model) []string {
	t := []string{
		fmt.Sprintf("parameters: %s (%.1f MB float32)", compiler.Comma(m.Params), float64(m.Params)*4/1e6),
		fmt.Sprintf("conv+fc multiply-accumulates per image: %s", compiler.Comma(m.MACs)),
		fmt.Sprintf("forward activations per image: %s values (%.1f MB float32)", compiler.Comma(m.Activations), float64(m.Activations)*4/1e6),
	}
	if len(m.Net.Aux) > 0 {
		t = append(t, fmt.Sprintf("inference (without auxiliary heads): %s parameters, %s MACs",
			compiler.Comma(m.Inference.Params), compiler.Comma(m.Inference.MACs)))
	}
	return t
}

// marks places each error's span in src the way Render draws its carets:
// from the column to the end on the same line, or one character.
func marks(src []byte, errs dsl.ErrorList) []Mark {
	text := grammar.TrimBOM(src)
	base := 0
	if len(text) < len(src) {
		base = 1 // the BOM is one UTF-16 unit of the page's text
	}
	var starts []int // byte offset of each line
	for i := 0; i <= len(text); {
		starts = append(starts, i)
		j := bytes.IndexByte(text[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	var out []Mark
	for _, e := range errs {
		if e.Pos.Line < 1 || e.Pos.Line > len(starts) {
			continue
		}
		start := starts[e.Pos.Line-1]
		end := len(text)
		if e.Pos.Line < len(starts) {
			end = starts[e.Pos.Line] - 1
		}
		line := text[start:end]
		col := min(max(e.Pos.Column, 1), len(line)+1)
		to := col + 1
		if e.End.Line == e.Pos.Line && e.End.Column > col {
			to = e.End.Column
		}
		to = min(to, len(line)+1)
		if to <= col { // at the end of the line: the character before, or the newline
			col = max(col-1, 1)
			to = col + 1
		}
		from := base + utf16Len(text[:start+col-1])
		out = append(out, Mark{From: from, To: from + max(utf16Len(line[col-1:min(to-1, len(line))]), 1), Msg: e.Msg})
	}
	return out
}

// utf16Len is the length of b in UTF-16 code units; invalid bytes count
// one each, as the page's decoder turns each into U+FFFD.
func utf16Len(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}
