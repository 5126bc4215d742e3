package dsl

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/cnnc-dev/cnnc/grammar"
	"github.com/cnnc-dev/cnnc/op"
)

// MaxErrors is how many errors a rendered list shows before "and N more".
const MaxErrors = 10

// Error is one problem in a .cnn file, found by any stage. Pos is where the
// offending span starts and End where it ends (exclusive, same line; zero
// when unknown). Notes point at related places, for example the call site
// of the block the error was found in.
type Error struct {
	Pos   lexer.Position
	End   lexer.Position
	Msg   string
	Hint  string
	Notes []Note
}

// Note is a secondary position attached to an Error.
type Note struct {
	Pos lexer.Position
	End lexer.Position
	Msg string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", posString(e.Pos), e.Msg)
}

func posString(p lexer.Position) string {
	return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Column)
}

// ErrorList is every error of one file.
type ErrorList []*Error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0].Error(), len(l)-1)
}

// Err returns l as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Sort orders the list by position, keeping the order of equal positions.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// Render prints the list the way cnnc shows it: position and message, the
// source line with a caret under the span, the hint and the notes. src is
// the file's text. At most MaxErrors errors are shown.
func (l ErrorList) Render(src []byte) string {
	var b strings.Builder
	lines := strings.Split(string(grammar.TrimBOM(src)), "\n")
	for i, e := range l {
		if i == MaxErrors {
			fmt.Fprintf(&b, "and %d more errors\n", len(l)-MaxErrors)
			break
		}
		fmt.Fprintf(&b, "%s: %s\n", posString(e.Pos), e.Msg)
		quote(&b, lines, e.Pos, e.End)
		if e.Hint != "" {
			fmt.Fprintf(&b, "  hint: %s\n", e.Hint)
		}
		for i, n := range e.Notes {
			if len(e.Notes) > 2*NoteEnds+1 && i >= NoteEnds && i < len(e.Notes)-NoteEnds {
				if i == NoteEnds {
					fmt.Fprintf(&b, "  ... %d more %s\n", len(e.Notes)-2*NoteEnds, noteKind(e.Notes[i:len(e.Notes)-NoteEnds]))
				}
				continue
			}
			fmt.Fprintf(&b, "%s: note: %s\n", posString(n.Pos), n.Msg)
			quote(&b, lines, n.Pos, n.End)
		}
	}
	return b.String()
}

// NoteEnds is how many notes Render shows at each end of a long list (an
// error inside blocks nested 64 deep has a "called here" note per call):
// the first NoteEnds, "... N more calls", the last NoteEnds.
const NoteEnds = 3

// noteKind words what the skipped notes are: calls, or notes.
func noteKind(ns []Note) string {
	for _, n := range ns {
		if !strings.HasSuffix(n.Msg, "called here") {
			return "notes"
		}
	}
	return "calls"
}

// quote writes the source line of p with carets under [p, end).
func quote(b *strings.Builder, lines []string, p, end lexer.Position) {
	if p.Line < 1 || p.Line > len(lines) {
		return
	}
	line := strings.TrimRight(lines[p.Line-1], "\r")
	if !printable(line) {
		return
	}
	col := p.Column
	if col < 1 {
		col = 1
	}
	if col > len(line)+1 {
		col = len(line) + 1
	}
	width := 1
	if end.Line == p.Line && end.Column > col {
		width = end.Column - col
	}
	if col-1+width > len(line) && len(line) >= col {
		width = len(line) - col + 1
	}
	num := fmt.Sprint(p.Line)
	fmt.Fprintf(b, "  %s | %s\n", num, expandTabs(line))
	pad := expandTabs(line[:col-1])
	fmt.Fprintf(b, "  %s | %s%s\n", strings.Repeat(" ", len(num)), strings.Repeat(" ", len(pad)), strings.Repeat("^", width))
}

func expandTabs(s string) string { return strings.ReplaceAll(s, "\t", "    ") }

// printable reports whether a line is worth quoting: valid text, not binary.
func printable(s string) bool {
	if len(s) > 400 {
		return false
	}
	for _, r := range s {
		if r == 0xFFFD || (r < 0x20 && r != '\t') || r == 0x7f {
			return false
		}
	}
	return true
}

// fromParse turns a participle error into errors. When the file has a
// bracket that does not pair up, the error names it and shows where it
// opened: the parser only notices it later, at the next statement or at the
// end of the file. src is the text that was parsed.
func fromParse(err error, filename string, src []byte) ErrorList {
	e := parseError(err, src)
	at := len(src)
	if e.Pos.Line != 0 {
		at = e.Pos.Offset
	}
	b := grammar.Brackets(filename, src, at)
	if b == nil {
		return ErrorList{e}
	}
	key := b.Open
	if b.Close != nil {
		key = b.Close
	}
	if e.Pos.Line != 0 && e.Pos.Offset < key.Pos.Offset {
		// The parse failed before the bracket: a mistake of its own.
		return ErrorList{e, bracketError(b, nil)}
	}
	return ErrorList{bracketError(b, e)}
}

// bracketError describes a bracket that does not pair up; a note points
// at where the parse failed because of it (parse, when not nil).
func bracketError(b *grammar.Bracket, parse *Error) *Error {
	tokEnd := func(t *lexer.Token) lexer.Position {
		end := t.Pos
		end.Column += utf8.RuneCountInString(t.Value)
		return end
	}
	what := ""
	if b.Open != nil {
		bracket := b.Open.Value[len(b.Open.Value)-1:]
		what = fmt.Sprintf("%q", bracket)
		switch {
		case strings.HasPrefix(b.What, "call "), strings.HasPrefix(b.What, "flag "), strings.HasPrefix(b.What, "repetition "):
			what = fmt.Sprintf("%q of %s", bracket, b.Open.Value)
		case b.What != "":
			what = fmt.Sprintf("%q of %s", bracket, b.What)
		}
	}
	var e *Error
	switch {
	case b.Close == nil && (b.Open.Value == "{" || b.What == "group"):
		e = &Error{Pos: b.Open.Pos, End: tokEnd(b.Open),
			Msg:  fmt.Sprintf("syntax error: the %s is never closed", what),
			Hint: "close it with \"}\" after the last layer of the body"}
		if b.What == "group" {
			e.Hint = "close it with \")\" after the last layer of the group"
		}
		if b.What == "train" {
			e.Hint = "close it with \"}\" on the line after the last setting"
		}
	case b.Close == nil:
		e = &Error{Pos: b.Open.Pos, End: tokEnd(b.Open),
			Msg:  fmt.Sprintf("syntax error: the %s is not closed on its line", what),
			Hint: "the arguments of a call, the value of a flag and a parenthesised expression end with \")\" on the line they start"}
	case b.Open == nil:
		open := map[string]string{")": "(", "}": "{"}[b.Close.Value]
		e = &Error{Pos: b.Close.Pos, End: tokEnd(b.Close),
			Msg:  fmt.Sprintf("syntax error: unmatched %q: no %q is open here", b.Close.Value, open),
			Hint: fmt.Sprintf("remove it, or look above for the %q it was meant to close", open)}
	default:
		closeWith := map[string]string{"(": ")", "{": "}"}[b.Open.Value[len(b.Open.Value)-1:]]
		e = &Error{Pos: b.Close.Pos, End: tokEnd(b.Close),
			Msg:   fmt.Sprintf("syntax error: %q does not close the %s", b.Close.Value, what),
			Hint:  fmt.Sprintf("close the %q with %q", b.Open.Value[len(b.Open.Value)-1:], closeWith),
			Notes: []Note{{Pos: b.Open.Pos, End: tokEnd(b.Open), Msg: fmt.Sprintf("the %s opens here", what)}}}
		return e
	}
	if parse != nil && parse.Pos.Line != 0 && parse.Pos.Offset != e.Pos.Offset {
		e.Notes = append(e.Notes, Note{Pos: parse.Pos, End: parse.End, Msg: "the parser stopped here: " + strings.TrimPrefix(parse.Msg, "syntax error: ")})
	}
	return e
}

// parseError turns a participle error into an Error with a hint.
func parseError(err error, src []byte) *Error {
	var pe participle.Error
	if errors.As(err, &pe) {
		pos := pe.Position()
		end := pos
		end.Column++
		e := &Error{Pos: pos, End: end, Msg: "syntax error: " + pe.Message()}
		var le *lexer.Error
		if errors.As(err, &le) {
			e.Msg = fmt.Sprintf("syntax error: unexpected character %s", badChar(le.Msg))
			e.Hint = charHint(src, pos.Offset)
		}
		if ut, ok := err.(*participle.UnexpectedTokenError); ok {
			e.Msg, e.Hint = describeUnexpected(ut, src)
			if n := len(ut.Unexpected.Value); n > 0 && !strings.Contains(ut.Unexpected.Value, "\n") {
				e.End.Column = pos.Column + utf8.RuneCountInString(ut.Unexpected.Value)
			}
		}
		return e
	}
	return &Error{Msg: err.Error()}
}

// badChar extracts the first offending character from a lexer message.
func badChar(msg string) string {
	i := strings.IndexByte(msg, '"')
	if i < 0 {
		return "in the input"
	}
	s, err := strconv.Unquote(msg[i:])
	if err != nil || s == "" {
		s = msg[i+1:]
	}
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size <= 1 {
		return fmt.Sprintf("byte 0x%02x", s[0])
	}
	return fmt.Sprintf("%q", r)
}

// describeUnexpected words an unexpected-token error for a .cnn author.
func describeUnexpected(ut *participle.UnexpectedTokenError, src []byte) (msg, hint string) {
	tok := ut.Unexpected
	found := fmt.Sprintf("%q", tok.Value)
	switch {
	case tok.EOF():
		found = "end of file"
	case strings.Contains(tok.Value, "\n"):
		found = "end of line"
	}
	msg = "syntax error: unexpected " + found
	if ut.Expect != "" {
		msg += " (expected " + ut.Expect + ")"
	}
	before := prevChar(src, tok.Pos.Offset)
	switch {
	case tok.EOF():
		hint = "the file ends in the middle of a statement"
	case strings.Contains(tok.Value, "\n"):
		hint = "a chain continues on the next line only when that line starts with ->"
	case tok.Value == "->":
		hint = "every -> needs a layer on both sides"
	case tok.Value == "}" && before == '{':
		hint = "a { } body needs at least one layer"
	case tok.Value == "|":
		hint = "concat { a | b } separates its branches with |, and every branch needs at least one layer"
	case tok.Value == "{" && keyBeforeIs(src, tok.Pos.Offset, "if"):
		hint = "if needs a condition: if s == 1 { ... }"
	case comparison[tok.Value]:
		hint = "a comparison stands only in a condition, after if or residual if, and does not chain: write a < b and b < c"
	case tok.Value == ")" && before == '(':
		hint = "a group ( ... ) holds a chain of at least one layer, for example (conv 64 3x3 p1 -> relu) x3"
	case keywordCall(src, tok.Pos.Offset) != "":
		w := keywordCall(src, tok.Pos.Offset)
		hint = fmt.Sprintf("write a space between %s and \"(\": %s( reads as a block call", w, w)
	case tok.Value == ":" && keywordArgs[keyBefore(src, tok.Pos.Offset)] != "":
		hint = keywordHint(src, tok.Pos.Offset)
	case tok.Value == "x" || tok.Value == "X":
		hint = "a repetition is written without a space: x3"
	case repeatUpper.MatchString(tok.Value):
		hint = "a repetition is written with a lower-case x: x" + tok.Value[1:]
	}
	return msg, hint
}

var repeatUpper = regexp.MustCompile(`^X[0-9]+$`)

var comparison = map[string]bool{"==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

// keyBeforeIs reports whether the word before offset is word.
func keyBeforeIs(src []byte, offset int, word string) bool {
	if offset > len(src) {
		offset = len(src)
	}
	b := bytes.TrimRight(src[:offset], " \t")
	return bytes.HasSuffix(b, []byte(word)) && (len(b) == len(word) || !isWordByte(b[len(b)-len(word)-1]) && b[len(b)-len(word)-1] != '.')
}

var keywordParen = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.])(if|not|and|or)\(`)

// keywordCall returns the last logical word written right before a "("
// (if(, not() on the line before offset, if any: the lexer reads it as a
// call.
func keywordCall(src []byte, offset int) string {
	if offset > len(src) {
		offset = len(src)
	}
	line := src[:offset]
	if i := bytes.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if ms := keywordParen.FindAllSubmatch(line, -1); len(ms) > 0 {
		return string(ms[len(ms)-1][1])
	}
	return ""
}

func keyBefore(src []byte, offset int) string {
	k, _ := keywordAt(src, offset)
	return k
}

// prevChar is the last character before offset that is not a space or a
// tab, 0 at the start of the file.
func prevChar(src []byte, offset int) byte {
	if offset > len(src) {
		offset = len(src)
	}
	for i := offset - 1; i >= 0; i-- {
		if c := src[i]; c != ' ' && c != '\t' && c != '\r' {
			return c
		}
	}
	return 0
}

// charHint explains a character the lexer refused at offset: the spelling
// cnnc uses for what it probably means.
func charHint(src []byte, offset int) string {
	if offset < 0 || offset >= len(src) {
		return textHint
	}
	r, size := utf8.DecodeRune(src[offset:])
	next := byte(0)
	if offset+size < len(src) {
		next = src[offset+size]
	}
	switch {
	case r == '×' || r == '✕' || r == '✖' || r == '⨯':
		return "sizes and repetitions are written with the letter x: 3x3, x2"
	case r == '→' || r == '⟶' || r == '➔' || r == '➜' || r == '⇒' || r == '=' && next == '>':
		return "the arrow between layers is written ->"
	case r == '=':
		return keywordHint(src, offset)
	case r == '[' || r == ']':
		return "brackets in the docs mark optional arguments: write the argument itself, or leave it out"
	case r == ';':
		return "a statement ends at the end of its line; there are no semicolons"
	case r == '\ufeff':
		return "a byte-order mark is allowed only at the very start of the file"
	case r > utf8.RuneSelf && unicode.IsLetter(r):
		return "names are ASCII: letters A-Z and a-z, digits and _, starting with a letter or _"
	}
	return textHint
}

const textHint = "a .cnn file is text: layer words, numbers, sizes such as 3x3, ->, { } ( ) | , : and # comments"

// keywords are PyTorch's and Caffe's keyword arguments and their cnnc
// spelling; %s is the value.
var keywordArgs = map[string]string{
	"stride": "s%s", "padding": "p%s", "pad": "p%s", "groups": "g%s", "group": "g%s",
	"dilation": "d%s", "num_output": "%s (the first number)", "kernel_size": "%[1]sx%[1]s", "kernel": "%[1]sx%[1]s",
	"out_channels": "%s (the first number)",
	"out_features": "%s (fc N)", "p": "%s (dropout P)", "negative_slope": "%s (leakyrelu SLOPE)",
}

// keywordHint explains `name=value` (PyTorch) or `name: value` (Caffe) at
// the "=" or ":" at offset.
func keywordHint(src []byte, offset int) string {
	key, val := keywordAt(src, offset)
	hint := "cnnc has no keyword arguments: flags are a letter and a number, s2 (stride), p1 (padding), g2 (groups), d2 (dilation), and words such as nobias and ceil"
	switch f, ok := keywordArgs[key]; {
	case key == "padding" && strings.Trim(val, "'\"") == "same":
		hint = "cnnc has no keyword arguments: write padding=\"same\" as p same"
	case key == "bias" && val == "False":
		hint = "cnnc has no keyword arguments: write bias=False as nobias"
	case key == "ceil_mode" && val == "True":
		hint = "cnnc has no keyword arguments: write ceil_mode=True as ceil"
	case key == "approximate" && strings.Trim(val, "'\"") == "tanh":
		hint = "cnnc has no keyword arguments: write gelu's approximate='tanh' as gelu tanh"
	case key == "inplace":
		hint = "cnnc has no keyword arguments; relu and dropout always run in place"
	case ok && val != "":
		sep := "="
		if src[offset] == ':' {
			sep = ": "
		}
		hint = fmt.Sprintf("cnnc has no keyword arguments: write %s%s%s as %s", key, sep, val, fmt.Sprintf(f, val))
	}
	// A layer written as a call: conv(16, 3, padding=1).
	line := src[bytes.LastIndexByte(src[:offset], '\n')+1 : offset]
	if m := layerCall.FindSubmatch(line); m != nil {
		if k := op.Lookup(string(m[1])); k != nil {
			hint += fmt.Sprintf("; a layer takes its arguments without parentheses or commas, the form is: %s", k.Usage)
		}
	}
	return hint
}

// keywordAt returns the word before the separator at offset and the value
// after it.
func keywordAt(src []byte, offset int) (key, val string) {
	i := offset
	for i > 0 && (src[i-1] == ' ' || src[i-1] == '\t') {
		i--
	}
	k := i
	for k > 0 && isWordByte(src[k-1]) {
		k--
	}
	j := offset + 1
	for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
		j++
	}
	v := j
	for v < len(src) && (isWordByte(src[v]) || src[v] == '.' || src[v] == '"' || src[v] == '\'') {
		v++
	}
	return string(src[k:i]), string(src[j:v])
}

var layerCall = regexp.MustCompile(`\b([a-z]+)\(`)

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
