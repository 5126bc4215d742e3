package dsl

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
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
	lines := strings.Split(string(src), "\n")
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
		for _, n := range e.Notes {
			fmt.Fprintf(&b, "%s: note: %s\n", posString(n.Pos), n.Msg)
			quote(&b, lines, n.Pos, n.End)
		}
	}
	return b.String()
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

// fromParse turns a participle error into an Error.
func fromParse(err error) *Error {
	var pe participle.Error
	if errors.As(err, &pe) {
		pos := pe.Position()
		end := pos
		end.Column++
		e := &Error{Pos: pos, End: end, Msg: "syntax error: " + pe.Message()}
		var le *lexer.Error
		if errors.As(err, &le) {
			e.Msg = fmt.Sprintf("syntax error: unexpected character %s", badChar(le.Msg))
			e.Hint = "a .cnn file is text: layer words, numbers, sizes such as 3x3, ->, { } ( ) | , : and # comments"
		}
		if ut, ok := err.(*participle.UnexpectedTokenError); ok {
			e.Msg, e.Hint = describeUnexpected(ut)
			if n := len(ut.Unexpected.Value); n > 0 && !strings.Contains(ut.Unexpected.Value, "\n") {
				e.End.Column = pos.Column + n
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
func describeUnexpected(ut *participle.UnexpectedTokenError) (msg, hint string) {
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
	switch {
	case tok.EOF():
		hint = "the file ends in the middle of a statement"
	case strings.Contains(tok.Value, "\n"):
		hint = "a chain continues on the next line only when that line starts with ->"
	case tok.Value == "->":
		hint = "every -> needs a layer on both sides"
	}
	return msg, hint
}
