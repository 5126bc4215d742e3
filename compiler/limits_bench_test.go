package compiler

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/dsl"
)

// chainSource is a network of n layers written out, one a line, alternating
// conv and relu.
func chainSource(n int) []byte {
	var b strings.Builder
	b.WriteString("input 32x32x8\nconv 8 3x3 p1\n")
	for i := 1; i < n; i++ {
		if i%2 == 1 {
			b.WriteString("-> relu\n")
		} else {
			b.WriteString("-> conv 8 3x3 p1\n")
		}
	}
	return []byte(b.String())
}

// BenchmarkParseCheck measures CompileSource (parse, resolve, check) per
// layer of the checked model: ns/layer and B/layer (bytes allocated).
// BenchmarkParse measures the parse alone (dsl.Parse), per layer of the
// same model.
//
//	go test ./compiler -run '^$' -bench Parse
func BenchmarkParseCheck(b *testing.B) { benchPerLayer(b, false) }

func BenchmarkParse(b *testing.B) { benchPerLayer(b, true) }

func benchPerLayer(b *testing.B, parseOnly bool) {
	resnet, err := os.ReadFile("../networks/resnet152.cnn")
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		src  []byte
	}{
		{"chain1k", chainSource(1000)},
		{"chain10k", chainSource(10000)},
		{"resnet152", resnet},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m, errs := CompileSource(tc.name+".cnn", tc.src)
			if errs != nil {
				b.Fatal(errs.Render(tc.src))
			}
			layers := float64(len(m.Layers))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			n := 0
			for b.Loop() {
				if parseOnly {
					dsl.Parse(tc.name+".cnn", tc.src)
				} else {
					CompileSource(tc.name+".cnn", tc.src)
				}
				n++
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n)/layers, "ns/layer")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(n)/layers, "B/layer")
			b.ReportMetric(layers, "layers")
		})
	}
}
