package lsp

import (
	"encoding/json"
	"strings"

	"github.com/cnnc-dev/cnnc/grammar"
)

// DocumentSymbol is one entry of a document's outline.
type DocumentSymbol struct {
	Name           string `json:"name"`
	Detail         string `json:"detail,omitempty"`
	Kind           int    `json:"kind"`
	Range          Range  `json:"range"`
	SelectionRange Range  `json:"selectionRange"`
}

// SymbolKind values.
const (
	symbolModule    = 2
	symbolNamespace = 3
	symbolFunction  = 12
	symbolVariable  = 13
)

func (s *Server) documentSymbol(params json.RawMessage) (any, *rpcError) {
	_, d, err := request[formattingParams](s, params)
	if err != nil {
		return nil, err
	}
	return d.a.outline(), nil
}

// outline lists the network, its blocks, its labelled layers and calls at
// top level (with their output shapes) and the train section.
func (a *analysis) outline() []DocumentSymbol {
	syms := []DocumentSymbol{}
	if a.file == nil {
		return syms
	}
	add := func(name, detail string, kind, start, end, selStart, selEnd int) {
		syms = append(syms, DocumentSymbol{Name: name, Detail: detail, Kind: kind,
			Range: a.text.rangeOf(start, end), SelectionRange: a.text.rangeOf(selStart, selEnd)})
	}
	for _, st := range a.file.Stmts {
		start := a.base + st.Pos.Offset
		switch {
		case st.Network != nil:
			i := strings.Index(a.text.src[start:], st.Network.Name)
			detail := ""
			if a.model != nil && a.model.Output() != nil {
				detail = a.net.Input.String() + " → " + a.model.Output().Out.String()
			}
			add(st.Network.Name, detail, symbolModule, start, start+i+len(st.Network.Name), start+i, start+i+len(st.Network.Name))
		case st.Block != nil:
			name := string(st.Block.Name)
			var params []string
			for _, p := range st.Block.Params {
				params = append(params, p.Name)
			}
			i := strings.Index(a.text.src[start:], name+"(")
			add(name, "("+strings.Join(params, ", ")+")", symbolFunction, start, a.text.closeBrace(start), start+i, start+i+len(name))
		case st.Train != nil:
			add("train", "", symbolNamespace, start, a.text.closeBrace(start), start, start+len("train"))
		case st.Chain != nil:
			walk(st.Chain, func(v any) {
				e, ok := v.(*grammar.Element)
				if !ok || e.Label == nil {
					return
				}
				s := a.base + e.Pos.Offset
				label := *e.Label
				add(label, a.labelShape(label), symbolVariable, s, a.text.lineEnd(a.text.position(s).Line), s, s+len(label))
			})
		}
	}
	return syms
}

// labelShape is the output shape of a labelled layer or call at top level.
func (a *analysis) labelShape(label string) string {
	if a.model == nil {
		return ""
	}
	for i := len(a.model.Layers) - 1; i >= 0; i-- {
		n := a.model.Layers[i].Node
		if n.Name == label || len(n.Calls) > 0 && n.Calls[0].Instance == label && n.Aux == nil {
			return a.model.Layers[i].Out.String()
		}
	}
	return ""
}

// closeBrace is the offset after the "}" that closes the first "{" at or
// after off (comments skipped), or the end of the text.
func (t *text) closeBrace(off int) int {
	depth := 0
	for i := off; i < len(t.src); i++ {
		switch t.src[i] {
		case '#':
			for i < len(t.src) && t.src[i] != '\n' {
				i++
			}
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(t.src)
}
