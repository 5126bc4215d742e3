package main

import (
	"slices"
	"testing"

	rt "github.com/cnnc-dev/cnnc/runtime"
)

func TestReplay(t *testing.T) {
	r := rt.NewRNG(7)
	before, _ := r.MarshalBinary()
	var want []uint64
	for range 1000 {
		want = append(want, r.Uint64())
	}
	after, _ := r.MarshalBinary()
	got, err := replay(before, after, 1000)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("replay: %d values, err %v; want the 1000 drawn", len(got), err)
	}
	if got, err := replay(before, before, 10); err != nil || len(got) != 0 {
		t.Fatalf("replay of no draw: %d values, err %v", len(got), err)
	}
	if _, err := replay(before, after, 999); err == nil {
		t.Fatal("replay found 1000 draws within a limit of 999")
	}
}
