package onnx

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Marshal encodes the model in ONNX's file format. The output depends only
// on the model: fields are written in field-number order, none is
// omitted by chance.
func (m *Model) Marshal() []byte {
	var b enc
	b.int(1, m.IRVersion)
	b.str(2, m.ProducerName)
	b.str(3, m.ProducerVersion)
	b.str(4, m.Domain)
	b.int(5, m.ModelVersion)
	b.str(6, m.Doc)
	if m.Graph != nil {
		b.msg(7, m.Graph.marshal())
	}
	for _, o := range m.Opsets {
		var e enc
		e.str(1, o.Domain)
		e.intAlways(2, o.Version)
		b.msg(8, e)
	}
	for _, kv := range m.Metadata {
		var e enc
		e.str(1, kv.Key)
		e.str(2, kv.Value)
		b.msg(14, e)
	}
	return b
}

func (g *Graph) marshal() enc {
	var b enc
	for _, n := range g.Nodes {
		b.msg(1, n.marshal())
	}
	b.str(2, g.Name)
	for _, t := range g.Initializer {
		b.msg(5, t.marshal())
	}
	b.str(10, g.Doc)
	for _, vs := range []struct {
		num protowire.Number
		vis []*ValueInfo
	}{{11, g.Inputs}, {12, g.Outputs}, {13, g.ValueInfo}} {
		for _, v := range vs.vis {
			b.msg(vs.num, v.marshal())
		}
	}
	return b
}

func (n *Node) marshal() enc {
	var b enc
	for _, s := range n.Inputs {
		b.strAlways(1, s) // an empty input name is meaningful: an optional input left out
	}
	for _, s := range n.Outputs {
		b.strAlways(2, s)
	}
	b.str(3, n.Name)
	b.str(4, n.OpType)
	for _, a := range n.Attrs {
		b.msg(5, a.marshal())
	}
	b.str(6, n.Doc)
	b.str(7, n.Domain)
	return b
}

func (a *Attr) marshal() enc {
	var b enc
	b.str(1, a.Name)
	switch a.Type {
	case AttrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case AttrInt:
		b.intAlways(3, a.I)
	case AttrString:
		b.bytes(4, a.S)
	case AttrTensor:
		if a.T != nil {
			b.msg(5, a.T.marshal())
		}
	case AttrGraph:
		if a.G != nil {
			b.msg(6, a.G.marshal())
		}
	case AttrFloats:
		var p enc
		for _, f := range a.Floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b.bytes(7, p)
	case AttrInts:
		var p enc
		for _, i := range a.Ints {
			p = protowire.AppendVarint(p, uint64(i))
		}
		b.bytes(8, p)
	case AttrStrings:
		for _, s := range a.Strings {
			b = protowire.AppendTag(b, 9, protowire.BytesType)
			b = protowire.AppendBytes(b, s)
		}
	}
	b.str(13, a.Doc)
	b.intAlways(20, int64(a.Type))
	return b
}

func (t *Tensor) marshal() enc {
	var b enc
	if len(t.Dims) > 0 {
		var p enc
		for _, d := range t.Dims {
			p = protowire.AppendVarint(p, uint64(d))
		}
		b.bytes(1, p)
	}
	b.intAlways(2, int64(t.DataType))
	if len(t.FloatData) > 0 {
		var p enc
		for _, f := range t.FloatData {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b.bytes(4, p)
	}
	if len(t.Int32Data) > 0 {
		var p enc
		for _, i := range t.Int32Data {
			p = protowire.AppendVarint(p, uint64(int64(i)))
		}
		b.bytes(5, p)
	}
	if len(t.Int64Data) > 0 {
		var p enc
		for _, i := range t.Int64Data {
			p = protowire.AppendVarint(p, uint64(i))
		}
		b.bytes(7, p)
	}
	b.str(8, t.Name)
	if t.RawData != nil {
		b = protowire.AppendTag(b, 9, protowire.BytesType)
		b = protowire.AppendBytes(b, t.RawData)
	}
	b.str(12, t.Doc)
	return b
}

func (v *ValueInfo) marshal() enc {
	var b enc
	b.str(1, v.Name)
	var tensor enc
	tensor.intAlways(1, int64(v.ElemType))
	if v.HasShape || v.Shape != nil {
		var shape enc
		for _, d := range v.Shape {
			var dim enc
			if d.Param != "" {
				dim.strAlways(2, d.Param)
			} else {
				dim.intAlways(1, d.Value)
			}
			shape.msg(1, dim)
		}
		tensor.msg(2, shape)
	}
	var typ enc
	typ.msg(1, tensor)
	b.msg(2, typ)
	b.str(3, v.Doc)
	return b
}

// enc is a message being encoded. Its int, str and bytes leave out a
// field at its zero value, as proto3 does; the ...Always ones and msg do
// not.
type enc []byte

func (b *enc) int(num protowire.Number, v int64) {
	if v != 0 {
		b.intAlways(num, v)
	}
}

func (b *enc) intAlways(num protowire.Number, v int64) {
	*b = protowire.AppendTag(*b, num, protowire.VarintType)
	*b = protowire.AppendVarint(*b, uint64(v))
}

func (b *enc) str(num protowire.Number, s string) {
	if s != "" {
		b.strAlways(num, s)
	}
}

func (b *enc) strAlways(num protowire.Number, s string) {
	*b = protowire.AppendTag(*b, num, protowire.BytesType)
	*b = protowire.AppendString(*b, s)
}

func (b *enc) bytes(num protowire.Number, p []byte) {
	if len(p) > 0 {
		*b = protowire.AppendTag(*b, num, protowire.BytesType)
		*b = protowire.AppendBytes(*b, p)
	}
}

func (b *enc) msg(num protowire.Number, m enc) {
	*b = protowire.AppendTag(*b, num, protowire.BytesType)
	*b = protowire.AppendBytes(*b, m)
}
