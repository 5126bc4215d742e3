package op

import (
	"github.com/dave/jennifer/jen"
)

// Code is a fragment of generated Go.
type Code = jen.Code

// RuntimePath is the import path of the kernels the generated code calls.
const RuntimePath = "github.com/cnnc-dev/cnnc/runtime"

// RT refers to a name of the runtime: rt.Conv.
func RT(name string) *jen.Statement { return jen.Qual(RuntimePath, name) }

// Field is one field of a geometry literal, in the order the runtime
// declares it.
type Field struct {
	Name  string
	Value any
}

// Emitter is what an op's Forward, Infer and Backward write with: the
// expressions of the layer's buffers and tensors in the function being
// written, and the plan's decisions about the layer. The compiler
// implements it.
type Emitter interface {
	// Name is the layer's identifier, for comments.
	Name() string
	// N is the number of images of the call.
	N() Code
	// NumIn is the number of the layer's inputs.
	NumIn() int
	// InShape and OutShape are the shapes of the layer's i-th input and of
	// its output.
	InShape(i int) Shape
	OutShape() Shape
	// In and Out are the layer's i-th input and its output (the training
	// or the inference layout, as the pass is); DIn and DOut their
	// gradients. NeedDIn reports whether the i-th input needs its gradient
	// (not the network's input).
	In(i int) Code
	Out() Code
	DIn(i int) Code
	DOut() Code
	NeedDIn(i int) bool
	// Tensor and Grad are the layer's i-th tensor (in Tensors' order) and
	// its gradient.
	Tensor(i int) Code
	Grad(i int) Code
	// Saved and Argmax are the layer's per-image state of its State;
	// Fixed(off, size) a part of its per-layer state.
	Saved() Code
	Argmax() Code
	Fixed(off, size int) Code
	// Geometry declares the layer's runtime value (rt.Conv{C: 3, ...}, all
	// constants) and returns its name.
	Geometry(typ string, fields ...Field) string
	// Scratch records that the layer needs size floats of scratch (an
	// expression of mb, the maximum batch) and returns the scratch buffer.
	Scratch(size Code) Code
	// RNG and Frozen are the dropout random stream and whether the masks
	// are frozen (gradient checks).
	RNG() Code
	Frozen() Code
	// Alias reports that the layer runs in place: In(0) and Out() (and
	// their gradients) are the same buffer.
	Alias() bool
	// ReLU reports that a relu after the layer runs in its epilogue in
	// this pass (Kind.Epilogue).
	ReLU() bool
	// Folded returns, at inference, the weights and bias with the next bn
	// folded in (a conv followed by a bn).
	Folded() (w, b Code, ok bool)
	// Winograd returns, at inference and in the refold walk, the conv's
	// Winograd-transformed weights (rt.Conv.WinogradWeights) where the
	// plan runs its inference by Winograd's algorithm.
	Winograd() (u Code, ok bool)
}

// Comment is a line of comment in a walk: what a layer does instead of a
// call in this pass.
func Comment(text string) []Code { return []Code{jen.Comment(text)} }
