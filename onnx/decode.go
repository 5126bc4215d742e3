package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

// MaxDepth is how deep graphs may nest in attributes (If, Loop and Scan
// bodies) before Unmarshal refuses the file.
const MaxDepth = 32

// Load reads an ONNX model file.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Unmarshal decodes a model from ONNX's file format. An error names the
// byte offset and the path of the field it could not read, such as
// "offset 1234: graph.node[3].attribute[0]: ...".
func Unmarshal(data []byte) (*Model, error) {
	d := &dec{data: data}
	m := &Model{}
	d.fields(0, len(data), "model", func(num protowire.Number, typ protowire.Type, v val) {
		switch num {
		case 1:
			m.IRVersion = d.int(v, typ, "ir_version")
		case 2:
			m.ProducerName = d.str(v, typ, "producer_name")
		case 3:
			m.ProducerVersion = d.str(v, typ, "producer_version")
		case 4:
			m.Domain = d.str(v, typ, "domain")
		case 5:
			m.ModelVersion = d.int(v, typ, "model_version")
		case 6:
			m.Doc = d.str(v, typ, "doc_string")
		case 7:
			m.Graph = d.graph(v, typ, "graph", 0)
		case 8:
			var o Opset
			d.sub(v, typ, fmt.Sprintf("opset_import[%d]", len(m.Opsets)), func(num protowire.Number, typ protowire.Type, v val) {
				switch num {
				case 1:
					o.Domain = d.str(v, typ, "domain")
				case 2:
					o.Version = d.int(v, typ, "version")
				}
			})
			m.Opsets = append(m.Opsets, o)
		case 14:
			var kv KeyVal
			d.sub(v, typ, fmt.Sprintf("metadata_props[%d]", len(m.Metadata)), func(num protowire.Number, typ protowire.Type, v val) {
				switch num {
				case 1:
					kv.Key = d.str(v, typ, "key")
				case 2:
					kv.Value = d.str(v, typ, "value")
				}
			})
			m.Metadata = append(m.Metadata, kv)
		}
	})
	if d.err != nil {
		return nil, d.err
	}
	return m, nil
}

// dec walks the fields of nested messages, keeping the path of field
// names for errors; after the first error it reads nothing more.
type dec struct {
	data []byte
	path []string
	err  error
}

// val is one field's value: a varint, a fixed-size number, or the byte
// range [start, end) of a length-delimited field.
type val struct {
	n          uint64
	start, end int
}

func (d *dec) fail(at int, format string, args ...any) {
	if d.err != nil {
		return
	}
	p := ""
	for i, s := range d.path {
		if i > 0 {
			p += "."
		}
		p += s
	}
	d.err = fmt.Errorf("offset %d: %s: %s", at, p, fmt.Sprintf(format, args...))
}

// fields calls f for each field of the message in data[start:end].
func (d *dec) fields(start, end int, name string, f func(protowire.Number, protowire.Type, val)) {
	d.path = append(d.path, name)
	defer func() { d.path = d.path[:len(d.path)-1] }()
	for i := start; i < end && d.err == nil; {
		b := d.data[i:end]
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			d.fail(i, "bad field tag: %v", protowire.ParseError(n))
			return
		}
		at := i
		i += n
		b = d.data[i:end]
		v := val{start: at}
		switch typ {
		case protowire.VarintType:
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				d.fail(at, "field %d: %v", num, protowire.ParseError(n))
				return
			}
			v.n, i = x, i+n
		case protowire.Fixed32Type:
			x, n := protowire.ConsumeFixed32(b)
			if n < 0 {
				d.fail(at, "field %d: %v", num, protowire.ParseError(n))
				return
			}
			v.n, i = uint64(x), i+n
		case protowire.Fixed64Type:
			x, n := protowire.ConsumeFixed64(b)
			if n < 0 {
				d.fail(at, "field %d: %v", num, protowire.ParseError(n))
				return
			}
			v.n, i = x, i+n
		case protowire.BytesType:
			p, n := protowire.ConsumeBytes(b)
			if n < 0 {
				d.fail(at, "field %d: %v", num, protowire.ParseError(n))
				return
			}
			v.start, v.end = i+n-len(p), i+n
			i += n
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				d.fail(at, "field %d: %v", num, protowire.ParseError(n))
				return
			}
			i += n
			continue // groups: not in onnx.proto, skipped
		}
		f(num, typ, v)
	}
}

func (d *dec) want(v val, typ, want protowire.Type, name string) bool {
	if typ != want {
		d.fail(v.start, "%s: wire type %d, want %d", name, typ, want)
		return false
	}
	return true
}

func (d *dec) int(v val, typ protowire.Type, name string) int64 {
	if !d.want(v, typ, protowire.VarintType, name) {
		return 0
	}
	return int64(v.n)
}

func (d *dec) str(v val, typ protowire.Type, name string) string {
	if !d.want(v, typ, protowire.BytesType, name) {
		return ""
	}
	return string(d.data[v.start:v.end])
}

func (d *dec) bytes(v val, typ protowire.Type, name string) []byte {
	if !d.want(v, typ, protowire.BytesType, name) {
		return nil
	}
	return append([]byte{}, d.data[v.start:v.end]...)
}

func (d *dec) sub(v val, typ protowire.Type, name string, f func(protowire.Number, protowire.Type, val)) {
	if d.want(v, typ, protowire.BytesType, name) {
		d.fields(v.start, v.end, name, f)
	}
}

// varints reads a repeated varint field, packed or not.
func (d *dec) varints(v val, typ protowire.Type, name string, add func(uint64)) {
	switch typ {
	case protowire.VarintType:
		add(v.n)
	case protowire.BytesType:
		b := d.data[v.start:v.end]
		for len(b) > 0 {
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				d.fail(v.start, "%s: %v", name, protowire.ParseError(n))
				return
			}
			add(x)
			b = b[n:]
		}
	default:
		d.fail(v.start, "%s: wire type %d, want a varint or packed varints", name, typ)
	}
}

// floats reads a repeated float field, packed or not.
func (d *dec) floats(v val, typ protowire.Type, name string, add func(float32)) {
	switch typ {
	case protowire.Fixed32Type:
		add(math.Float32frombits(uint32(v.n)))
	case protowire.BytesType:
		b := d.data[v.start:v.end]
		if len(b)%4 != 0 {
			d.fail(v.start, "%s: %d bytes of packed floats, not a multiple of 4", name, len(b))
			return
		}
		for ; len(b) > 0; b = b[4:] {
			add(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		}
	default:
		d.fail(v.start, "%s: wire type %d, want floats", name, typ)
	}
}

func (d *dec) graph(v val, typ protowire.Type, name string, depth int) *Graph {
	if depth >= MaxDepth {
		d.fail(v.start, "%s: graphs nested more than %d deep", name, MaxDepth)
		return nil
	}
	g := &Graph{}
	d.sub(v, typ, name, func(num protowire.Number, typ protowire.Type, v val) {
		switch num {
		case 1:
			g.Nodes = append(g.Nodes, d.node(v, typ, fmt.Sprintf("node[%d]", len(g.Nodes)), depth))
		case 2:
			g.Name = d.str(v, typ, "name")
		case 5:
			g.Initializer = append(g.Initializer, d.tensor(v, typ, fmt.Sprintf("initializer[%d]", len(g.Initializer))))
		case 10:
			g.Doc = d.str(v, typ, "doc_string")
		case 11:
			g.Inputs = append(g.Inputs, d.valueInfo(v, typ, fmt.Sprintf("input[%d]", len(g.Inputs))))
		case 12:
			g.Outputs = append(g.Outputs, d.valueInfo(v, typ, fmt.Sprintf("output[%d]", len(g.Outputs))))
		case 13:
			g.ValueInfo = append(g.ValueInfo, d.valueInfo(v, typ, fmt.Sprintf("value_info[%d]", len(g.ValueInfo))))
		}
	})
	return g
}

func (d *dec) node(v val, typ protowire.Type, name string, depth int) *Node {
	n := &Node{}
	d.sub(v, typ, name, func(num protowire.Number, typ protowire.Type, v val) {
		switch num {
		case 1:
			n.Inputs = append(n.Inputs, d.str(v, typ, "input"))
		case 2:
			n.Outputs = append(n.Outputs, d.str(v, typ, "output"))
		case 3:
			n.Name = d.str(v, typ, "name")
		case 4:
			n.OpType = d.str(v, typ, "op_type")
		case 5:
			n.Attrs = append(n.Attrs, d.attr(v, typ, fmt.Sprintf("attribute[%d]", len(n.Attrs)), depth))
		case 6:
			n.Doc = d.str(v, typ, "doc_string")
		case 7:
			n.Domain = d.str(v, typ, "domain")
		}
	})
	return n
}

func (d *dec) attr(v val, typ protowire.Type, name string, depth int) *Attr {
	a := &Attr{}
	d.sub(v, typ, name, func(num protowire.Number, typ protowire.Type, v val) {
		switch num {
		case 1:
			a.Name = d.str(v, typ, "name")
		case 2:
			if d.want(v, typ, protowire.Fixed32Type, "f") {
				a.F = math.Float32frombits(uint32(v.n))
			}
		case 3:
			a.I = d.int(v, typ, "i")
		case 4:
			a.S = d.bytes(v, typ, "s")
		case 5:
			a.T = d.tensor(v, typ, "t")
		case 6:
			a.G = d.graph(v, typ, "g", depth+1)
		case 7:
			d.floats(v, typ, "floats", func(f float32) { a.Floats = append(a.Floats, f) })
		case 8:
			d.varints(v, typ, "ints", func(x uint64) { a.Ints = append(a.Ints, int64(x)) })
		case 9:
			a.Strings = append(a.Strings, d.bytes(v, typ, "strings"))
		case 11:
			d.graph(v, typ, "graphs", depth+1) // read for its errors, not kept
		case 13:
			a.Doc = d.str(v, typ, "doc_string")
		case 20:
			a.Type = AttrType(d.int(v, typ, "type"))
		}
	})
	return a
}

func (d *dec) tensor(v val, typ protowire.Type, name string) *Tensor {
	t := &Tensor{}
	d.sub(v, typ, name, func(num protowire.Number, typ protowire.Type, v val) {
		switch num {
		case 1:
			d.varints(v, typ, "dims", func(x uint64) { t.Dims = append(t.Dims, int64(x)) })
		case 2:
			t.DataType = DataType(d.int(v, typ, "data_type"))
		case 4:
			d.floats(v, typ, "float_data", func(f float32) { t.FloatData = append(t.FloatData, f) })
		case 5:
			d.varints(v, typ, "int32_data", func(x uint64) { t.Int32Data = append(t.Int32Data, int32(x)) })
		case 7:
			d.varints(v, typ, "int64_data", func(x uint64) { t.Int64Data = append(t.Int64Data, int64(x)) })
		case 8:
			t.Name = d.str(v, typ, "name")
		case 9:
			t.RawData = d.bytes(v, typ, "raw_data")
		case 12:
			t.Doc = d.str(v, typ, "doc_string")
		case 13:
			t.External = true
		case 14:
			if d.int(v, typ, "data_location") == 1 {
				t.External = true
			}
		}
	})
	return t
}

func (d *dec) valueInfo(v val, typ protowire.Type, name string) *ValueInfo {
	vi := &ValueInfo{}
	d.sub(v, typ, name, func(num protowire.Number, typ protowire.Type, v val) {
		switch num {
		case 1:
			vi.Name = d.str(v, typ, "name")
		case 2:
			d.sub(v, typ, "type", func(num protowire.Number, typ protowire.Type, v val) {
				if num != 1 { // sequence, map, optional ... types: left unknown
					return
				}
				d.sub(v, typ, "tensor_type", func(num protowire.Number, typ protowire.Type, v val) {
					switch num {
					case 1:
						vi.ElemType = DataType(d.int(v, typ, "elem_type"))
					case 2:
						vi.HasShape = true
						vi.Shape = []Dim{}
						d.sub(v, typ, "shape", func(num protowire.Number, typ protowire.Type, v val) {
							if num != 1 {
								return
							}
							var dim Dim
							d.sub(v, typ, fmt.Sprintf("dim[%d]", len(vi.Shape)), func(num protowire.Number, typ protowire.Type, v val) {
								switch num {
								case 1:
									dim.Value = d.int(v, typ, "dim_value")
								case 2:
									dim.Param = d.str(v, typ, "dim_param")
								}
							})
							vi.Shape = append(vi.Shape, dim)
						})
					}
				})
			})
		case 3:
			vi.Doc = d.str(v, typ, "doc_string")
		}
	})
	return vi
}

// Floats returns a float tensor's values, from its raw data or its
// float_data, checking their count against the dims.
func (t *Tensor) Floats() ([]float32, error) {
	if t.DataType != Float {
		return nil, fmt.Errorf("tensor %q: data type %d, not float32 (1)", t.Name, t.DataType)
	}
	if t.External {
		return nil, fmt.Errorf("tensor %q: its data is in an external file, which cnnc does not read", t.Name)
	}
	n, err := t.count()
	if err != nil {
		return nil, err
	}
	if t.RawData != nil {
		if int64(len(t.RawData)) != 4*n {
			return nil, fmt.Errorf("tensor %q: %d bytes of raw data for dims %v (%d floats)", t.Name, len(t.RawData), t.Dims, n)
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.RawData[4*i:]))
		}
		return out, nil
	}
	if int64(len(t.FloatData)) != n {
		return nil, fmt.Errorf("tensor %q: %d floats for dims %v (%d)", t.Name, len(t.FloatData), t.Dims, n)
	}
	return t.FloatData, nil
}

// count is the number of values the dims give, refused past 2^31.
func (t *Tensor) count() (int64, error) {
	n := int64(1)
	for _, d := range t.Dims {
		if d < 0 || (d > 0 && n > math.MaxInt32/d) {
			return 0, fmt.Errorf("tensor %q: dims %v are negative or too large", t.Name, t.Dims)
		}
		n *= d
	}
	return n, nil
}

// FloatTensor makes a float32 initializer with raw little-endian data.
func FloatTensor(name string, dims []int64, data []float32) *Tensor {
	raw := make([]byte, 4*len(data))
	for i, f := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	return &Tensor{Name: name, Dims: dims, DataType: Float, RawData: raw}
}

// Int64s returns an int64 tensor's values, from its raw data or its
// int64_data, checking their count against the dims.
func (t *Tensor) Int64s() ([]int64, error) {
	if t.DataType != Int64 {
		return nil, fmt.Errorf("tensor %q: data type %d, not int64 (7)", t.Name, t.DataType)
	}
	n, err := t.count()
	if err != nil {
		return nil, err
	}
	if t.RawData != nil {
		if int64(len(t.RawData)) != 8*n {
			return nil, fmt.Errorf("tensor %q: %d bytes of raw data for dims %v (%d int64s)", t.Name, len(t.RawData), t.Dims, n)
		}
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(t.RawData[8*i:]))
		}
		return out, nil
	}
	if int64(len(t.Int64Data)) != n {
		return nil, fmt.Errorf("tensor %q: %d int64s for dims %v (%d)", t.Name, len(t.Int64Data), t.Dims, n)
	}
	return t.Int64Data, nil
}

// UnmarshalTensor decodes one TensorProto, the format of ONNX's test
// data (test_data_set_*/input_*.pb).
func UnmarshalTensor(data []byte) (*Tensor, error) {
	d := &dec{data: data}
	v := val{start: 0, end: len(data)}
	t := d.tensor(v, protowire.BytesType, "tensor")
	if d.err != nil {
		return nil, d.err
	}
	return t, nil
}
