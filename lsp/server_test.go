package lsp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/grammar"
	"github.com/cnnc-dev/cnnc/op"
)

func TestLifecycle(t *testing.T) {
	c := newClient(t)
	if err := c.call("textDocument/hover", at("file:///x.cnn", 0, 0), nil); err == nil || err.Code != codeNotInitialized {
		t.Fatalf("hover before initialize: %v, want code %d", err, codeNotInitialized)
	}
	var r initializeResult
	if err := c.call("initialize", map[string]any{}, &r); err != nil {
		t.Fatal(err)
	}
	caps := r.Capabilities
	if !caps.HoverProvider || !caps.DefinitionProvider || !caps.ReferencesProvider || !caps.DocumentFormattingProvider ||
		!caps.InlayHintProvider || !caps.DocumentSymbolProvider || caps.TextDocumentSync.Change != syncIncremental || !caps.TextDocumentSync.OpenClose {
		t.Fatalf("capabilities %+v", caps)
	}
	if err := c.call("initialize", map[string]any{}, nil); err == nil || err.Code != codeInvalidRequest {
		t.Fatalf("second initialize: %v", err)
	}
	// An unknown notification is ignored; an unknown request is answered.
	c.notify("$/unknownNotification", map[string]any{})
	if err := c.call("textDocument/semanticTokens/full", map[string]any{}, nil); err == nil || err.Code != codeMethodNotFound {
		t.Fatalf("unknown method: %v, want code %d", err, codeMethodNotFound)
	}
	if err := c.call("textDocument/hover", "not an object", nil); err == nil || err.Code != codeInvalidParams {
		t.Fatalf("bad params: %v, want code %d", err, codeInvalidParams)
	}
	if err := c.call("textDocument/hover", at("file:///not/open.cnn", 0, 0), nil); err == nil || err.Code != codeInvalidParams {
		t.Fatalf("hover of a closed document: %v", err)
	}
	// A body that is not JSON gets a parse error, and the server goes on.
	if err := writeFrameBytes(c.w, []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if m := c.read(); m.Error == nil || m.Error.Code != codeParseError {
		t.Fatalf("not JSON: %+v", m)
	}
	if err := c.call("shutdown", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.call("textDocument/hover", at("file:///x.cnn", 0, 0), nil); err == nil || err.Code != codeInvalidRequest {
		t.Fatalf("request after shutdown: %v", err)
	}
	if code := c.exit(); code != 0 {
		t.Fatalf("exit after shutdown: code %d, want 0", code)
	}
}

func TestExitWithoutShutdown(t *testing.T) {
	if code := initialized(t).exit(); code != 1 {
		t.Fatalf("exit without shutdown: code %d, want 1", code)
	}
}

// Every zoo network opens without a diagnostic, and every line that holds
// a layer gets a hint.
func TestZooClean(t *testing.T) {
	c := initialized(t)
	paths, _ := filepath.Glob("../networks/*.cnn")
	if len(paths) < 19 {
		t.Fatalf("%d zoo networks", len(paths))
	}
	for _, p := range paths {
		uri, text := zoo(t, filepath.Base(p))
		if ds := c.open(uri, text); len(ds) != 0 {
			t.Errorf("%s: %d diagnostics, first %q", p, len(ds), ds[0].Message)
		}
		var hints []InlayHint
		if err := c.call("textDocument/inlayHint", rangeParams{TextDocument: textDocumentIdentifier{URI: uri}, Range: Range{End: Position{Line: 1 << 20}}}, &hints); err != nil {
			t.Fatal(err)
		}
		if len(hints) < 3 {
			t.Errorf("%s: %d inlay hints", p, len(hints))
		}
	}
}

// The diagnostics of a broken file are `cnnc check`'s errors, with their
// positions, hints and notes.
func TestDiagnosticsAreCheck(t *testing.T) {
	c := initialized(t)
	src, err := os.ReadFile("testdata/broken.cnn")
	if err != nil {
		t.Fatal(err)
	}
	ds := c.open("file:///w/broken.cnn", string(src))
	_, want := compiler.CompileSource("broken.cnn", src)
	if len(want) < 2 || len(ds) != len(want) {
		t.Fatalf("%d diagnostics, check gives %d errors", len(ds), len(want))
	}
	for i, e := range want {
		d := ds[i]
		wantRange := Range{Start: Position{e.Pos.Line - 1, e.Pos.Column - 1}, End: Position{e.End.Line - 1, e.End.Column - 1}}
		if d.Range != wantRange {
			t.Errorf("diagnostic %d at %+v, want %+v (%s)", i, d.Range, wantRange, e)
		}
		if !strings.HasPrefix(d.Message, e.Msg) || !strings.Contains(d.Message, "hint: "+e.Hint) || d.Severity != severityError {
			t.Errorf("diagnostic %d: %q, want %q and its hint", i, d.Message, e.Msg)
		}
		if len(d.RelatedInformation) != len(e.Notes) {
			t.Errorf("diagnostic %d: %d related, want %d notes", i, len(d.RelatedInformation), len(e.Notes))
		}
	}
	// The first is in the block, and its note points at the call.
	if ds[0].Range.Start.Line != 6 || len(ds[0].RelatedInformation) != 1 || ds[0].RelatedInformation[0].Location.Range.Start != (Position{10, 3}) {
		t.Errorf("block error: %+v", ds[0])
	}
}

// A syntax error is a diagnostic too, and its range counts UTF-16 units:
// "×" is two bytes and one unit.
func TestDiagnosticsSyntaxUTF16(t *testing.T) {
	c := initialized(t)
	ds := c.open("file:///w/x.cnn", "input 28x28x1 # Größe 😀\nconv 8 3×3 -> relu\n")
	if len(ds) != 1 {
		t.Fatalf("%d diagnostics: %+v", len(ds), ds)
	}
	want := Range{Start: Position{1, 8}, End: Position{1, 9}}
	if ds[0].Range != want || !strings.Contains(ds[0].Message, "unexpected character") || !strings.Contains(ds[0].Message, "3x3") {
		t.Fatalf("diagnostic %+v, want at %+v with the hint", ds[0], want)
	}
}

// Incremental changes: an edit that breaks the file, then one that mends it.
func TestDidChange(t *testing.T) {
	c := initialized(t)
	uri, text := zoo(t, "lenet5.cnn")
	if ds := c.open(uri, text); len(ds) != 0 {
		t.Fatalf("%d diagnostics", len(ds))
	}
	line, col := findText(t, text, "conv 6 5x5")
	edit := func(version int, r Range, s string) []Diagnostic {
		c.notify("textDocument/didChange", map[string]any{
			"textDocument":   map[string]any{"uri": uri, "version": version},
			"contentChanges": []contentChange{{Range: &r, Text: s}},
		})
		p := c.diagnostics()
		if *p.Version != version {
			t.Fatalf("diagnostics of version %d, want %d", *p.Version, version)
		}
		return p.Diagnostics
	}
	// "conv 6 5x5" -> "conv 6 5x5 g4": 1 input channel does not divide into 4 groups.
	r := Range{Start: Position{line, col + 10}, End: Position{line, col + 10}}
	ds := edit(2, r, " g4")
	if len(ds) != 1 || !strings.Contains(ds[0].Message, "groups") || ds[0].Range.Start != (Position{line, col}) {
		t.Fatalf("after the edit: %+v", ds)
	}
	if ds := edit(3, Range{Start: r.Start, End: Position{line, col + 13}}, ""); len(ds) != 0 {
		t.Fatalf("after undoing it: %+v", ds)
	}
	// A whole-text change replaces the document.
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": 4},
		"contentChanges": []contentChange{{Text: "input 8x8x1\nconv 4 9x9\n"}},
	})
	if ds := c.diagnostics().Diagnostics; len(ds) != 1 {
		t.Fatalf("after replacing the text: %+v", ds)
	}
	c.notify("textDocument/didClose", didCloseParams{TextDocument: textDocumentIdentifier{URI: uri}})
	if p := c.diagnostics(); p.URI != uri || len(p.Diagnostics) != 0 {
		t.Fatalf("after close: %+v", p)
	}
}

func findText(t testing.TB, text, s string) (line, col int) {
	t.Helper()
	i := strings.Index(text, s)
	if i < 0 {
		t.Fatalf("%q not found", s)
	}
	p := newText(text).position(i)
	return p.Line, p.Character
}

func TestHover(t *testing.T) {
	c := initialized(t)
	uri, text := zoo(t, "alexnet.cnn")
	c.open(uri, text)
	var h Hover
	if err := c.call("textDocument/hover", at(uri, 6, 3), &h); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**conv 96 11x11 s4** (conv)", "| conv1 | 227x227x3 | 55x55x96 | 34,944 | 105,415,200 |"} {
		if !strings.Contains(h.Contents.Value, want) {
			t.Errorf("hover on conv1:\n%s\nwant %q", h.Contents.Value, want)
		}
	}
	if h.Range == nil || *h.Range != (Range{Start: Position{6, 0}, End: Position{6, 16}}) {
		t.Errorf("hover range %+v", h.Range)
	}
	// Between layers (on an arrow) there is nothing to say.
	var none *Hover
	if err := c.call("textDocument/hover", at(uri, 6, 18), &none); err != nil || none != nil {
		t.Errorf("hover on an arrow: %+v, %v", none, err)
	}

	// A layer in a block: a row for each of its eight instances.
	uri, text = zoo(t, "resnet18.cnn")
	c.open(uri, text)
	line, col := findText(t, text, "conv c 3x3 s(stride)")
	h = Hover{}
	if err := c.call("textDocument/hover", at(uri, line, col+2), &h); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| basic1.conv1 | 56x56x64 | 56x56x64 | 36,864 | 115,605,504 |", "| basic3.conv1 | 56x56x64 | 28x28x128 | 73,728 | 57,802,752 |", "basic8.conv1"} {
		if !strings.Contains(h.Contents.Value, want) {
			t.Errorf("hover in a block:\n%s\nwant %q", h.Contents.Value, want)
		}
	}
	// A block call: the instance's shapes and sums.
	line, col = findText(t, text, "basic(128, 2)")
	h = Hover{}
	if err := c.call("textDocument/hover", at(uri, line, col+1), &h); err != nil {
		t.Fatal(err)
	}
	if want := "| basic3 | 56x56x64 | 28x28x128 | 230,144 |"; !strings.Contains(h.Contents.Value, want) {
		t.Errorf("hover on a call:\n%s\nwant %q", h.Contents.Value, want)
	}
	// A block's name where it is defined: every instance of its calls.
	line, col = findText(t, text, "basic(c, stride)")
	h = Hover{}
	if err := c.call("textDocument/hover", at(uri, line, col+1), &h); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.Contents.Value, "| basic1 | 56x56x64 | 56x56x64 |") || !strings.Contains(h.Contents.Value, "| basic8 | 7x7x512 | 7x7x512 |") {
		t.Errorf("hover on a block definition:\n%s", h.Contents.Value)
	}
}

func TestInlayHints(t *testing.T) {
	c := initialized(t)
	hints := func(uri string) map[int]InlayHint {
		var hs []InlayHint
		if err := c.call("textDocument/inlayHint", rangeParams{TextDocument: textDocumentIdentifier{URI: uri}, Range: Range{End: Position{Line: 1000}}}, &hs); err != nil {
			t.Fatal(err)
		}
		m := map[int]InlayHint{}
		for _, h := range hs {
			m[h.Position.Line] = h
		}
		return m
	}
	uri, text := zoo(t, "alexnet.cnn")
	c.open(uri, text)
	hs := hints(uri)
	for line, want := range map[int]string{4: "→ 227x227x3", 6: "→ 27x27x96", 7: "→ 13x13x256", 10: "→ 6x6x256", 13: "→ 1x1x1000"} {
		if hs[line].Label != want {
			t.Errorf("alexnet line %d: hint %q, want %q", line+1, hs[line].Label, want)
		}
	}
	if _, ok := hs[16]; ok || len(hs) != 9 {
		t.Errorf("alexnet: %d hints, want one for each of the 9 lines with layers: %+v", len(hs), hs)
	}
	// In a block: each call's shape; at the call: the call's output.
	uri, text = zoo(t, "resnet18.cnn")
	c.open(uri, text)
	hs = hints(uri)
	if got, want := hs[12].Label, "→ 56x56x64 | 28x28x128 | 14x14x256 | 7x7x512"; got != want {
		t.Errorf("resnet18 line 13 (-> relu in the block): %q, want %q", got, want)
	}
	if got, want := hs[18].Label, "→ 28x28x128"; got != want {
		t.Errorf("resnet18 line 19 (basic(128, 2)): %q, want %q", got, want)
	}
	// The hint stands at the end of the line, counted in UTF-16 units
	// after a comment with an umlaut (1 unit) and an emoji (2 units).
	c.open("file:///w/u.cnn", "input 28x28x1\nconv 8 3x3 # Größe 😀 \n-> relu\n")
	hs = hints("file:///w/u.cnn")
	if h := hs[1]; h.Label != "→ 26x26x8" || h.Position.Character != 19+2 /* "conv 8 3x3 # Größe " is 19 units, 😀 2 */ {
		t.Errorf("hint after a non-ASCII comment: %+v", h)
	}
}

func TestDefinitionReferences(t *testing.T) {
	c := initialized(t)
	uri, text := zoo(t, "googlenet.cnn")
	c.open(uri, text)
	defLine, defCol := findText(t, text, "inception(c1")
	line, col := findText(t, text, "inception(64, 96")
	var locs []Location
	if err := c.call("textDocument/definition", at(uri, line, col+3), &locs); err != nil {
		t.Fatal(err)
	}
	want := Range{Start: Position{defLine, defCol}, End: Position{defLine, defCol + len("inception")}}
	if len(locs) != 1 || locs[0].Range != want || locs[0].URI != uri {
		t.Fatalf("definition of inception: %+v, want %+v", locs, want)
	}
	refs := func(line, col int, decl bool) []Location {
		var locs []Location
		p := referenceParams{positionParams: at(uri, line, col)}
		p.Context.IncludeDeclaration = decl
		if err := c.call("textDocument/references", p, &locs); err != nil {
			t.Fatal(err)
		}
		return locs
	}
	if n := len(refs(line, col, false)); n != strings.Count(text, "inception(")-1 {
		t.Errorf("references of inception: %d, want 9 calls", n)
	}
	if n := len(refs(defLine, defCol, true)); n != strings.Count(text, "inception(") {
		t.Errorf("references of inception with its declaration: %d", n)
	}
	// A parameter: from its use to its declaration, and back.
	useLine, useCol := findText(t, text, "conv c5 5x5")
	locs = nil
	if err := c.call("textDocument/definition", at(uri, useLine, useCol+5), &locs); err != nil {
		t.Fatal(err)
	}
	pLine, pCol := findText(t, text, "c5, pp)")
	if len(locs) != 1 || locs[0].Range.Start != (Position{pLine, pCol}) || locs[0].Range.End != (Position{pLine, pCol + 2}) {
		t.Errorf("definition of c5: %+v, want %d:%d", locs, pLine, pCol)
	}
	rs := refs(pLine, pCol, false)
	if len(rs) != 1 || rs[0].Range.Start != (Position{useLine, useCol + 5}) {
		t.Errorf("references of c5: %+v", rs)
	}
	// A layer word is no symbol.
	locs = nil
	if err := c.call("textDocument/definition", at(uri, useLine, useCol+1), &locs); err != nil || locs != nil {
		t.Errorf("definition of conv: %+v %v", locs, err)
	}
}

func TestFormatting(t *testing.T) {
	c := initialized(t)
	uri, text := zoo(t, "vgg16.cnn")
	c.open(uri, text)
	var edits []TextEdit
	p := formattingParams{TextDocument: textDocumentIdentifier{URI: uri}}
	if err := c.call("textDocument/formatting", p, &edits); err != nil || edits == nil || len(edits) != 0 {
		t.Fatalf("formatting a canonical file: %+v %v", edits, err)
	}
	messy := "network  Tiny   # ümlaut\ninput 28x28x1\nconv 8 3x3   p1->relu ->  maxpool 2\n-> fc 10->softmax\n"
	uri = "file:///w/messy.cnn"
	c.open(uri, messy)
	p.TextDocument.URI = uri
	if err := c.call("textDocument/formatting", p, &edits); err != nil {
		t.Fatal(err)
	}
	f, errs := dsl.Parse("messy.cnn", []byte(messy))
	if errs != nil {
		t.Fatal(errs)
	}
	want := string(grammar.Format(f))
	if len(edits) != 1 || edits[0].NewText != want || edits[0].Range != (Range{End: Position{Line: 4}}) || want == messy {
		t.Fatalf("formatting: %+v, want the whole text replaced by\n%s", edits, want)
	}
	c.open("file:///w/bad.cnn", "input 28x28x1\nconv 8 3x3 -> -> relu\n")
	p.TextDocument.URI = "file:///w/bad.cnn"
	if err := c.call("textDocument/formatting", p, &edits); err == nil || !strings.Contains(err.Message, "2:15") {
		t.Fatalf("formatting a file with a syntax error: %v", err)
	}
}

func TestCompletion(t *testing.T) {
	c := initialized(t)
	uri, text := "file:///w/c.cnn", "block unit(c) {\n  conv c 3x3 -> relu\n}\ninput 28x28x1\nconv 8 3x3 \n-> \n-> b1: maxpool 2 \ntrain {\n  sgd \n  \n}\n"
	c.open(uri, text)
	labels := func(line, char int) map[string]bool {
		var l CompletionList
		if err := c.call("textDocument/completion", at(uri, line, char), &l); err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, it := range l.Items {
			m[it.Label] = true
		}
		return m
	}
	// After an arrow: every layer word of the op table, keywords, blocks.
	got := labels(5, 3)
	for _, w := range append(op.Words(), "residual", "concat", "unit") {
		if !got[w] {
			t.Errorf("completion after ->: no %q", w)
		}
	}
	// After a layer word: its flags and options, from its usage.
	got = labels(4, 11)
	for _, w := range []string{"s", "p", "g", "d", "nobias", "same"} {
		if !got[w] {
			t.Errorf("completion after conv: no %q in %v", w, got)
		}
	}
	if got["relu"] {
		t.Errorf("completion after conv offers layer words")
	}
	if got = labels(6, 18); !got["ceil"] || got["nobias"] {
		t.Errorf("completion after a labelled maxpool: %v", got)
	}
	// In train: the setting keys, then a setting's options.
	if got = labels(9, 2); !got["batch"] || !got["sgd"] || !got["augment"] || got["conv"] {
		t.Errorf("completion in train: %v", got)
	}
	if got = labels(8, 6); !got["lr"] || !got["momentum"] || !got["nesterov"] {
		t.Errorf("completion after sgd: %v", got)
	}
	// In a zoo file, after a grouped conv and in its train section.
	uri, text = zoo(t, "alexnet.cnn")
	c.open(uri, text)
	line, col := findText(t, text, "conv 384 3x3 p1 g2")
	if got = labels(line, col+len("conv 384 3x3 p1 ")); !got["g"] || !got["nobias"] || got["conv"] {
		t.Errorf("completion in alexnet after conv: %v", got)
	}
	line, col = findText(t, text, "augment crop")
	if got = labels(line, col+len("augment ")); !got["crop"] || !got["mirror"] || got["lr"] {
		t.Errorf("completion in alexnet after augment: %v", got)
	}
}

// In a broken file, the layers before the errors still have their shapes,
// and a word that is no layer has no hover.
func TestHoverBroken(t *testing.T) {
	c := initialized(t)
	src, err := os.ReadFile("testdata/broken.cnn")
	if err != nil {
		t.Fatal(err)
	}
	uri := "file:///w/broken.cnn"
	c.open(uri, string(src))
	line, col := findText(t, string(src), "conv 16 3x3 p1")
	var h Hover
	if err := c.call("textDocument/hover", at(uri, line, col), &h); err != nil {
		t.Fatal(err)
	}
	if want := "| conv1 | 32x32x3 | 32x32x16 | 448 | 442,368 |"; !strings.Contains(h.Contents.Value, want) {
		t.Errorf("hover in a broken file:\n%s\nwant %q", h.Contents.Value, want)
	}
	line, col = findText(t, string(src), "pool 2")
	var none *Hover
	if err := c.call("textDocument/hover", at(uri, line, col), &none); err != nil || none != nil {
		t.Errorf("hover on an unknown word: %+v %v", none, err)
	}
	// Go to definition still works from a call in a broken file.
	line, col = findText(t, string(src), "unit(8)")
	var locs []Location
	if err := c.call("textDocument/definition", at(uri, line, col), &locs); err != nil || len(locs) != 1 || locs[0].Range.Start.Line != 5 {
		t.Errorf("definition of unit: %+v %v", locs, err)
	}
}

// Options come from the op table's usages; the names of optional
// positional arguments are not options.
func TestOptions(t *testing.T) {
	for word, want := range map[string]string{
		"conv": "s p same g d nobias", "maxpool": "s p ceil", "bn": "eps momentum", "gelu": "tanh",
		"lrn": "", "leakyrelu": "", "relu": "", "gap": "",
	} {
		if got := strings.Join(LayerOptions(op.Lookup(word)), " "); got != want {
			t.Errorf("options of %s: %q, want %q", word, got, want)
		}
	}
	usage := dsl.SettingUsage()
	if got, want := strings.Join(Options(usage["augment"], nil), " "), "none crop pad translate mirror"; got != want {
		t.Errorf("options of augment: %q, want %q", got, want)
	}
}

// Parameters used in products and flag values are references too.
func TestReferencesInExpressions(t *testing.T) {
	c := initialized(t)
	uri, text := zoo(t, "resnet50.cnn")
	c.open(uri, text)
	line, col := findText(t, text, "c, stride)")
	refs := func(line, col int) []string {
		var locs []Location
		p := referenceParams{positionParams: at(uri, line, col)}
		if err := c.call("textDocument/references", p, &locs); err != nil {
			t.Fatal(err)
		}
		tx := newText(text)
		var out []string
		for _, l := range locs {
			s, e := tx.offset(l.Range.Start), tx.offset(l.Range.End)
			// The reference with the rest of its line, to see where it is.
			out = append(out, text[s:e]+text[e:strings.IndexByte(text[e:], '\n')+e])
		}
		return out
	}
	got := refs(line, col)
	want := []string{"c 1x1 nobias -> bn -> relu", "c 3x3 s(stride) p1 nobias -> bn -> relu", "c*4 1x1 nobias -> bn"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("references of c:\n%q\nwant\n%q", got, want)
	}
	if got := refs(line, col+3); len(got) != 1 || !strings.HasPrefix(got[0], "stride) p1") {
		t.Errorf("references of stride: %q", got)
	}
}

// A header that cannot be read loses the message boundaries: the server
// says so and ends, without a panic. A body that is not JSON (above, in
// TestLifecycle) only costs its own answer.
func TestBadFrame(t *testing.T) {
	for _, frame := range []string{"Content-Length: abc\r\n\r\n{}", "Content-Type: text\r\n\r\n{}", "Content-Length: 99999999999\r\n\r\n", strings.Repeat("x", 2000)} {
		c := initialized(t)
		c.w.Write([]byte(frame))
		select {
		case r := <-c.done:
			if r.err == nil || !strings.Contains(r.err.Error(), "bad message header") || r.code != 1 {
				t.Errorf("%.30q: code %d, %v", frame, r.code, r.err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%.30q: the server did not end", frame)
		}
	}
}

// Hover and definition answer at every position of every zoo network: a
// hover is a table with a row per instance, and every layer written in a
// file has a hover.
func TestEveryPosition(t *testing.T) {
	paths, _ := filepath.Glob("../networks/*.cnn")
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		a := analyse(filepath.Base(p), string(src))
		if len(a.errs) != 0 || a.model == nil {
			t.Fatalf("%s: %v", p, a.errs)
		}
		hovered := map[*dsl.Node]bool{}
		for off := 0; off <= len(src); off++ {
			tg := a.targetAt(off)
			if tg == nil {
				continue
			}
			md := a.callHover(tg)
			if tg.call == "" {
				md = a.layerHover(tg)
				for _, n := range tg.nodes {
					hovered[n] = true
				}
			}
			if !strings.Contains(md, "| --- |") {
				t.Fatalf("%s at %+v: hover without a table:\n%s", p, a.text.position(off), md)
			}
			a.syms.at(off)
		}
		for _, n := range a.net.Nodes {
			if !hovered[n] {
				t.Errorf("%s: no hover for %s (%s at %d:%d)", p, n.Name, n.Text, n.Pos.Line, n.Pos.Column)
			}
		}
	}
}

func TestDocumentSymbols(t *testing.T) {
	c := initialized(t)
	uri, text := zoo(t, "googlenet.cnn")
	c.open(uri, text)
	var syms []DocumentSymbol
	if err := c.call("textDocument/documentSymbol", formattingParams{TextDocument: textDocumentIdentifier{URI: uri}}, &syms); err != nil {
		t.Fatal(err)
	}
	got := map[string]DocumentSymbol{}
	for _, s := range syms {
		got[s.Name] = s
	}
	if len(syms) != 1+2+9+1 {
		t.Errorf("%d symbols, want the network, 2 blocks, 9 labelled calls and train: %+v", len(syms), syms)
	}
	if s := got["GoogLeNet"]; s.Kind != symbolModule || s.Detail != "224x224x3 → 1x1x1000" || s.SelectionRange.Start != (Position{3, 8}) {
		t.Errorf("network: %+v", s)
	}
	defLine, defCol := findText(t, text, "inception(c1")
	endLine, _ := findText(t, text, "}\n\n# The auxiliary")
	if s := got["inception"]; s.Kind != symbolFunction || s.Detail != "(c1, r3, c3, r5, c5, pp)" ||
		s.SelectionRange.Start != (Position{defLine, defCol}) || s.Range.End != (Position{endLine, 1}) {
		t.Errorf("block inception: %+v, want it to end at %d:1", s, endLine)
	}
	if s := got["inception4e"]; s.Kind != symbolVariable || s.Detail != "14x14x832" {
		t.Errorf("inception4e: %+v", s)
	}
	if s := got["train"]; s.Kind != symbolNamespace || s.Range.End.Line != strings.Count(text, "\n")-1 {
		t.Errorf("train: %+v", s)
	}
	// A file that does not parse has no outline, and no error.
	c.open("file:///w/bad.cnn", "input 8x8x1\nconv 8 3x3 -> -> relu\n")
	syms = nil
	if err := c.call("textDocument/documentSymbol", formattingParams{TextDocument: textDocumentIdentifier{URI: "file:///w/bad.cnn"}}, &syms); err != nil || len(syms) != 0 {
		t.Errorf("outline of a broken file: %+v %v", syms, err)
	}
}
