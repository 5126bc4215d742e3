package grammar

import (
	"fmt"
	"strings"
	"testing"
)

func TestBrackets(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"block a() {\n  concat { relu\n", "open { 2:10 concat"},
		{"input 8x8x1\nconv 4 3x3 -> relu\n", "nil"},
		{"block b(c) {\n  conv c 3x3\n\nb(3)\n", "open { 1:12 block b"},
		{"x -> concat { a | b\n-> fc 10\n", "open { 1:13 concat"},
		{"a -> residual { b } shortcut { c\n", "open { 1:30 shortcut"},
		{"a -> aux weight 0.3 { fc 10\n", "open { 1:21 aux"},
		{"train {\n  batch 3\n", "open { 1:7 train"},
		{"conv 6 5x5 -> b(3 -> fc 10\n", "open b( 1:15 call b("},
		{"conv 6 5x5 s(2 -> fc 10\n", "open s( 1:12 flag s("},
		{"conv (c+1 3x3\n", "open ( 1:6 "},
		{"relu x(n\n", "open x( 1:6 repetition x("},
		{"block b() {\n  conv (2 3x3\n}\n", "open ( 2:8 "},
		{"fc 10 }\n", "close } 1:7"},
		{"fc 10)\n", "close ) 1:6"},
		{"block b() {\n  fc 10)\n}\n", "close ) 2:8"},
		{"block b(c} { fc 10 }\n", "mismatch b( 1:7 } 1:10 block b"},
		{"concat { fc 1 | fc 2)\n", "mismatch { 1:8 ) 1:21 concat"},
		{"a \x00 (\n", "nil"},                                              // does not lex
		{"block a() {\n  relu\nblock b() { relu\n", "open { 1:11 block a"}, // the parse fails at 3:1
	} {
		at := len(tc.src)
		if strings.HasPrefix(tc.src, "block a() {\n  relu\nblock b") {
			at = len("block a() {\n  relu\n")
		}
		b := Brackets("t.cnn", []byte(tc.src), at)
		got := "nil"
		switch {
		case b == nil:
		case b.Close == nil:
			got = fmt.Sprintf("open %s %d:%d %s", b.Open.Value, b.Open.Pos.Line, b.Open.Pos.Column, b.What)
		case b.Open == nil:
			got = fmt.Sprintf("close %s %d:%d", b.Close.Value, b.Close.Pos.Line, b.Close.Pos.Column)
		default:
			got = fmt.Sprintf("mismatch %s %d:%d %s %d:%d %s", b.Open.Value, b.Open.Pos.Line, b.Open.Pos.Column, b.Close.Value, b.Close.Pos.Line, b.Close.Pos.Column, b.What)
		}
		if strings.TrimSpace(got) != strings.TrimSpace(tc.want) {
			t.Errorf("%q: got %q, want %q", tc.src, got, tc.want)
		}
	}
}

// Brackets is linear in the input: deep nesting and many lines are cheap.
func TestBracketsDeep(t *testing.T) {
	src := strings.Repeat("concat {\n", 5000) + strings.Repeat("\n", 5000)
	if b := Brackets("t.cnn", []byte(src), len(src)); b == nil || b.Open.Pos.Line != 5000 {
		t.Errorf("got %+v", b)
	}
}
