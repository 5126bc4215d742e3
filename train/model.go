package train

import (
	"encoding/json"
	"errors"
	"fmt"

	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Net is the part of a generated *Net's method set that names no type of its
// own package: every generated network satisfies it as it is.
type Net interface {
	// Forward runs inference (eval mode: bn running statistics, no dropout)
	// and returns the softmax probabilities, (N, Classes).
	Forward(x []float32) ([]float32, error)
	// TrainStep is one optimizer step in train mode; it returns the loss, or
	// the package's ErrNonFinite with the parameters untouched.
	TrainStep(x []float32, labels []int32) (float32, error)
	// EndEpoch applies the .cnn's schedule and returns the next LR.
	EndEpoch(valAcc float64) float64
	LR() float64
	MaxBatch() int
	OptimizerState() rt.OptimState
	SetOptimizerState(rt.OptimState) error
	DropoutRNGState() ([]byte, error)
	SetDropoutRNGState([]byte) error
}

// Tensor is a generated package's Tensor: a parameter or buffer whose Data
// aliases the network.
type Tensor struct {
	Name   string
	Shape  []int
	Data   []float32
	Buffer bool
}

// TensorLike is satisfied by every generated package's Tensor type, which has
// the same fields as Tensor (a change there breaks the build of the adapter,
// loudly).
type TensorLike interface {
	~struct {
		Name   string
		Shape  []int
		Data   []float32
		Buffer bool
	}
}

// Generated is the whole method set of a generated *Net, with its package's
// TrainState (S) and Tensor (T) types as parameters.
type Generated[S any, T TensorLike] interface {
	Net
	State() S
	SetState(S)
	Tensors() []T
}

// Model is a generated network with its package's types erased: what the
// training loop works on. Adapt makes one.
type Model struct {
	Net
	Tensors []Tensor
	// State returns the schedule's state (the package's TrainState) as JSON;
	// SetState restores it.
	State    func() ([]byte, error)
	SetState func([]byte) error
}

// Adapt wraps a generated network:
//
//	train.Adapt[lenet5.TrainState, lenet5.Tensor](lenet5.New(64, 1))
func Adapt[S any, T TensorLike](n Generated[S, T]) *Model {
	m := &Model{Net: n}
	for _, t := range n.Tensors() {
		m.Tensors = append(m.Tensors, Tensor(t))
	}
	m.State = func() ([]byte, error) { return json.Marshal(n.State()) }
	m.SetState = func(b []byte) error {
		var s S
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("schedule state: %w", err)
		}
		n.SetState(s)
		return nil
	}
	return m
}

// Recipe is the training recipe compiled into a generated package (its
// DefaultBatch, DefaultLR, ... constants), with the seed of the .cnn.
type Recipe struct {
	Batch     int     `json:"batch"`
	Epochs    int     `json:"epochs"`
	Seed      uint64  `json:"seed"`
	Optimizer string  `json:"optimizer"`
	LR        float64 `json:"lr"`
	Momentum  float64 `json:"momentum"`
	Decay     float64 `json:"decay"`
	Nesterov  bool    `json:"nesterov"`
	Schedule  string  `json:"schedule"`
	Augment   Augment `json:"augment"`
}

// Augment is the .cnn's augment setting (see docs/language.md). Images are
// never resized: Crop must be 0 or the network's input size, and a random
// crop of the image padded by Pad is a shift by -Pad..Pad, which is also
// what Translate means.
type Augment struct {
	Crop      int  `json:"crop,omitempty"`
	Pad       int  `json:"pad,omitempty"`
	Translate int  `json:"translate,omitempty"`
	Mirror    bool `json:"mirror,omitempty"`
}

// Spec is what a generated package says about itself. The main.go that
// `cnnc train` writes fills it from the package's constants.
type Spec struct {
	Name                   string // the network's name
	Source                 string // the .cnn text the package was generated from
	SourcePath             string
	Overrides              string // the command-line changes compiled into the package (JSON), recorded in checkpoints
	InputH, InputW, InputC int
	Classes                int
	Recipe                 Recipe
	New                    func(maxBatch int, seed uint64) *Model
	ErrNonFinite           error // the package's ErrNonFinite
}

func (s *Spec) check() error {
	if s.New == nil || s.Classes < 1 || s.InputH < 1 || s.InputW < 1 || s.InputC < 1 {
		return errors.New("train: incomplete Spec (New, Classes and the input shape are required)")
	}
	return nil
}
