package op

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cnnc-dev/cnnc/onnx"
)

// ONNXImporter is what the import of one ONNX node reads and writes
// (package importer implements it): the inverse of Op.ONNX. An import
// turns the node into the .cnn text of one layer, taking the node's
// initializers as the layer's tensors in Op.Tensors' order.
type ONNXImporter interface {
	Node() *onnx.Node
	// InC is the depth of the node's input map.
	InC() int
	// Dims are the dimensions of input i when it is an initializer.
	Dims(i int) ([]int64, bool)
	// Tensor takes input i, an initializer, as the layer's next tensor;
	// transpose swaps the two dimensions of a matrix first (Gemm's transB 0).
	Tensor(i int, transpose bool)
	// Scalar is the value of input i when it is a one-value initializer.
	Scalar(i int) (float32, bool)
	// Fail reports that the node has no equivalent in the language: attr is
	// the attribute at fault ("" for the node), the message says what the
	// language would need.
	Fail(attr, format string, args ...any)
}

// FromONNX returns the import of an ONNX op type of the default domain,
// or nil when the language has no layer for it. Add and Concat are not
// here: they are the graph's structure (residual, concat), which package
// importer recovers.
func FromONNX(opType string) func(ONNXImporter) string { return fromONNX[opType] }

// ONNXTypes lists the op types FromONNX knows, and the structural ones.
func ONNXTypes() []string {
	ts := []string{"Add", "Concat", "Flatten", "Reshape", "Identity"}
	for t := range fromONNX {
		ts = append(ts, t)
	}
	return ts
}

var fromONNX = map[string]func(ONNXImporter) string{
	"Conv":               convFromONNX,
	"MaxPool":            func(x ONNXImporter) string { return poolFromONNX(x, "maxpool") },
	"AveragePool":        func(x ONNXImporter) string { return poolFromONNX(x, "avgpool") },
	"GlobalAveragePool":  func(ONNXImporter) string { return "gap" },
	"LRN":                lrnFromONNX,
	"BatchNormalization": bnFromONNX,
	"Relu":               func(ONNXImporter) string { return "relu" },
	"LeakyRelu":          leakyFromONNX,
	"Dropout":            dropoutFromONNX,
	"Gemm":               fcFromONNX,
	"Softmax":            softmaxFromONNX,
	"Sigmoid":            func(ONNXImporter) string { return "sigmoid" },
	"Tanh":               func(ONNXImporter) string { return "tanh" },
	"HardSwish":          func(ONNXImporter) string { return "hardswish" },
	"HardSigmoid":        hardsigmoidFromONNX,
	"Clip":               clipFromONNX,
}

// hardsigmoidFromONNX: PyTorch's hardsigmoid is ONNX's with alpha 1/6 and
// beta 0.5 (ONNX's defaults are 0.2 and 0.5).
func hardsigmoidFromONNX(x ONNXImporter) string {
	n := x.Node()
	if a, b := n.AttrFloat("alpha", 0.2), n.AttrFloat("beta", 0.5); math.Abs(float64(a)-1.0/6) > 1e-6 || b != 0.5 {
		x.Fail("alpha", "HardSigmoid with alpha %s and beta %s: cnnc's hardsigmoid is relu6(x+3)/6 (alpha 1/6, beta 0.5)", fnum(a), fnum(b))
		return ""
	}
	return "hardsigmoid"
}

// clipFromONNX: a Clip to [0, 6] is relu6, to [0, inf) relu.
func clipFromONNX(x ONNXImporter) string {
	n := x.Node()
	lo, hi := n.AttrFloat("min", float32(math.Inf(-1))), n.AttrFloat("max", float32(math.Inf(1))) // before opset 11
	for i, p := range []*float32{&lo, &hi} {
		if len(n.Inputs) > i+1 && n.Inputs[i+1] != "" {
			v, ok := x.Scalar(i + 1)
			if !ok {
				x.Fail("", "Clip's bound (input %d) must be a one-value initializer", i+1)
				return ""
			}
			*p = v
		}
	}
	switch {
	case lo == 0 && hi == 6:
		return "relu6"
	case lo == 0 && math.IsInf(float64(hi), 1):
		return "relu"
	}
	x.Fail("", "Clip to [%s, %s]: the language has relu6 (Clip to [0, 6]) and relu (Clip from 0)", fnum(lo), fnum(hi))
	return ""
}

// fnum prints a float32 attribute in its shortest form (1e-05, 0.75).
func fnum(f float32) string { return strconv.FormatFloat(float64(f), 'g', -1, 32) }

// onnxWindow reads kernel_shape, strides, pads and dilations of a 2D window
// and writes them as .cnn flags; it fails on what the language lacks.
func onnxWindow(x ONNXImporter, kernel []int64, dilation bool) (k, s, p, d string, ok bool) {
	n := x.Node()
	if a := n.Attr("auto_pad"); a != nil && a.Type == onnx.AttrString && string(a.S) != "NOTSET" && string(a.S) != "VALID" && string(a.S) != "" {
		x.Fail("auto_pad", "auto_pad %s: cnnc takes explicit pads (re-export with explicit padding, as torch.onnx.export writes)", a.S)
		return
	}
	if len(kernel) != 2 {
		x.Fail("kernel_shape", "a %d-D window: cnnc's layers are 2-D", len(kernel))
		return
	}
	st := n.AttrInts("strides", 1, 1)
	pads := n.AttrInts("pads", 0, 0, 0, 0)
	dil := n.AttrInts("dilations", 1, 1)
	if len(st) != 2 || len(pads) != 4 || len(dil) != 2 {
		x.Fail("", "strides %v, pads %v, dilations %v: not a 2-D window", st, pads, dil)
		return
	}
	if pads[0] != pads[2] || pads[1] != pads[3] {
		x.Fail("pads", "asymmetric padding %v (begin %d,%d, end %d,%d): cnnc pads both sides alike, as PyTorch's layers do", pads, pads[0], pads[1], pads[2], pads[3])
		return
	}
	if !dilation && (dil[0] != 1 || dil[1] != 1) {
		x.Fail("dilations", "dilation %v in pooling: cnnc's pools are not dilated", dil)
		return
	}
	for _, v := range append(append(append([]int64{}, kernel...), st...), append(pads, dil...)...) {
		if v < 0 || v > 1<<20 {
			x.Fail("", "a window value %d out of range", v)
			return
		}
	}
	flag := func(f string, h, w int64, def int64) string {
		switch {
		case h == def && w == def:
			return ""
		case h == w:
			return fmt.Sprintf(" %s%d", f, h)
		}
		return fmt.Sprintf(" %s%dx%d", f, h, w)
	}
	return fmt.Sprintf("%dx%d", kernel[0], kernel[1]), flag("s", st[0], st[1], 1), flag("p", pads[0], pads[1], 0), flag("d", dil[0], dil[1], 1), true
}

func convFromONNX(x ONNXImporter) string {
	w, ok := x.Dims(1)
	if !ok || len(w) != 4 {
		x.Fail("", "the weight (input 1) must be a 4-D initializer (K, C/G, KH, KW)")
		return ""
	}
	k, s, p, d, ok := onnxWindow(x, x.Node().AttrInts("kernel_shape", w[2], w[3]), true)
	if !ok {
		return ""
	}
	text := fmt.Sprintf("conv %d %s%s%s", w[0], k, s, p)
	if g := x.Node().AttrInt("group", 1); g == w[0] && g == int64(x.InC()) && w[1] == 1 && g > 1 {
		text = fmt.Sprintf("dwconv %s%s%s", k, s, p) // one filter per input channel
	} else if g != 1 {
		text += fmt.Sprintf(" g%d", g)
	}
	text += d
	x.Tensor(1, false)
	if len(x.Node().Inputs) > 2 && x.Node().Inputs[2] != "" {
		x.Tensor(2, false)
	} else {
		text += " nobias"
	}
	return text
}

func poolFromONNX(x ONNXImporter, word string) string {
	n := x.Node()
	if len(n.Outputs) > 1 && n.Outputs[1] != "" {
		x.Fail("", "the indices output of MaxPool: cnnc's maxpool gives only the maxima")
		return ""
	}
	if n.AttrInt("storage_order", 0) != 0 {
		x.Fail("storage_order", "storage_order 1 (column-major indices)")
		return ""
	}
	k, s, p, _, ok := onnxWindow(x, n.AttrInts("kernel_shape"), false)
	if !ok {
		return ""
	}
	kh, kw, _ := strings.Cut(k, "x")
	if kh == kw {
		k = kh
	}
	if s == "" {
		s = " s1" // ONNX's default stride is 1, cnnc's the window
	} else if s == " s"+k {
		s = ""
	}
	if word == "avgpool" && p != "" && n.AttrInt("count_include_pad", 0) == 0 {
		x.Fail("count_include_pad", "count_include_pad 0 with padding: cnnc's avgpool counts the padding in the divisor (PyTorch's default, count_include_pad=True)")
		return ""
	}
	text := word + " " + k + s + p
	if n.AttrInt("ceil_mode", 0) == 1 {
		text += " ceil"
	}
	return text
}

func lrnFromONNX(x ONNXImporter) string {
	n := x.Node()
	text := fmt.Sprintf("lrn %d %s %s %s", n.AttrInt("size", 0), fnum(n.AttrFloat("alpha", 1e-4)), fnum(n.AttrFloat("beta", 0.75)), fnum(n.AttrFloat("bias", 1)))
	if text == "lrn 5 0.0001 0.75 2" {
		return "lrn" // cnnc's defaults, AlexNet's
	}
	return text
}

func bnFromONNX(x ONNXImporter) string {
	n := x.Node()
	if n.AttrInt("spatial", 1) != 1 {
		x.Fail("spatial", "spatial 0 (statistics per value, opset 7 and before): cnnc's bn has one per channel")
		return ""
	}
	if n.AttrInt("training_mode", 0) != 0 || len(n.Outputs) > 1 && n.Outputs[1] != "" {
		x.Fail("training_mode", "batch normalization in training mode: cnnc imports inference graphs")
		return ""
	}
	for i := 1; i <= 4; i++ {
		if d, ok := x.Dims(i); !ok || len(d) != 1 {
			x.Fail("", "input %d (scale, B, mean, var) must be a 1-D initializer", i)
			return ""
		}
		x.Tensor(i, false)
	}
	text := "bn"
	if eps := n.AttrFloat("epsilon", 1e-5); eps != 1e-5 {
		text += " eps " + fnum(eps)
	}
	// ONNX's momentum weighs the old statistics, cnnc's (PyTorch's) the new.
	if m := complement(n.AttrFloat("momentum", 0.9)); m != "0.1" {
		text += " momentum " + m
	}
	return text
}

// complement is 1 - m in its shortest decimal form d for which 1 - d is
// m in float32: 0.1 for 0.9 (where 1 - 0.9 in float32 is 0.10000002).
func complement(m float32) string {
	for p := 1; p < 17; p++ {
		d := strconv.FormatFloat(1-float64(m), 'g', p, 64)
		if v, err := strconv.ParseFloat(d, 64); err == nil && float32(1-v) == m {
			return d
		}
	}
	return strconv.FormatFloat(1-float64(m), 'g', -1, 64)
}

func leakyFromONNX(x ONNXImporter) string {
	if a := x.Node().AttrFloat("alpha", 0.01); a != 0.01 {
		return "leakyrelu " + fnum(a)
	}
	return "leakyrelu"
}

func dropoutFromONNX(x ONNXImporter) string {
	n := x.Node()
	ratio := n.AttrFloat("ratio", 0.5) // before opset 12 an attribute
	if len(n.Inputs) > 1 && n.Inputs[1] != "" {
		r, ok := x.Scalar(1)
		if !ok {
			x.Fail("ratio", "the ratio (input 1) must be a one-value initializer")
			return ""
		}
		ratio = r
	}
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		x.Fail("training_mode", "a dropout with a training_mode input: cnnc imports inference graphs")
		return ""
	}
	return "dropout " + fnum(ratio)
}

func fcFromONNX(x ONNXImporter) string {
	n := x.Node()
	if n.AttrInt("transA", 0) != 0 || n.AttrFloat("alpha", 1) != 1 || n.AttrFloat("beta", 1) != 1 {
		x.Fail("", "Gemm with transA, alpha or beta other than 0, 1, 1: cnnc's fc is y = x W^T + b")
		return ""
	}
	w, ok := x.Dims(1)
	if !ok || len(w) != 2 {
		x.Fail("", "the weight (input 1) must be a 2-D initializer")
		return ""
	}
	transB := n.AttrInt("transB", 0) != 0
	units := w[1]
	if transB {
		units = w[0]
	}
	x.Tensor(1, !transB)
	if len(n.Inputs) < 3 || n.Inputs[2] == "" {
		return fmt.Sprintf("fc %d nobias", units)
	}
	if b, ok := x.Dims(2); !ok || len(b) != 1 || b[0] != units {
		x.Fail("", "the bias (input 2) must be a 1-D initializer of %d values", units)
		return ""
	}
	x.Tensor(2, false)
	return fmt.Sprintf("fc %d", units)
}

func softmaxFromONNX(x ONNXImporter) string {
	if a := x.Node().AttrInt("axis", -1); a != 1 && a != -1 {
		x.Fail("axis", "softmax over axis %d: cnnc's softmax is over the classes (axis 1)", a)
		return ""
	}
	return "softmax"
}
