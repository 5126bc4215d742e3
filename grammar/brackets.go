package grammar

import (
	"bytes"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Bracket is a bracket that does not pair up, found by Brackets. Open is
// the opening bracket ("{", "(" or a name directly followed by "(", such as
// "b(" or "s(") and Close the closing one; one of them is nil:
//
//   - Open without Close: the bracket is never closed (a "(" must close on
//     its own line, a "{" or the "(" of a group before the end of the file);
//   - Close without Open: a closing bracket with nothing open;
//   - both: a closing bracket of the other kind, "(" ... "}".
type Bracket struct {
	Open, Close *lexer.Token
	// What names the construct Open belongs to: "block b", "concat",
	// "residual", "shortcut", "aux", "train", "split", "scale", "if",
	// "group" (a "(" that starts an element), "call b(", "flag s(" or "".
	What string
}

// Brackets pairs the brackets of src and returns the first one that does
// not pair up, or nil. It is meant for a file that failed to parse (at byte
// offset at), to say which bracket the failure comes from; it returns nil
// when the file does not lex.
func Brackets(filename string, src []byte, at int) *Bracket {
	lex, err := Lexer.Lex(filename, bytes.NewReader(TrimBOM(src)))
	if err != nil {
		return nil
	}
	syms := Lexer.Symbols()
	nl, call, punct := syms["NL"], syms["Call"], syms["Punct"]
	space, comment := syms["Space"], syms["Comment"]
	var toks []lexer.Token // the line so far, for naming openers
	var stack []open
	for {
		t, err := lex.Next()
		if err != nil {
			return nil
		}
		if t.EOF() {
			break
		}
		switch {
		case t.Type == space || t.Type == comment:
			continue
		case t.Type == nl:
			// Parentheses close on the line they open.
			if len(stack) > 0 && stack[len(stack)-1].tok.Pos.Line == t.Pos.Line {
				if j := firstParen(stack); j >= 0 {
					return &Bracket{Open: &stack[j].tok, What: stack[j].what}
				}
			}
			toks = toks[:0]
			continue
		case t.Type == call:
			name := strings.TrimSuffix(t.Value, "(")
			what := "flag " + t.Value // after a layer word: s(stride)
			prev := ""
			if len(toks) > 0 {
				prev = toks[len(toks)-1].Value
			}
			switch {
			case name == "x":
				what = "repetition x("
			case prev == "block":
				what = "block " + name
			case prev == "" || prev == "->" || prev == "{" || prev == "|" || prev == ":":
				what = "call " + t.Value
			}
			stack = append(stack, open{t, what})
		case t.Type == punct && (t.Value == "(" || t.Value == "{"):
			what := ""
			prev := ""
			if len(toks) > 0 {
				prev = toks[len(toks)-1].Value
			}
			switch {
			case t.Value == "{":
				what = opener(toks)
			case prev == "" || prev == "->" || prev == "{" || prev == "|" || prev == ":" || prev == "(" && len(stack) > 0 && stack[len(stack)-1].what == "group":
				what = "group" // (a -> b) x3, which may span lines as a { } body
			}
			stack = append(stack, open{t, what})
		case t.Type == punct && (t.Value == ")" || t.Value == "}"):
			tc := t
			if len(stack) == 0 {
				return &Bracket{Close: &tc}
			}
			top := stack[len(stack)-1]
			if (top.tok.Value == "{") != (t.Value == "}") {
				if t.Value == ")" && top.tok.Pos.Line != t.Pos.Line {
					return &Bracket{Close: &tc} // a stray ")" inside a { } body
				}
				return &Bracket{Open: &top.tok, Close: &tc, What: top.what}
			}
			stack = stack[:len(stack)-1]
		}
		toks = append(toks, t)
	}
	// Never closed: the innermost that opens before the parse failed at
	// offset at, else the outermost.
	for i := len(stack) - 1; i >= 0; i-- {
		if o := stack[i]; o.tok.Pos.Offset <= at || i == 0 {
			return &Bracket{Open: &o.tok, What: o.what}
		}
	}
	return nil
}

// firstParen is the index of the first "(" of the brackets opened on the
// line of the last one, or -1.
func firstParen(stack []open) int {
	line := stack[len(stack)-1].tok.Pos.Line
	first := -1
	for i := len(stack) - 1; i >= 0 && stack[i].tok.Pos.Line == line; i-- {
		if stack[i].tok.Value != "{" && stack[i].what != "group" {
			first = i
		}
	}
	return first
}

// open is a bracket waiting for its closing one.
type open struct {
	tok  lexer.Token
	what string
}

// opener names the construct of a "{" from the tokens before it on its
// line.
func opener(toks []lexer.Token) string {
	for i := len(toks) - 1; i >= 0; i-- {
		switch v := toks[i].Value; v {
		case "concat", "residual", "shortcut", "aux", "train", "split", "scale":
			return v
		case "if":
			if i > 0 && toks[i-1].Value == "residual" {
				return "residual"
			}
			return v
		case "block":
			if i+1 < len(toks) {
				return "block " + strings.TrimSuffix(toks[i+1].Value, "(")
			}
			return "block"
		}
	}
	return ""
}

// BOM is the UTF-8 byte-order mark some editors write at the start of a
// file. Parse skips it; Format does not write it.
const BOM = "\ufeff"

// TrimBOM returns src without a leading byte-order mark.
func TrimBOM(src []byte) []byte {
	return bytes.TrimPrefix(src, []byte(BOM))
}
