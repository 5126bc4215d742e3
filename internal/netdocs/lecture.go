package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/op"
)

// lectures writes, for the networks whose figures the lecture prints,
// those figures beside what cnnc computes.
var lectures = map[string]func(*bytes.Buffer, *compiler.Model) error{
	"vgg16": vgg16,
	"inception_naive": func(b *bytes.Buffer, m *compiler.Model) error {
		return inception(b, m, naiveTerms, "854M")
	},
	"inception_bottleneck": func(b *bytes.Buffer, m *compiler.Model) error {
		return inception(b, m, bottleneckTerms, "358M")
	},
}

// lectureRow is one row of the lecture's VGG16 table, as printed: the
// layer, its output, its memory (values, rounded) and its parameters
// (weights, not counting biases).
type lectureRow struct {
	layer, output, memory string
	params                int64
}

// The lecture's VGG16 table (its "memory" and "params" columns), and its
// totals: "TOTAL memory: 24M * 4 bytes ~= 96MB / image", "TOTAL params:
// 138M parameters".
var vggTable = []lectureRow{
	{"INPUT", "224x224x3", "150K", 0},
	{"CONV3-64", "224x224x64", "3.2M", 1_728},
	{"CONV3-64", "224x224x64", "3.2M", 36_864},
	{"POOL2", "112x112x64", "800K", 0},
	{"CONV3-128", "112x112x128", "1.6M", 73_728},
	{"CONV3-128", "112x112x128", "1.6M", 147_456},
	{"POOL2", "56x56x128", "400K", 0},
	{"CONV3-256", "56x56x256", "800K", 294_912},
	{"CONV3-256", "56x56x256", "800K", 589_824},
	{"CONV3-256", "56x56x256", "800K", 589_824},
	{"POOL2", "28x28x256", "200K", 0},
	{"CONV3-512", "28x28x512", "400K", 1_179_648},
	{"CONV3-512", "28x28x512", "400K", 2_359_296},
	{"CONV3-512", "28x28x512", "400K", 2_359_296},
	{"POOL2", "14x14x512", "100K", 0},
	{"CONV3-512", "14x14x512", "100K", 2_359_296},
	{"CONV3-512", "14x14x512", "100K", 2_359_296},
	{"CONV3-512", "14x14x512", "100K", 2_359_296},
	{"POOL2", "7x7x512", "25K", 0},
	{"FC", "1x1x4096", "4096", 102_760_448},
	{"FC", "1x1x4096", "4096", 16_777_216},
	{"FC", "1x1x1000", "1000", 4_096_000},
}

// weights is a layer's parameters without its biases, as the lecture
// counts them.
func weights(l *compiler.Layer) int64 {
	var n int64
	for _, t := range l.Node.Op.Tensors(l.In, l.Out) {
		if !t.Buffer && t.Name != "bias" {
			n += int64(t.Size())
		}
	}
	return n
}

func vgg16(b *bytes.Buffer, m *compiler.Model) error {
	var rows []*compiler.Layer // the layers the lecture lists: no relu, no dropout, no softmax
	for _, l := range m.Layers {
		switch l.Node.Word() {
		case "input", "conv", "maxpool", "fc":
			rows = append(rows, l)
		}
	}
	if len(rows) != len(vggTable) {
		return fmt.Errorf("the lecture lists %d layers, the network has %d", len(vggTable), len(rows))
	}
	b.WriteString("The lecture's table (memory: values of each output; params: weights, not counting biases) beside `cnnc summary`'s:\n\n")
	b.WriteString("| lecture | output | memory | params | cnnc | output | activations | weights | with biases |\n")
	b.WriteString("| --- | --- | ---: | ---: | --- | --- | ---: | ---: | ---: |\n")
	var lecMemory, lecParams, memory int64
	for i, r := range vggTable {
		l := rows[i]
		if l.Out.String() != r.output {
			return fmt.Errorf("%s gives %s, the lecture's %s %s", l.Node.Name, l.Out, r.layer, r.output)
		}
		size := int64(l.Out.H) * int64(l.Out.W) * int64(l.Out.C)
		lecMemory += size // the lecture's own formula: H*W*C
		lecParams += r.params
		memory += l.Activations
		w := weights(l)
		mark := ""
		if w != r.params {
			mark = " (differs)"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s `%s` | %s | %s | %s%s | %s |\n", r.layer, r.output, r.memory, compiler.Comma(r.params),
			l.Node.Name, l.Node.Text, l.Out, compiler.Comma(l.Activations), compiler.Comma(w), mark, compiler.Comma(l.Params))
	}
	b.WriteString("\n| total | the lecture says | its own column adds up to | cnnc computes |\n| --- | --- | --- | --- |\n")
	fmt.Fprintf(b, "| forward activations per image | 24M values, ~96 MB | %s values, %.1f MB | %s values, %.1f MB |\n",
		compiler.Comma(lecMemory), float64(lecMemory)*4/1e6, compiler.Comma(m.Activations), float64(m.Activations)*4/1e6)
	var w int64
	for _, l := range m.Layers {
		w += weights(l)
	}
	fmt.Fprintf(b, "| parameters | 138M | %s (weights) | %s (%s weights and %s biases) |\n",
		compiler.Comma(lecParams), compiler.Comma(m.Params), compiler.Comma(w), compiler.Comma(m.Params-w))
	b.WriteString("\nThe lecture's per-layer figures are right; its total of 24M values (96 MB) is not the sum of its own memory column, " +
		"which is the true count. cnnc's activations count each layer's own output once (relu, dropout and softmax run in place).\n")
	return nil
}

// term is one of the lecture's per-conv terms of an inception module's
// multiply-accumulates ("ops"), in the network's conv order.
type term struct {
	label string
	ops   string // as the slide prints it
}

var naiveTerms = []term{
	{"[1x1 conv, 128] 28x28x128x1x1x256", "25.7M"},
	{"[3x3 conv, 192] 28x28x192x3x3x256", "346.8M"},
	{"[5x5 conv, 96] 28x28x96x5x5x256", "481.7M"},
}

var bottleneckTerms = []term{
	{"[1x1 conv, 128] 28x28x128x1x1x256", "25.7M"},
	{"[1x1 conv, 64] 28x28x64x1x1x256", "12.8M"},
	{"[3x3 conv, 192] 28x28x192x3x3x64", "86.7M"},
	{"[1x1 conv, 64] 28x28x64x1x1x256", "12.8M"},
	{"[5x5 conv, 96] 28x28x96x5x5x64", "120.4M"},
	{"[1x1 conv, 64] 28x28x64x1x1x256", "12.8M"},
}

func inception(b *bytes.Buffer, m *compiler.Model, terms []term, slide string) error {
	var convs []*compiler.Layer
	for _, l := range m.Layers {
		if _, ok := l.Node.Op.(*op.Conv); ok {
			convs = append(convs, l)
		}
	}
	if len(convs) != len(terms) {
		return fmt.Errorf("the lecture lists %d convs, the module has %d", len(terms), len(convs))
	}
	b.WriteString("The slide's multiply-accumulates (\"ops\") per conv beside `cnnc summary`'s:\n\n")
	b.WriteString("| the slide's term | ops | cnnc | MACs |\n| --- | ---: | --- | ---: |\n")
	var sum float64
	for i, t := range terms {
		l := convs[i]
		var v float64
		if _, err := fmt.Sscanf(strings.TrimSuffix(t.ops, "M"), "%g", &v); err != nil {
			return err
		}
		sum += v
		fmt.Fprintf(b, "| %s | %s | %s `%s` | %s |\n", t.label, t.ops, l.Node.Name, l.Node.Text, compiler.Comma(l.MACs))
	}
	fmt.Fprintf(b, "| **total** | the slide: **%s**; its terms add up to %.1fM | | **%s** |\n\n", slide, sum, compiler.Comma(m.MACs))
	if s := fmt.Sprintf("%.0fM", float64(m.MACs)/1e6); s == slide {
		fmt.Fprintf(b, "The slide's total, %s, is right.\n", slide)
	} else {
		fmt.Fprintf(b, "The slide's total, %s, is not the sum of its own terms; the true count is %s (%s).\n", slide, compiler.Comma(m.MACs), s)
	}
	return nil
}
