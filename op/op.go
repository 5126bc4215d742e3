// Package op describes every layer kind of the language once: its .cnn word
// and arguments, its shape rule, its tensors and counts, how it runs in
// place, and the runtime calls the emitter writes for it. The stages read
// this one description: dsl the words and arguments (Kind.Parse), compiler
// the shapes and counts (Op.Shape, Op.Tensors, Op.MACs), the memory plan
// (Kind's flags, Op.State), the emission (Op.Forward, Op.Infer,
// Op.Backward) and the ONNX export (Op.ONNX). docs/ARCHITECTURE.md walks
// through adding an op.
//
// One name per concept: the word `conv` names the Kind, the IR op (*Conv),
// the runtime kernel (runtime.Conv with Forward, BackwardData,
// BackwardFilter) and the geometry value the generated code declares.
package op

import (
	"fmt"
	"math"
	"math/bits"
	"sort"

	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Shape is a feature map's height, width and channels (an fc output is
// 1x1xN).
type Shape struct{ H, W, C int }

// Size is the number of values of one image's map.
func (s Shape) Size() int { return s.H * s.W * s.C }

// String prints a shape as the lecture does: HxWxC.
func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.H, s.W, s.C) }

// Op is one layer of the IR with its arguments resolved: the value a .cnn
// layer (or a concat, a residual sum, the input) turns into.
type Op interface {
	// Kind is the op's static description.
	Kind() *Kind
	// String is the op in one canonical spelling, every attribute written
	// (the IR dump prints it).
	String() string
	// Shape computes the output shape from the input shapes and reports
	// what does not fit through c.
	Shape(c Checker, in []Shape) (Shape, bool)
	// Tensors lists the op's parameters and buffers in PyTorch's order and
	// layouts (nil when it has none): Name is the suffix after the layer's
	// name (weight, bias, running_mean ...), Off is 0 (the plan places them).
	Tensors(in []Shape, out Shape) []rt.TensorSpec
	// MACs counts the multiply-accumulates per image (conv and fc only,
	// torchvision's convention).
	MACs(k *Count, in []Shape, out Shape) int64
	// State is what the forward keeps for the backward.
	State(in []Shape, out Shape) State
	// Forward, Infer and Backward write the calls of the training forward,
	// the inference forward and the backward of one layer.
	Forward(e Emitter) []Code
	Infer(e Emitter) []Code
	Backward(e Emitter) []Code
	// ONNX writes the layer as a node of an ONNX graph (opset Opset), in
	// inference mode.
	ONNX(x Exporter)
}

// Kind is the static description of an op.
type Kind struct {
	// Word is the .cnn word and the name of the op everywhere after.
	Word string
	// Usage is the form of the layer, for hints; empty for ops that are
	// not layer words (input, concat, add).
	Usage string
	// Parse reads the layer's arguments (nil when not a layer word).
	Parse func(a Args) Op
	// InPlace: the op may overwrite its input (it has no activation memory
	// of its own when it is its input's only reader): relu, dropout, softmax.
	// It keeps signs (y > 0 exactly when x > 0, or y = 0), which a
	// ReadsOutput op before it reads: sigmoid does not, so it is not in
	// place (TestInPlaceKeepsSigns).
	InPlace bool
	// KeepsOutput: its backward reads its own output, so no in-place op may
	// overwrite that output (lrn, softmax).
	KeepsOutput bool
	// ReadsOutput: its backward reads the sign of its own output (relu,
	// leakyrelu). The in-place ops after it keep signs, but the loss's
	// probabilities must not overwrite it.
	ReadsOutput bool
	// Epilogue: a relu right after the op runs in its epilogue (conv,
	// dwconv, fc).
	Epilogue bool
	// Final: only the last layer of the network or of an aux head: training
	// skips it and computes it with the loss (softmax), so one anywhere else
	// would run at inference only.
	Final bool
	// Flat: its output is a flat vector, (N, F) as nn.Linear gives (fc).
	// The ops after it that are neither Flat nor NeedsMap pass the vector
	// on (relu, dropout, bn as nn.BatchNorm1d, concat, add ...).
	Flat bool
	// NeedsMap: its input must be a feature map (N, C, H, W), as PyTorch's
	// Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d and LocalResponseNorm
	// require: refused after a flat vector (conv, dwconv, maxpool, avgpool,
	// gap, lrn).
	NeedsMap bool
	// View: its output is its input (identity): the plan always aliases
	// it, whatever else reads its input.
	View bool
	// FirstMap: its first input must be a feature map and gives its
	// output's form; the others may be vectors (scale's factors).
	FirstMap bool
}

// State is what an op's forward keeps for its backward, per image (Saved
// floats, Argmax indices) or per layer (Fixed floats).
type State struct{ Saved, Argmax, Fixed int }

// Count multiplies counts and remembers an overflow of int64.
type Count struct{ Overflow bool }

// Mul returns the product of xs, or 0 after an overflow.
func (k *Count) Mul(xs ...int64) int64 {
	r := int64(1)
	for _, x := range xs {
		hi, lo := bits.Mul64(uint64(r), uint64(x))
		if hi != 0 || lo > math.MaxInt64 || x < 0 {
			k.Overflow = true
			return 0
		}
		r = int64(lo)
	}
	return r
}

// Checker reports a problem of a layer's shapes, at the layer.
type Checker interface {
	// Text is the layer as written, which messages start with.
	Text() string
	Errorf(hint, format string, args ...any)
}

// kinds are the layer words of the language, in the order the docs and
// hints list them. Adding an op adds its line here.
var kinds = []*Kind{
	&convKind, &maxpoolKind, &avgpoolKind, &gapKind, &lrnKind, &bnKind, &reluKind, &leakyreluKind,
	&dropoutKind, &fcKind, &softmaxKind,
	&layernormKind, &layerscaleKind, &droppathKind, &shuffleKind,
	&relu6Kind, &sigmoidKind, &tanhKind, &siluKind, &geluKind, &hardswishKind, &hardsigmoidKind,
	&identityKind,
	&dwconvKind,
}

// Lookup returns the kind of a layer word, or nil.
func Lookup(word string) *Kind {
	for _, k := range kinds {
		if k.Word == word {
			return k
		}
	}
	return nil
}

// Words lists the layer words.
func Words() []string {
	var ws []string
	for _, k := range kinds {
		ws = append(ws, k.Word)
	}
	return ws
}

// SortedWords lists the layer words alphabetically.
func SortedWords() []string {
	ws := Words()
	sort.Strings(ws)
	return ws
}
