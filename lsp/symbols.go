package lsp

import (
	"reflect"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/cnnc-dev/cnnc/grammar"
)

// symbols are the names of a file that go to definition and find
// references know: blocks (defined by `block NAME(...)`, used by calls) and
// block parameters (defined in the parameter list, used in the block's
// body).
type symbols struct {
	occs []occurrence
}

// occurrence is one place a symbol's name is written.
type occurrence struct {
	key        string // "block NAME" or "param BLOCK.NAME"
	start, end int    // byte offsets in the document
	decl       bool
}

// collectSymbols finds every block and parameter name of f. base is where
// the parsed text starts in t (after a byte-order mark).
func collectSymbols(t *text, base int, f *grammar.File) *symbols {
	s := &symbols{}
	name := func(p lexer.Position, word string) (int, int, bool) {
		// The name is the first occurrence of word at or after p: a
		// position names the start of its node, which may be a keyword
		// (block) or a sign (-c).
		off := p.Offset + base
		if off < 0 || off > len(t.src) {
			return 0, 0, false
		}
		i := strings.Index(t.src[off:], word)
		if i < 0 || strings.Contains(t.src[off:off+i], "\n") {
			return 0, 0, false // not on the node's line: a position the parser did not set
		}
		return off + i, off + i + len(word), true
	}
	add := func(key string, p lexer.Position, word string, decl bool, skip int) {
		p.Offset += skip
		if start, end, ok := name(p, word); ok {
			s.occs = append(s.occs, occurrence{key: key, start: start, end: end, decl: decl})
		}
	}
	for _, st := range f.Stmts {
		b := st.Block
		if b == nil {
			walk(st, func(v any) {
				if c, ok := v.(*grammar.Call); ok {
					add("block "+string(c.Name), c.Pos, string(c.Name)+"(", false, 0)
				}
			})
			continue
		}
		add("block "+string(b.Name), b.Pos, string(b.Name)+"(", true, len("block"))
		params := map[string]bool{}
		for _, p := range b.Params {
			params[p.Name] = true
			add("param "+string(b.Name)+"."+p.Name, p.Pos, p.Name, true, 0)
		}
		walk(b.Body, func(v any) {
			switch v := v.(type) {
			case *grammar.Call:
				add("block "+string(v.Name), v.Pos, string(v.Name)+"(", false, 0)
			case *grammar.Factor:
				if v.Ident != nil && params[*v.Ident] {
					add("param "+string(b.Name)+"."+*v.Ident, v.Pos, *v.Ident, false, 0)
				}
			}
		})
	}
	for i := range s.occs {
		if strings.HasPrefix(s.occs[i].key, "block ") {
			s.occs[i].end-- // the "(" the name was found with
		}
	}
	return s
}

// at returns the occurrence under the byte offset off (the end of a name
// counts, where the cursor stands after typing it).
func (s *symbols) at(off int) (occurrence, bool) {
	for _, o := range s.occs {
		if o.start <= off && off <= o.end {
			return o, true
		}
	}
	return occurrence{}, false
}

// of lists the occurrences of key, in the order of the file.
func (s *symbols) of(key string, decls bool) []occurrence {
	var out []occurrence
	for _, o := range s.occs {
		if o.key == key && (decls || !o.decl) {
			out = append(out, o)
		}
	}
	return out
}

// walk calls visit on every AST node under v, parents first, in the
// order of their fields (the order of the source).
func walk(v any, visit func(any)) {
	walkValue(reflect.ValueOf(v), visit)
}

func walkValue(v reflect.Value, visit func(any)) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return
		}
		visit(v.Interface())
		walkValue(v.Elem(), visit)
	case reflect.Struct:
		if v.Type().PkgPath() != reflect.TypeOf(grammar.File{}).PkgPath() {
			return // lexer.Position, lexer.Token
		}
		for i := 0; i < v.NumField(); i++ {
			walkValue(v.Field(i), visit)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkValue(v.Index(i), visit)
		}
	}
}
