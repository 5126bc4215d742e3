package grammar

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// corpus is every .cnn file of the repository.
func corpus(t testing.TB) map[string][]byte {
	files := map[string][]byte{}
	for _, pattern := range []string{"../networks/*.cnn", "../testdata/nets/*.cnn", "../testdata/lang/*.cnn", "../cmd/cnnc/testdata/errors/*.cnn", "../examples/*/*.cnn", "../bench/nets/*.cnn"} {
		paths, _ := filepath.Glob(pattern)
		for _, path := range paths {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files[path] = src
		}
	}
	if len(files) < 40 {
		t.Fatalf("only %d .cnn files", len(files))
	}
	return files
}

// sameParse checks that the fast parser builds participle's AST, and that
// it gives up whenever participle fails.
func sameParse(t *testing.T, name string, src []byte) {
	t.Helper()
	want, err := Parser.ParseBytes(name, src)
	got, ok, _, _, _ := fastParse(name, src, Limits{})
	switch {
	case ok && err != nil:
		t.Fatalf("%s: the fast parser accepts what participle rejects: %v\n%q", name, err, src)
	case ok && !reflect.DeepEqual(got, want):
		t.Fatalf("%s: the ASTs differ\n%q\n--- fast\n%s\n--- participle\n%s", name, src, dump(got), dump(want))
	}
}

func dump(f *File) string {
	b, _ := json.MarshalIndent(f, "", " ")
	return string(b)
}

func TestFastParse(t *testing.T) {
	n := 0
	for name, src := range corpus(t) {
		sameParse(t, name, src)
		if _, ok, _, _, _ := fastParse(name, src, Limits{}); ok {
			n++
		}
	}
	if n < 30 {
		t.Errorf("the fast parser parses only %d files of the corpus", n)
	}
}

func FuzzFastParse(f *testing.F) {
	for _, src := range corpus(f) {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		sameParse(t, "fuzz.cnn", src)
	})
}

func TestFastParseCases(t *testing.T) {
	for _, src := range []string{"", "\n", "# c", "# c\n\n", "  ", "input 8x8x3", "input 8x8x3\nrelu # c", "relu -> . 3", "relu\n-> relu x3 -> conv c 3x3 x(n)\n",
		"(conv 64 3x3 p1 -> relu) x3", "(relu)", "(\nrelu\n-> relu\n) x2", "lbl: (relu -> relu) x(n)", "() x3", "(relu -> ) x3",
		"if s == 1 and in.c == c { relu }", "if not (a < 2 or b >= 3) { relu -> relu }", "if s { relu }", "if { relu }", "if",
		"residual if s == 1 { relu }", "residual if (s != 1) { relu } shortcut { relu }", "residual if { relu }",
		"split { identity | relu }", "split {\nidentity\n| relu\n}", "split { relu }", "scale { gap -> conv (in.c/4) 1x1 -> relu }",
		"conv (in.c * t) 1x1 nobias", "conv in.c 1x1", "conv (a == b) 3x3", "x3.c", "a.b: relu", "relu in.c.d", "if a = b { relu }",
		"if a => b { relu }", "conv (a <= -b) 3x3 -> if a>b{relu}", "block b(c) { if in.h > 1 { maxpool 2 } }"} {
		sameParse(t, "case.cnn", []byte(src))
	}
}
