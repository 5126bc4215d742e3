package netgen_test

import (
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/grammar"
	"github.com/cnnc-dev/cnnc/internal/netgen"
)

// stream is a random source that plays the fuzzer's bytes first, one byte a
// draw (a byte b gives IntN(n) about b*n/256), then a generator seeded from
// them: a mutated byte changes one decision of the program.
type stream struct {
	data []byte
	rest *rand.PCG
}

func (s *stream) Uint64() uint64 {
	if len(s.data) > 0 {
		b := uint64(s.data[0])
		s.data = s.data[1:]
		return b * 0x0101010101010101
	}
	return s.rest.Uint64()
}

// fromBytes turns fuzz input into a generator and a configuration: the
// first two bytes choose the bounds, the rest are the first decisions.
func fromBytes(data []byte) (*rand.Rand, netgen.Config) {
	h := fnv.New64a()
	h.Write(data)
	var c [2]byte
	copy(c[:], data)
	data = data[min(2, len(data)):]
	cfg := netgen.Config{
		MaxLayers:     20 + int(c[0]%5)*10,
		MaxSize:       6 + int(c[0]/5%11),
		MaxChannels:   4 + int(c[1]%13),
		MaxElems:      3 + int(c[1]/13%6),
		Deterministic: c[1] >= 192,
	}
	return rand.New(&stream{data: data, rest: rand.NewPCG(h.Sum64(), uint64(len(data)))}), cfg
}

// FuzzGenerated compiles programs that netgen builds valid by construction
// from the fuzzer's bytes: each must compile without errors, its format must
// be a fixed point that compiles to the same counts, and its Go package must
// render. The bytes only seed the generator, so the fuzzer searches the
// space of valid programs rather than of byte strings.
func FuzzGenerated(f *testing.F) {
	for i := range 16 {
		f.Add([]byte{byte(i * 37), byte(i * 101)})
	}
	f.Add([]byte("decisions: each byte is one of the generator's choices"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, cfg := fromBytes(data)
		src := netgen.Generate(r, cfg)
		m := check(t, src)
		var b strings.Builder
		if err := m.WriteTable(&b); err != nil {
			t.Fatal(err)
		}
		file, err := grammar.Parse("gen.cnn", src)
		if err != nil {
			t.Fatal(err)
		}
		formatted := grammar.Format(file)
		m2, errs := compiler.CompileSource("gen.cnn", formatted)
		if len(errs) > 0 {
			t.Fatalf("the formatted program does not compile:\n%s\n--- errors\n%s", formatted, errs.Render(formatted))
		}
		if m2.Params != m.Params || m2.MACs != m.MACs || m2.Activations != m.Activations || len(m2.Layers) != len(m.Layers) {
			t.Fatalf("formatting changed the counts: %d %d %d %d, then %d %d %d %d\n%s",
				m.Params, m.MACs, m.Activations, len(m.Layers), m2.Params, m2.MACs, m2.Activations, len(m2.Layers), src)
		}
		if _, err := compiler.Generate(m, "gen", "gen.cnn"); err != nil {
			t.Fatalf("gen: %v\n%s", err, src)
		}
	})
}
