// Package onnx reads and writes ONNX model files: the part of ONNX's
// protocol buffer schema (onnx.proto, IR version 8) that a convolutional
// network needs: the model, its graph, nodes with their attributes,
// initializers (tensors) and the typed inputs and outputs. Fields it does
// not know are skipped when reading, as protocol buffers allow; training
// info, functions, sparse tensors and external data are not read.
//
// The encoding is protocol buffers' wire format through
// google.golang.org/protobuf/encoding/protowire, with the field numbers of
// onnx.proto written down once, in this file.
package onnx

// IRVersion is the IR version the writer stamps (ONNX 1.12's, opset 17).
const IRVersion = 8

// Model is ONNX's ModelProto.
type Model struct {
	IRVersion       int64    // 1
	Opsets          []Opset  // 8
	ProducerName    string   // 2
	ProducerVersion string   // 3
	Domain          string   // 4
	ModelVersion    int64    // 5
	Doc             string   // 6
	Graph           *Graph   // 7
	Metadata        []KeyVal // 14
}

// Opset is OperatorSetIdProto: an operator set the model uses ("" is the
// default domain, ai.onnx).
type Opset struct {
	Domain  string // 1
	Version int64  // 2
}

// KeyVal is StringStringEntryProto.
type KeyVal struct{ Key, Value string } // 1, 2

// Graph is GraphProto.
type Graph struct {
	Nodes       []*Node      // 1
	Name        string       // 2
	Initializer []*Tensor    // 5
	Doc         string       // 10
	Inputs      []*ValueInfo // 11
	Outputs     []*ValueInfo // 12
	ValueInfo   []*ValueInfo // 13
}

// Node is NodeProto: one operator call.
type Node struct {
	Inputs  []string // 1
	Outputs []string // 2
	Name    string   // 3
	OpType  string   // 4
	Attrs   []*Attr  // 5
	Doc     string   // 6
	Domain  string   // 7
}

// Attr is AttributeProto. Type says which of the value fields is set.
type Attr struct {
	Name    string    // 1
	Type    AttrType  // 20
	F       float32   // 2
	I       int64     // 3
	S       []byte    // 4
	T       *Tensor   // 5
	G       *Graph    // 6
	Floats  []float32 // 7
	Ints    []int64   // 8
	Strings [][]byte  // 9
	Doc     string    // 13
}

// AttrType is AttributeProto.AttributeType.
type AttrType int32

// The attribute types the package reads and writes.
const (
	AttrFloat   AttrType = 1
	AttrInt     AttrType = 2
	AttrString  AttrType = 3
	AttrTensor  AttrType = 4
	AttrGraph   AttrType = 5
	AttrFloats  AttrType = 6
	AttrInts    AttrType = 7
	AttrStrings AttrType = 8
)

// Tensor is TensorProto. The writer stores float32 data as raw
// little-endian bytes (RawData); the reader accepts raw data or the typed
// fields.
type Tensor struct {
	Dims      []int64   // 1
	DataType  DataType  // 2
	FloatData []float32 // 4
	Int32Data []int32   // 5
	Int64Data []int64   // 7
	Name      string    // 8
	RawData   []byte    // 9
	Doc       string    // 12
	External  bool      // 13 or 14: the data is in another file
}

// DataType is TensorProto.DataType.
type DataType int32

// The element types the package names.
const (
	Float  DataType = 1
	Uint8  DataType = 2
	Int8   DataType = 3
	Int32  DataType = 6
	Int64  DataType = 7
	Bool   DataType = 9
	Double DataType = 11
)

// ValueInfo is ValueInfoProto for a tensor value: its name, element type
// and shape, where a dimension is a number (Dim.Value) or a symbol
// (Dim.Param, such as "N" for the batch).
type ValueInfo struct {
	Name     string   // 1
	ElemType DataType // 2.1.1 (type.tensor_type.elem_type)
	Shape    []Dim    // 2.1.2 (type.tensor_type.shape), nil when unknown
	HasShape bool
	Doc      string // 3
}

// Dim is TensorShapeProto.Dimension.
type Dim struct {
	Value int64  // 1
	Param string // 2
}

// AttrInt returns the node's integer attribute name, or def.
func (n *Node) AttrInt(name string, def int64) int64 {
	if a := n.Attr(name); a != nil && a.Type == AttrInt {
		return a.I
	}
	return def
}

// AttrInts returns the node's integer list attribute name, or def.
func (n *Node) AttrInts(name string, def ...int64) []int64 {
	if a := n.Attr(name); a != nil && a.Type == AttrInts {
		return a.Ints
	}
	return def
}

// AttrFloat returns the node's float attribute name, or def.
func (n *Node) AttrFloat(name string, def float32) float32 {
	if a := n.Attr(name); a != nil && a.Type == AttrFloat {
		return a.F
	}
	return def
}

// Attr returns the node's attribute name, or nil.
func (n *Node) Attr(name string) *Attr {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// IntAttr, IntsAttr and FloatAttr make attributes.
func IntAttr(name string, v int64) *Attr { return &Attr{Name: name, Type: AttrInt, I: v} }

// IntsAttr makes an attribute of type INTS.
func IntsAttr(name string, v ...int64) *Attr { return &Attr{Name: name, Type: AttrInts, Ints: v} }

// FloatAttr makes an attribute of type FLOAT.
func FloatAttr(name string, v float32) *Attr { return &Attr{Name: name, Type: AttrFloat, F: v} }
