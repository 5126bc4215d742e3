package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read: it must return an error or an
// array whose data matches its shape and survives a write/read round trip.
// Seeds: the files of testdata (numpy's). Run longer with
//
//	go test -run '^$' -fuzz FuzzRead -fuzztime 60s ./runtime/npy
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.npy")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if n != len(a.Data) || 4*n > len(b) {
			t.Fatalf("shape %v, %d values, from %d bytes", a.Shape, len(a.Data), len(b))
		}
		var w bytes.Buffer
		if err := Write(&w, a); err != nil {
			t.Fatal(err)
		}
		c, err := Read(bytes.NewReader(w.Bytes()), int64(w.Len()))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.Shape, a.Shape) || len(c.Data) != len(a.Data) {
			t.Fatalf("round trip: %v, want %v", c.Shape, a.Shape)
		}
		for i := range c.Data {
			if c.Data[i] != a.Data[i] && (c.Data[i] == c.Data[i] || a.Data[i] == a.Data[i]) {
				t.Fatalf("round trip: value %d is %v, want %v", i, c.Data[i], a.Data[i])
			}
		}
	})
}
