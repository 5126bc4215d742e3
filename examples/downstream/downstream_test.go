package downstream

import (
	"path/filepath"
	"testing"

	"example.com/downstream/digits"
)

// bars draws class c of a toy problem: a bright horizontal or vertical bar
// in the top or bottom half.
func bars(c, shift int) []float32 {
	x := make([]float32, digits.InputSize)
	for i := 0; i < 12; i++ {
		switch c {
		case 0:
			x[(2+shift)*12+i] = 1
		case 1:
			x[(8+shift)*12+i] = 1
		case 2:
			x[i*12+2+shift] = 1
		case 3:
			x[i*12+8+shift] = 1
		}
	}
	return x
}

func TestTrainSaveLoad(t *testing.T) {
	net := digits.New(16, 1)
	var x []float32
	var labels []int32
	for i := 0; i < 16; i++ {
		c := i % 4
		x = append(x, bars(c, i/4%2)...)
		labels = append(labels, int32(c))
	}
	first, err := net.TrainStep(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	var last float32
	for i := 0; i < 60; i++ {
		if last, err = net.TrainStep(x, labels); err != nil {
			t.Fatal(err)
		}
	}
	if !(last < first/4) {
		t.Errorf("loss went from %v to %v in 60 steps", first, last)
	}
	pred, err := net.Predict(x, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pred {
		if p != labels[i] {
			t.Errorf("image %d: class %d, want %d", i, p, labels[i])
		}
	}
	path := filepath.Join(t.TempDir(), "digits.safetensors")
	if err := net.Save(path); err != nil {
		t.Fatal(err)
	}
	other := digits.New(1, 2)
	if err := other.Load(path); err != nil {
		t.Fatal(err)
	}
	got, err := other.Predict(bars(3, 0), nil)
	if err != nil || got[0] != 3 {
		t.Errorf("loaded network: class %v (%v), want 3", got, err)
	}
}
