package train

import (
	"errors"

	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Spec is what a generated package says about itself: its Program (name,
// shapes, recipe) and its constructor. The main.go that `cnnc train` writes
// fills it:
//
//	train.Main(&train.Spec{Source: ..., Program: lenet5.Program(),
//		New: func(maxBatch int, seed uint64) *rt.Net { return lenet5.New(maxBatch, seed).Net }})
type Spec struct {
	Source     string // the .cnn text the package was generated from
	SourcePath string
	Overrides  string // the command-line changes compiled into the package (JSON), recorded in checkpoints
	// Program is the package's Program(): the network's name, input shape,
	// outputs and recipe (the batch, epochs, seed and augmentation that
	// Config does not override).
	Program rt.Program
	New     func(maxBatch int, seed uint64) *rt.Net
}

func (s *Spec) check() error {
	p := &s.Program
	if s.New == nil || p.OutputSize < 1 || p.InputH < 1 || p.InputW < 1 || p.InputC < 1 {
		return errors.New("train: incomplete Spec (New and the Program's shapes are required)")
	}
	return nil
}
