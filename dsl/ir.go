// Package dsl gives .cnn syntax its meaning: it resolves blocks and their
// parameters, repetition, concat branches, residual sums, auxiliary heads,
// labels and the training recipe into a graph IR (Network) whose every node
// has a unique name and a source position. Shapes are not its business:
// package compiler infers and checks them.
package dsl

import "github.com/alecthomas/participle/v2/lexer"

// Op is the .cnn word of a node. The same word names the runtime kernels
// and the emitter of the op.
type Op string

// The ops of the IR.
const (
	OpInput   Op = "input"
	OpConv    Op = "conv"
	OpMaxPool Op = "maxpool"
	OpAvgPool Op = "avgpool"
	OpGAP     Op = "gap"
	OpLRN     Op = "lrn"
	OpBN      Op = "bn"
	OpReLU    Op = "relu"
	OpDropout Op = "dropout"
	OpFC      Op = "fc"
	OpSoftmax Op = "softmax"
	OpConcat  Op = "concat"
	OpAdd     Op = "add"
)

// InPlace reports whether the op overwrites its input (no activation memory
// of its own): relu, dropout and softmax.
func (o Op) InPlace() bool { return o == OpReLU || o == OpDropout || o == OpSoftmax }

// Shape is a feature map's height, width and channels (an fc output is
// 1x1xN).
type Shape struct{ H, W, C int }

// Network is the graph IR of one .cnn file.
type Network struct {
	File     string
	Source   []byte
	Name     string
	Input    Shape
	InputPos lexer.Position
	// Nodes in topological order; Nodes[0] is the input.
	Nodes  []*Node
	Output *Node      // last node of the main chain
	Aux    []*AuxHead // auxiliary heads, in source order
	Train  Recipe
}

// CallSite is one block call a node was expanded through.
type CallSite struct {
	Block string
	Pos   lexer.Position
	End   lexer.Position
}

// Node is one layer (or join) of the graph.
type Node struct {
	ID     int
	Name   string // unique, e.g. "conv1", "inception4a.conv3"
	Op     Op
	Text   string // the layer as written
	Pos    lexer.Position
	End    lexer.Position
	Calls  []CallSite // outermost call first
	Inputs []*Node
	Aux    *AuxHead // non-nil when the node belongs to an auxiliary head

	Conv    *Conv
	Pool    *Pool // maxpool, avgpool
	LRN     *LRN
	Dropout float64 // dropout probability
	Units   int     // fc output features

	// Implied is set on an add node whose shortcut is the identity as
	// written; the compiler inserts a 1x1 projection when shapes differ.
	Implied bool
	// ProjectBN says an implied projection is conv (no bias) + bn, as the
	// residual body uses bn; otherwise a biased conv.
	ProjectBN bool
	// Shortcut is the scope name of an add node's shortcut: its written
	// chain, or the projection the compiler implies ("basic2.shortcut1").
	Shortcut string
}

// Conv is the attributes of a conv node.
type Conv struct {
	Filters int
	KH, KW  int
	SH, SW  int
	PH, PW  int
	Same    bool // p same: padding chosen so that stride 1 keeps the size
	Groups  int
	DH, DW  int
	Bias    bool
}

// Pool is the attributes of a maxpool or avgpool node.
type Pool struct {
	KH, KW int
	SH, SW int
	PH, PW int
	Ceil   bool
}

// LRN is the attributes of an lrn node (PyTorch's LocalResponseNorm).
type LRN struct {
	Size           int
	Alpha, Beta, K float64
}

// AuxHead is an auxiliary classifier: a side chain from From whose output
// adds Weight times its loss in training. It does not exist at inference.
type AuxHead struct {
	Name   string
	Weight float64
	From   *Node
	Output *Node
	Pos    lexer.Position
}

// Recipe is the training recipe of the train section, with the lecture's
// defaults for what the file leaves out. Set records which keys the file
// wrote.
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
	Init      Init
	Augment   Augment
	Set       map[string]lexer.Position
}

// Schedule is the learning-rate schedule.
type Schedule struct {
	Kind     string // "none", "plateau", "every", "at"
	Divide   float64
	Patience int
	Every    int
	At       []int
}

// Init is the weight initialisation.
type Init struct {
	Kind string // "default" (PyTorch's), "gaussian", "xavier", "he"
	Std  float64
}

// Augment is the data augmentation.
type Augment struct {
	Crop      int // random crop of this size (after padding by Pad)
	Pad       int
	Translate int // random translation by up to this many pixels
	Mirror    bool
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
		Init:     Init{Kind: "default"},
		Set:      map[string]lexer.Position{},
	}
}
