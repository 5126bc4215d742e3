package safetensors

import (
	"io"
	"path/filepath"
	"testing"
)

// benchTensors is VGG-like: one big and a few small F32 tensors, 64 MiB.
func benchTensors() []Tensor {
	big := make([]float32, 16<<20)
	for i := range big {
		big[i] = float32(i%1000) * 0.001
	}
	return []Tensor{
		{Name: "fc6.weight", Shape: []int{4096, 4096}, Data: big},
		{Name: "fc6.bias", Shape: []int{4096}, Data: make([]float32, 4096)},
		{Name: "conv1.weight", Shape: []int{64, 3, 3, 3}, Data: make([]float32, 64*27)},
	}
}

func size(ts []Tensor) int64 {
	n := 0
	for _, t := range ts {
		n += 4 * len(t.Data)
	}
	return int64(n)
}

// BenchmarkEncode: go test -run '^$' -bench . ./runtime/safetensors
func BenchmarkEncode(b *testing.B) {
	ts := benchTensors()
	b.SetBytes(size(ts))
	for b.Loop() {
		if err := Encode(io.Discard, ts, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSave(b *testing.B) {
	ts := benchTensors()
	p := filepath.Join(b.TempDir(), "w.safetensors")
	b.SetBytes(size(ts))
	for b.Loop() {
		if err := Save(p, ts, map[string]string{"epoch": "1"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadInto(b *testing.B) {
	ts := benchTensors()
	p := filepath.Join(b.TempDir(), "w.safetensors")
	if err := Save(p, ts, nil); err != nil {
		b.Fatal(err)
	}
	want := make([]Tensor, len(ts))
	for i, t := range ts {
		want[i] = Tensor{Name: t.Name, Shape: t.Shape, Data: make([]float32, len(t.Data))}
	}
	b.SetBytes(size(ts))
	for b.Loop() {
		if err := LoadInto(p, want); err != nil {
			b.Fatal(err)
		}
	}
}
