package netgen_test

import (
	"github.com/cnnc-dev/cnnc/op"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/grammar"
	"github.com/cnnc-dev/cnnc/internal/netgen"
)

// TestGenerateValid compiles a few hundred generated programs: each must
// compile without errors, and its format must be a fixed point.
func TestGenerateValid(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := range n {
		cfg := netgen.Config{Deterministic: i%3 == 0}
		src := netgen.Generate(rand.New(rand.NewPCG(uint64(i), 1)), cfg)
		check(t, src)
	}
}

// check compiles src and checks its format, failing with the source.
func check(t *testing.T, src []byte) *compiler.Model {
	t.Helper()
	m, errs := compiler.CompileSource("gen.cnn", src)
	if len(errs) > 0 {
		t.Fatalf("a generated program does not compile:\n%s\n--- errors\n%s", src, errs.Render(src))
	}
	if err := grammar.CheckFormat("gen.cnn", src); err != nil {
		t.Fatal(err)
	}
	if m.Params < 0 || m.MACs < 0 || m.Activations < 0 {
		t.Fatalf("negative counts %d %d %d:\n%s", m.Params, m.MACs, m.Activations, src)
	}
	return m
}

var comments = regexp.MustCompile(`#[^\n]*`)

var groupStart = regexp.MustCompile(`(^|\n|->|\{|\||:)[ \t\n]*\(`)

// TestCoverage checks that the generator reaches every construct, counting
// the programs (of 300) that use each.
func TestCoverage(t *testing.T) {
	constructs := []struct{ name, text string }{
		{"block definition", "block "}, {"parameter arithmetic", "*"}, {"sum in parentheses", "+"},
		{"flag with an expression", "s("}, {"repetition", " x"}, {"repetition by expression", "x("},
		{"label", "lab"}, {"concat", "concat"}, {"residual", "residual"}, {"written shortcut", "shortcut"},
		{"aux head", "aux"}, {"aux weight", "weight"}, {"train section", "train"}, {"comment", "#"},
		{"softmax", "softmax"}, {"p same", "same"}, {"ceil", "ceil"}, {"dilation", "d2"}, {"nobias", "nobias"},
		{"non-square flag", "x0"}, {"lrn", "lrn"}, {"leakyrelu", "leakyrelu"}, {"avgpool", "avgpool"},
		{"maxpool", "maxpool"}, {"gap", "gap"}, {"dropout", "dropout"}, {"bn", "bn"}, {"network line", "network"},
		{"identity", "identity"}, {"split", "split"}, {"scale", "scale"}, {"if", "if "}, {"residual if", "residual if"},
		{"in.c, in.h or in.w", "in."}, {"condition with and", " and "}, {"condition with or", " or "}, {"not", "not "},
		{"group", "("},
	}
	counts := make([]int, len(constructs))
	implied, impliedBN, layers, params := 0, 0, 0, int64(0)
	const n = 300
	for i := range n {
		src := netgen.Generate(rand.New(rand.NewPCG(uint64(i), 2)), netgen.Config{})
		m := check(t, src)
		code := comments.ReplaceAllString(string(src), "")
		for j, c := range constructs {
			text := code
			if c.name == "comment" {
				text = string(src)
			}
			if c.name == "group" { // a ( that starts an element
				text = groupStart.FindString(code)
			}
			if strings.Contains(text, c.text) {
				counts[j]++
			}
		}
		layers += len(m.Layers)
		params += m.Params
		seen, seenBN := false, false
		for _, l := range m.Layers {
			if l.Implied {
				seen = true
				_, bn := l.Node.Op.(*op.BN)
				seenBN = seenBN || bn
			}
		}
		if seen {
			implied++
		}
		if seenBN {
			impliedBN++
		}
	}
	for j, c := range constructs {
		t.Logf("%-26s %3d of %d programs", c.name, counts[j], n)
		if counts[j] == 0 {
			t.Errorf("no program has a %s", c.name)
		}
	}
	t.Logf("%-26s %3d of %d programs (%d with bn)", "implied projection", implied, n, impliedBN)
	t.Logf("%.1f layers and %d parameters a program on average", float64(layers)/n, params/n)
	if implied == 0 || impliedBN == 0 {
		t.Error("no implied projection, with and without bn")
	}
}
