package grammar

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

func TestFormatNetworks(t *testing.T) {
	files, _ := filepath.Glob("../networks/*.cnn")
	if len(files) < 13 {
		t.Fatalf("found %d networks", len(files))
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(path, src)
		if err != nil {
			t.Fatal(err)
		}
		if got := Format(f); string(got) != string(src) {
			t.Errorf("%s is not formatted (cnnc fmt -w %s):\n%s", path, path, got)
		}
		if err := CheckFormat(path, src); err != nil {
			t.Error(err)
		}
	}
}

func TestFormatCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"input   28x28x1\nconv 6  5x5 p2->relu\n", "input 28x28x1\nconv 6 5x5 p2 -> relu\n"},
		{"\n\n# head\n\n\n\nnetwork N\n", "# head\n\nnetwork N\n"},
		{"conv 6 5x5 ->\n  relu   # r\n", "conv 6 5x5\n-> relu # r\n"},
		{"block b(c,d){conv c*2 3x3 s(d)}\n", "block b(c, d) {\n  conv c*2 3x3 s(d)\n}\n"},
		{"concat{conv 1 1x1|conv 2 1x1}x2\n", "concat { conv 1 1x1 | conv 2 1x1 } x2\n"},
		{"train{\nbatch 8\n\n\nsgd lr 0.1\n}\n", "train {\n  batch 8\n\n  sgd lr 0.1\n}\n"},
		{"residual{conv 4 3x3 p1}shortcut{conv 4 1x1}\n", "residual { conv 4 3x3 p1 } shortcut { conv 4 1x1 }\n"},
		{"aux weight 0.3{fc 10}\n", "aux weight 0.3 { fc 10 }\n"},
		{"conv (c+1) 3x3 x(n-1)\n", "conv (c+1) 3x3 x(n-1)\n"},
		{"(conv 64 3x3 p1->relu)x3\n", "(conv 64 3x3 p1 -> relu) x3\n"},
		{"(\nconv 64 3x3 p1\n->relu\n)x3\n", "(\n  conv 64 3x3 p1\n  -> relu\n) x3\n"},
		{"if s==1 and not in.c>=c or (a<b){relu}\n", "if s == 1 and not in.c >= c or (a < b) { relu }\n"},
		{"residual if s==1{conv 4 3x3 p1}\n", "residual if s == 1 { conv 4 3x3 p1 }\n"},
		{"split{identity|relu}\n", "split { identity | relu }\n"},
		{"scale{gap->conv (in.c/4) 1x1->relu}\n", "scale { gap -> conv (in.c/4) 1x1 -> relu }\n"},
		{"block b(c,t){conv (in.c*t) 1x1}\n", "block b(c, t) {\n  conv (in.c*t) 1x1\n}\n"},
	} {
		f, err := Parse("t.cnn", []byte(tc.in))
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := string(Format(f)); got != tc.want {
			t.Errorf("Format(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
		}
		if err := CheckFormat("t.cnn", []byte(tc.in)); err != nil {
			t.Error(err)
		}
	}
}

var updateDoc = flag.Bool("update-doc", false, "rewrite the grammar section of docs/language.md")
