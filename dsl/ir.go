// Package dsl gives .cnn syntax its meaning: it resolves blocks and their
// parameters, repetition, concat branches, residual sums, auxiliary heads,
// labels and the training recipe into a graph IR (Network) whose every node
// has a unique name and a source position. Shapes are not its business:
// package compiler infers and checks them.
package dsl

import (
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/cnnc-dev/cnnc/op"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Network is the graph IR of one .cnn file.
type Network struct {
	File     string
	Source   []byte
	Name     string
	Input    op.Shape
	InputPos lexer.Position
	// Nodes in topological order; Nodes[0] is the input.
	Nodes  []*Node
	Output *Node      // last node of the main chain
	Aux    []*AuxHead // auxiliary heads, in source order
	Train  Recipe
}

// CallSite is one block call a node was expanded through.
type CallSite struct {
	Block    string
	Instance string // the instance's name, the prefix of its nodes' names: layer1.1
	Pos      lexer.Position
	End      lexer.Position
}

// Node is one layer (or join) of the graph.
type Node struct {
	ID     int
	Name   string // unique, e.g. "conv1", "inception4a.conv3"
	Op     op.Op  // the layer with its arguments: *op.Conv, *op.Add ...
	Text   string // the layer as written
	Pos    lexer.Position
	End    lexer.Position
	Calls  []CallSite // outermost call first
	Inputs []*Node
	Aux    *AuxHead // non-nil when the node belongs to an auxiliary head
}

// Word is the node's op word: conv, add ...
func (n *Node) Word() string { return n.Op.Kind().Word }

// AuxHead is an auxiliary classifier: a side chain from From whose output
// adds Weight times its loss in training. It does not exist at inference.
type AuxHead struct {
	Name   string
	Weight float64
	From   *Node
	Output *Node
	Pos    lexer.Position
}

// Recipe is the training recipe of the train section (the runtime's
// Recipe, with the lecture's defaults for what the file leaves out) and
// where the file wrote each key.
type Recipe struct {
	rt.Recipe
	Set map[string]lexer.Position
}

// DefaultRecipe is the lecture's recipe (runtime.DefaultRecipe), with no
// key set.
func DefaultRecipe() Recipe {
	return Recipe{Recipe: rt.DefaultRecipe(), Set: map[string]lexer.Position{}}
}
