package lsp

import (
	"sort"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// text is a document's content with the start of every line, to convert
// between byte offsets and LSP positions (UTF-16 columns).
type text struct {
	src   string
	lines []int // byte offset of the start of each line
}

func newText(src string) *text {
	t := &text{src: src, lines: []int{0}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			t.lines = append(t.lines, i+1)
		}
	}
	return t
}

// lineEnd is the offset of the end of line l, before its "\n" (and "\r").
func (t *text) lineEnd(l int) int {
	if l+1 == len(t.lines) {
		return len(t.src) // the last line has no "\n": a "\r" there is text
	}
	end := t.lines[l+1] - 1
	if end > t.lines[l] && t.src[end-1] == '\r' {
		end--
	}
	return end
}

// offset converts a position to a byte offset; a position past the end of
// its line is the end of the line, one past the last line the end of the
// text (LSP's rules for positions out of range).
func (t *text) offset(p Position) int {
	if p.Line < 0 {
		return 0
	}
	if p.Line >= len(t.lines) {
		return len(t.src)
	}
	off, end := t.lines[p.Line], t.lineEnd(p.Line)
	for units := 0; off < end && units < p.Character; {
		r, size := utf8.DecodeRuneInString(t.src[off:end])
		units += utf16Len(r)
		if units > p.Character {
			break // inside a surrogate pair: stay before it
		}
		off += size
	}
	return off
}

// position converts a byte offset to a position.
func (t *text) position(off int) Position {
	off = max(0, min(off, len(t.src)))
	l := sort.Search(len(t.lines), func(i int) bool { return t.lines[i] > off }) - 1
	col := 0
	for s := t.src[t.lines[l]:off]; s != ""; {
		r, size := utf8.DecodeRuneInString(s)
		col += utf16Len(r)
		s = s[size:]
	}
	return Position{Line: l, Character: col}
}

func (t *text) rangeOf(start, end int) Range {
	return Range{Start: t.position(start), End: t.position(end)}
}

func utf16Len(r rune) int {
	if r >= 0x10000 && r <= utf8.MaxRune {
		return 2
	}
	return 1
}

// sourceOffset is the byte offset of a compiler position (1-based line,
// 1-based byte column; the participle parser's columns count runes, so the
// offset it records wins when it lies on the position's line). base is
// where the analysed text starts in the document (after a byte-order
// mark).
func (t *text) sourceOffset(p lexer.Position, base int) int {
	if p.Line < 1 {
		return base
	}
	if p.Line > len(t.lines) {
		return len(t.src)
	}
	if off := p.Offset + base; off >= t.lines[p.Line-1] && off <= t.lineEnd(p.Line-1) && (p.Line > 1 || p.Offset > 0 || p.Column == 1) {
		return off
	}
	start := t.lines[p.Line-1]
	if p.Line == 1 {
		start = base
	}
	return t.snap(min(start+max(p.Column-1, 0), t.lineEnd(p.Line-1)))
}

// span is the byte range of a compiler error or node: from pos to end when
// end is on the same line and after it, otherwise one character.
func (t *text) span(pos, end lexer.Position, base int) (int, int) {
	s := t.sourceOffset(pos, base)
	e := s
	if end.Line == pos.Line && end.Column > pos.Column {
		e = s + end.Column - pos.Column
	} else if s < len(t.src) && t.src[s] != '\n' {
		_, size := utf8.DecodeRuneInString(t.src[s:])
		e = s + size
	}
	l := t.position(s).Line
	return s, t.snap(min(e, t.lineEnd(l)))
}

// snap moves off forward to the start of a character.
func (t *text) snap(off int) int {
	for off < len(t.src) && !utf8.RuneStart(t.src[off]) {
		off++
	}
	return off
}
