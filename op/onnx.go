package op

import "github.com/cnnc-dev/cnnc/onnx"

// Exporter is what an op's ONNX description (Op.ONNX) writes to: the
// layer's node in an ONNX graph (package compiler/export implements it).
// A layer is one node, named as the layer, whose output is the layer's
// value (an op without a single ONNX node adds Steps before it); the
// exporter names the values and the initializers.
type Exporter interface {
	// Name is the layer's name (inception3a.conv1), the node's.
	Name() string
	NumIn() int
	InShape(i int) Shape
	OutShape() Shape
	// In is the value name of input i.
	In(i int) string
	// FlatIn is input i as (N, F): In(i) when it is a vector already,
	// otherwise the output of a Flatten node the exporter adds.
	FlatIn(i int) string
	// Tensor is the initializer of the op's tensor i (Op.Tensors' order),
	// named as the package names it: conv1.weight.
	Tensor(i int) string
	// Const adds an initializer named layer.suffix (not a tensor of the
	// network: a dropout's ratio) and returns its name.
	Const(suffix string, dims []int64, data []float32) string
	// ConstInt64 is Const for int64 data (a Reshape's shape).
	ConstInt64(suffix string, dims []int64, data []int64) string
	// Node adds the layer's node, whose output is the layer's value.
	Node(opType string, inputs []string, attrs ...*onnx.Attr)
	// Step adds a node before the layer's own, for an op that opset 17
	// has no single node for (SiLU is x * Sigmoid(x)), named layer.1,
	// layer.2 ...; it returns the node's output.
	Step(opType string, inputs []string, attrs ...*onnx.Attr) string
	// Errorf reports that the layer has no ONNX equivalent.
	Errorf(format string, args ...any)
}

// Opset is the ONNX operator set the ops' descriptions are written for.
const Opset = 17

// window attributes: kernel_shape, strides, pads (begin and end).
func windowAttrs(kh, kw, sh, sw, ph, pw int) []*onnx.Attr {
	return []*onnx.Attr{
		onnx.IntsAttr("kernel_shape", int64(kh), int64(kw)),
		onnx.IntsAttr("strides", int64(sh), int64(sw)),
		onnx.IntsAttr("pads", int64(ph), int64(pw), int64(ph), int64(pw)),
	}
}
