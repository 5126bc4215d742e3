package lsp

import (
	"testing"
)

// BenchmarkKeystroke is what one keystroke costs in the editor on the
// largest zoo network: a didChange, its diagnostics, and the inlay hints
// the editor asks for next, through the protocol over pipes.
//
//	go test ./lsp -run '^$' -bench Keystroke -benchtime 20x
func BenchmarkKeystroke(b *testing.B) {
	for _, name := range []string{"lenet5.cnn", "googlenet.cnn", "resnet152.cnn"} {
		b.Run(name, func(b *testing.B) {
			c := initialized(b)
			uri, text := zoo(b, name)
			c.open(uri, text)
			line, col := findText(b, text, "-> ")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.notify("textDocument/didChange", map[string]any{
					"textDocument":   map[string]any{"uri": uri, "version": i + 2},
					"contentChanges": []contentChange{{Range: &Range{Start: Position{line, col}, End: Position{line, col + 1}}, Text: "-"}},
				})
				if ds := c.diagnostics().Diagnostics; len(ds) != 0 {
					b.Fatalf("%d diagnostics", len(ds))
				}
				var hs []InlayHint
				if err := c.call("textDocument/inlayHint", rangeParams{TextDocument: textDocumentIdentifier{URI: uri}, Range: Range{End: Position{Line: 1000}}}, &hs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
