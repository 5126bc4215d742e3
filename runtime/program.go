package runtime

import "fmt"

// A generated package is a Program (what is specific to its network: its
// sizes, its tensors, its recipe and its written-out walks) and a one-line
// New that hands it to NewNet. Everything that does not depend on the
// network (the arenas, the optimizer and the schedule, Save and Load, the
// API) is Net's, here, once: the idea of protobuf's protoimpl.

// Program describes one network to the runtime. Every size is a number of
// float32 values per image (times the maximum batch in the arenas) unless
// it says per layer.
type Program struct {
	Name                   string // the network's name (network line of the .cnn)
	Package                string // the generated package, for error messages
	InputH, InputW, InputC int
	OutputSize             int  // floats per image of the main output
	Classifier             bool // the output is 1x1xClasses: the loss and Predict exist
	MACs                   int64

	Params, Buffers int // trainable parameters; bn running statistics
	Train, Infer    int // activations per image: training layout (all kept), inference layout (reused)
	Saved, Argmax   int // per image: dropout masks and lrn scales; max pool argmax indices
	SavedFixed      int // per layer: bn batch mean and 1/std
	Fold            int // conv weights and biases with bn folded in

	// InferIn, InferOut and InferLogits are the offsets in the inference
	// arena of the input, of the main output and of its logits (the final
	// softmax's input; the output itself when there is none); TrainLogits
	// the offset in the training arena of the logits the loss reads (the
	// input is at 0).
	InferIn, InferOut, InferLogits, TrainLogits int

	Tensors []TensorSpec // every parameter and buffer, in the .cnn's order
	Recipe  Recipe

	// Scratch is the scratch the layers need for a maximum batch.
	Scratch func(maxBatch int) int
	// The walks: inference forward, training forward, backward (reverse
	// order), the loss of the main output and the auxiliary heads and its
	// gradient, and the folding of bn into convs for inference.
	ForwardInfer, ForwardTrain, Backward func(m *Memory, n int)
	Loss                                 func(m *Memory, n int, labels []int32) float32
	LossBackward                         func(m *Memory, n int, labels []int32)
	Refold                               func(m *Memory)
	// Summary is the table cnnc summary prints.
	Summary string
}

// TensorSpec is one parameter or buffer of a program: its name and shape
// (PyTorch's), where it lives (Off in Params, or in Buffers) and how New
// initialises it.
type TensorSpec struct {
	Name   string
	Shape  []int
	Off    int
	Buffer bool
	Init   Init
	Value  float32 // InitConst's value
}

// Size is the number of values of the tensor.
func (t TensorSpec) Size() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Init is how NewNet fills a tensor.
type Init uint8

// The initialisations.
const (
	InitZeros        Init = iota // zeros
	InitOnes                     // ones
	InitWeight                   // the recipe's init; he uses the fan-in (fc)
	InitWeightFanOut             // the recipe's init; he uses the fan-out (conv, torchvision's ResNet)
	InitBias                     // zeros; under PyTorch's default init, drawn after the weight before it from the weight's stream
	InitConst                    // every value TensorSpec.Value (layerscale's 1e-6)
)

// Memory is the memory of a network: every arena its walks read and write.
// Generated walks use it; a program's user does not see it.
type Memory struct {
	MaxBatch int
	Params   []float32 // trainable parameters, in the .cnn's order
	Grads    []float32 // their gradients (nil until the first training call)
	Buffers  []float32 // bn running statistics
	Act      []float32 // inference activations, reused once dead
	TAct     []float32 // training activations: every output kept (nil until the first training call)
	DAct     []float32 // their gradients
	Fold     []float32 // conv weights and biases with bn folded in, for inference
	Scratch  []float32
	Argmax   []int32   // max pool argmax indices
	Saved    []float32 // dropout masks and lrn scales
	Fixed    []float32 // bn batch mean and 1/std
	RNG      *RNG      // the dropout masks' stream
	Frozen   bool      // training forwards reuse the last dropout masks (gradient checks)
}

// Recipe is the training recipe of a .cnn file's train section, with the
// lecture's defaults for what the file leaves out.
type Recipe struct {
	Batch     int
	Epochs    int
	Seed      uint64
	Optimizer string // "sgd" or "adam"
	LR        float64
	Momentum  float64
	Decay     float64
	Nesterov  bool
	Beta1     float64
	Beta2     float64
	Eps       float64
	Schedule  Schedule
	Init      InitRecipe
	Augment   Augment
}

// Schedule is the learning-rate schedule.
type Schedule struct {
	Kind     string // "none", "plateau", "every", "at"
	Divide   float64
	Patience int
	Every    int
	At       []int
}

// InitRecipe is the weights' initialisation.
type InitRecipe struct {
	Kind string // "default" (PyTorch's), "gaussian", "xavier", "he"
	Std  float64
}

// Augment is the data augmentation of training.
type Augment struct {
	Crop      int  `json:"crop,omitempty"` // random crop of this size (after padding by Pad)
	Pad       int  `json:"pad,omitempty"`
	Translate int  `json:"translate,omitempty"` // random translation by up to this many pixels
	Mirror    bool `json:"mirror,omitempty"`
}

// DefaultRecipe is the lecture's recipe: batch 128, SGD with momentum 0.9,
// learning rate 1e-2 divided by 10 on a plateau, weight decay 5e-4,
// PyTorch's default initialisation, 10 epochs, no augmentation.
func DefaultRecipe() Recipe {
	return Recipe{
		Batch: 128, Epochs: 10, Seed: 1,
		Optimizer: "sgd", LR: 0.01, Momentum: 0.9, Decay: 5e-4,
		Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
		Schedule: Schedule{Kind: "plateau", Divide: 10, Patience: 1},
		Init:     InitRecipe{Kind: "default"},
	}
}

// check panics on a program whose tables disagree with its sizes: a bug of
// the code generator, not of the user.
func (p *Program) check() {
	bad := func(format string, args ...any) {
		panic(fmt.Sprintf("runtime: program %s: %s", p.Name, fmt.Sprintf(format, args...)))
	}
	if p.InputH < 1 || p.InputW < 1 || p.InputC < 1 || p.OutputSize < 1 {
		bad("shapes %dx%dx%d -> %d", p.InputH, p.InputW, p.InputC, p.OutputSize)
	}
	in := p.InputH * p.InputW * p.InputC
	if p.InferIn+in > p.Infer || p.InferOut+p.OutputSize > p.Infer || p.InferLogits+p.OutputSize > p.Infer || p.TrainLogits+p.OutputSize > max(p.Train, in) {
		bad("input or output outside the activation arenas")
	}
	for _, t := range p.Tensors {
		size := t.Size()
		arena := p.Params
		if t.Buffer {
			arena = p.Buffers
		}
		if t.Off < 0 || t.Off+size > arena {
			bad("tensor %s [%d, %d) outside its arena of %d", t.Name, t.Off, t.Off+size, arena)
		}
	}
	if p.ForwardInfer == nil || p.ForwardTrain == nil || p.Backward == nil || p.Scratch == nil || p.Refold == nil {
		bad("a walk is missing")
	}
	if p.Classifier && (p.Loss == nil || p.LossBackward == nil) {
		bad("a classifier without its loss")
	}
}
