package safetensors

import (
	"math"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the reader: it must return an error or a
// file whose every tensor converts and survives a write/read round trip.
// Seeds: testdata/fuzz/FuzzLoad. Run longer with
//
//	go test -run '^$' -fuzz FuzzLoad -fuzztime 60s ./runtime/safetensors
func FuzzLoad(f *testing.F) {
	good, _ := Marshal(recipe(), recipeMeta)
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		var ts []Tensor
		for _, name := range file.Names() {
			x, err := file.Get(name)
			if err != nil {
				if x.Dtype.convertible() {
					t.Fatalf("%s: Get failed on a convertible dtype: %v", name, err)
				}
				continue
			}
			x.Dtype = F32
			ts = append(ts, x)
		}
		if len(ts) != len(file.Names()) {
			return
		}
		want := make([]Tensor, len(ts))
		for i, x := range ts {
			want[i] = Tensor{Name: x.Name, Shape: x.Shape, Data: make([]float32, len(x.Data))}
		}
		if err := file.Fill(want); err != nil {
			t.Fatalf("Fill with the file's own names and shapes: %v", err)
		}
		out, err := Marshal(ts, file.Meta)
		if err != nil {
			t.Fatalf("Marshal of parsed tensors: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse of re-encoded file: %v", err)
		}
		for i, x := range ts {
			y, err := back.Get(x.Name)
			if err != nil {
				t.Fatal(err)
			}
			for j := range x.Data {
				if math.Float32bits(x.Data[j]) != math.Float32bits(y.Data[j]) || x.Data[j] != want[i].Data[j] && x.Data[j] == x.Data[j] {
					t.Fatalf("%s[%d]: %g after round trip, %g from Fill, want %g", x.Name, j, y.Data[j], want[i].Data[j], x.Data[j])
				}
			}
		}
	})
}
