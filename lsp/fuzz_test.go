package lsp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"testing"
	"unicode/utf8"

	"github.com/cnnc-dev/cnnc/dsl"
)

// session frames a list of messages as a client would send them.
func session(msgs ...string) []byte {
	var b bytes.Buffer
	for _, m := range msgs {
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(m), m)
	}
	return b.Bytes()
}

func openMsg(text string) string {
	raw, _ := json.Marshal(didOpenParams{TextDocument: textDocumentItem{URI: "file:///f.cnn", Version: 1, Text: text}})
	return `{"jsonrpc":"2.0","method":"textDocument/didOpen","params":` + string(raw) + `}`
}

// FuzzServe feeds the server arbitrary byte streams: frames that are cut,
// lie about their length, hold no JSON or JSON of the wrong shape, and
// requests at positions out of range. The server must never panic and must
// end when the stream does.
func FuzzServe(f *testing.F) {
	lenet, err := os.ReadFile("../networks/lenet5.cnn")
	if err != nil {
		f.Fatal(err)
	}
	broken, err := os.ReadFile("testdata/broken.cnn")
	if err != nil {
		f.Fatal(err)
	}
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`
	req := func(id int, method, params string) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, method, params)
	}
	pos := func(l, c int) string {
		return fmt.Sprintf(`{"textDocument":{"uri":"file:///f.cnn"},"position":{"line":%d,"character":%d},"context":{"includeDeclaration":true}}`, l, c)
	}
	for _, text := range []string{string(lenet), string(broken), "input 8x8x1 # ü😀\nconv 4 3×3\n"} {
		f.Add(session(init, openMsg(text),
			req(2, "textDocument/hover", pos(6, 2)),
			req(3, "textDocument/inlayHint", `{"textDocument":{"uri":"file:///f.cnn"},"range":{"start":{"line":0,"character":0},"end":{"line":99,"character":0}}}`),
			req(4, "textDocument/definition", pos(7, 9)),
			req(5, "textDocument/references", pos(-1, 1<<30)),
			req(6, "textDocument/formatting", `{"textDocument":{"uri":"file:///f.cnn"}}`),
			req(7, "textDocument/completion", pos(8, 4)),
			req(9, "textDocument/documentSymbol", `{"textDocument":{"uri":"file:///f.cnn"}}`),
			`{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///f.cnn","version":2},"contentChanges":[{"range":{"start":{"line":3,"character":2},"end":{"line":1,"character":0}},"text":"x"}]}}`,
			req(8, "shutdown", "null"), `{"jsonrpc":"2.0","method":"exit"}`))
	}
	f.Add([]byte("Content-Length: 5\r\n\r\n{}"))
	f.Add([]byte("Content-Length: -1\r\n\r\n"))
	f.Add([]byte("Content-Length: 99999999999999999999\r\n\r\n"))
	f.Add([]byte("Content-Type: x\r\n\r\n{}"))
	f.Add([]byte("no header at all"))
	f.Add(session(`[1,2,3]`, `{"id":{},"method":3}`, `{"id":1}`, init, `{"id":2,"method":"textDocument/hover","params":null}`))
	// Networks that expand to many layers are slow to check and say
	// nothing new about the server: keep them small (compiler's FuzzCompile
	// does the same).
	defer func(n int) { dsl.MaxNodes = n }(dsl.MaxNodes)
	dsl.MaxNodes = 2000
	f.Fuzz(func(t *testing.T, data []byte) {
		Serve(bytes.NewReader(data), io.Discard, io.Discard)
	})
}

// FuzzText checks the conversions between byte offsets and UTF-16
// positions on any text: a position maps back to its offset, and every
// offset lands on a character boundary.
func FuzzText(f *testing.F) {
	f.Add("input 8x8x1 # Größe 😀\r\nconv 4 3x3\n")
	f.Add("\n\n\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		tx := newText(s)
		for off := 0; off <= len(s); off++ {
			if off < len(s) && !utf8.RuneStart(s[off]) {
				continue
			}
			p := tx.position(off)
			back := tx.offset(p)
			// "\r" before "\n" is not part of a line: its offset maps to the end.
			if back != off && !(off < len(s) && s[off] == '\n' && back == off-1 && off > 0 && s[off-1] == '\r') {
				t.Fatalf("offset %d -> %+v -> %d in %q", off, p, back, s)
			}
		}
		for l := -1; l <= len(tx.lines); l++ {
			for c := -1; c < 6; c++ {
				off := tx.offset(Position{Line: l, Character: c})
				if off < 0 || off > len(s) || off < len(s) && !utf8.RuneStart(s[off]) && utf8.ValidString(s) {
					t.Fatalf("position %d:%d -> offset %d in %q", l, c, off, s)
				}
			}
		}
	})
}
