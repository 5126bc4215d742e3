package playground

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/networks"
)

// TestCheckErrors: the page shows the errors of every golden case of
// `cnnc check` (cmd/cnnc/testdata/errors) as that command prints them.
func TestCheckErrors(t *testing.T) {
	files, err := filepath.Glob("../cmd/cnnc/testdata/errors/*.cnn")
	if err != nil || len(files) == 0 {
		t.Fatalf("no error cases: %v", err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(strings.TrimSuffix(f, ".cnn") + ".stderr")
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(f, "../cmd/cnnc/")
		r := Check(name, src, Options{})
		if r.Errors != string(want) {
			t.Errorf("%s: the page shows\n%s\ncnnc check prints\n%s", f, r.Errors, want)
		}
		if r.Rows != nil || len(r.Marks) == 0 {
			t.Errorf("%s: %d rows and %d marks, want none and some", f, len(r.Rows), len(r.Marks))
		}
		checkMarks(t, f, src, r.Marks)
	}
}

// TestCheckZoo: every zoo network's table has a row per layer and the
// totals of `cnnc summary`.
func TestCheckZoo(t *testing.T) {
	names, _ := fs.Glob(networks.Files, "*.cnn")
	if len(names) < 19 {
		t.Fatalf("networks.Files holds %d networks, want the zoo's 19", len(names))
	}
	for _, n := range names {
		src, _ := networks.Files.ReadFile(n)
		r := Check(n, src, Options{})
		if r.Errors != "" {
			t.Errorf("%s:\n%s", n, r.Errors)
			continue
		}
		m, _ := compiler.CompileSource(n, src)
		if len(r.Rows) != len(m.Layers)+1 {
			t.Errorf("%s: %d rows, want %d layers and the total", n, len(r.Rows), len(m.Layers))
		}
		total := r.Rows[len(r.Rows)-1]
		if total.Params != compiler.Comma(m.Params) || total.MACs != compiler.Comma(m.MACs) {
			t.Errorf("%s: total %s params %s MACs, want %s and %s", n, total.Params, total.MACs, compiler.Comma(m.Params), compiler.Comma(m.MACs))
		}
		if r.Rows[1].Line == 0 || r.Rows[0].Line == 0 {
			t.Errorf("%s: rows without their line: %+v %+v", n, r.Rows[0], r.Rows[1])
		}
	}
}

// TestMarks: a mark covers the span the carets of `cnnc check` cover, in
// the page's (UTF-16) indices, after text that is not ASCII and a BOM.
func TestMarks(t *testing.T) {
	src := "\ufeff# LeNet, café 𝔏\nnetwork N\ninput 28x28x1\nconv 6 5x5 g5 -> relu -> fc 10 -> softmax\n"
	r := Check("n.cnn", []byte(src), Options{})
	if len(r.Marks) != 1 {
		t.Fatalf("marks %+v, errors:\n%s", r.Marks, r.Errors)
	}
	u := utf16.Encode([]rune(src))
	if got := string(utf16.Decode(u[r.Marks[0].From:r.Marks[0].To])); got != "conv 6 5x5 g5" {
		t.Errorf("the mark covers %q, want %q; errors:\n%s", got, "conv 6 5x5 g5", r.Errors)
	}
	checkMarks(t, "n.cnn", []byte(src), r.Marks)
}

// checkMarks: every mark is a non-empty span of the text.
func checkMarks(t *testing.T, name string, src []byte, marks []Mark) {
	t.Helper()
	n := utf16Len(src)
	for _, m := range marks {
		if m.From < 0 || m.To <= m.From || m.To > n+1 || m.Msg == "" {
			t.Errorf("%s: mark %+v outside the text's %d units", name, m, n)
		}
	}
}

// FuzzCheck: any text gives errors or a table, never both, never a panic,
// and its marks lie in the text.
func FuzzCheck(f *testing.F) {
	names, _ := fs.Glob(networks.Files, "*.cnn")
	for _, n := range names[:4] {
		src, _ := networks.Files.ReadFile(n)
		f.Add(src)
	}
	f.Add([]byte("network N\ninput 8x8x3\nconv 4 3x3 g3\n"))
	f.Add([]byte("\ufeffnetwork N\ninput 8x8x\xff\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, src []byte) {
		r := Check("f.cnn", src, Options{})
		if (r.Errors == "") == (len(r.Rows) == 0) {
			t.Fatalf("errors %q and %d rows", r.Errors, len(r.Rows))
		}
		checkMarks(t, "f.cnn", src, r.Marks)
	})
}

// BenchmarkCheck checks the zoo's largest network, picture included: what
// the page does after a pause in typing (natively; TestBrowser -v logs the
// same in the browser).
func BenchmarkCheck(b *testing.B) {
	src, err := networks.Files.ReadFile("resnet152.cnn")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if r := Check("resnet152.cnn", src, Options{}); r.Errors != "" {
			b.Fatal(r.Errors)
		}
	}
}
