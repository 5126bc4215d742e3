package netgen_test

import (
	"math/rand/v2"
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
