// Package safetensors reads and writes the safetensors file format used to
// store network weights (https://github.com/huggingface/safetensors):
//
//	[8 bytes]  N, the header length, unsigned little-endian
//	[N bytes]  JSON header, '{' first, padded with spaces:
//	           {"__metadata__": {"k": "v", ...},
//	            "conv1.weight": {"dtype": "F32", "shape": [96, 3, 11, 11],
//	                             "data_offsets": [begin, end]}, ...}
//	[rest]     the tensors' raw little-endian bytes; offsets are relative
//	           to the start of this buffer
//
// Writing (Save, Encode) stores the tensors in the order given, F32 unless a
// tensor asks for F16, BF16 or F64, with the metadata keys sorted and the
// header padded to a multiple of 8 bytes: the same input always gives the
// same bytes. Save writes through WriteFileAtomic, so a crash or a full disk
// never leaves a half-written checkpoint in place of the old one.
//
// Reading (Load, Parse) validates the whole file before anything is used and
// returns an error, never a panic, for a header longer than the file, bad or
// duplicate JSON keys, unknown dtypes, shapes whose size overflows, offsets
// that are reversed, out of range, overlapping or leave gaps, and data sizes
// that do not match dtype and shape. F32, F64, F16, BF16, the integer types
// and BOOL are converted to float32 on the way out (Get, Fill); the F8 types
// are accepted in a file but cannot be converted.
//
// The generated network code uses LoadInto: it names every tensor the
// network expects with its shape, and gets one error listing each missing,
// unexpected or mismatching tensor, e.g.
//
//	conv1.weight: shape [96 3 11 11] in file, network wants [96 3 7 7]
//
// testdata/torch_ref.py writes torch_ref.safetensors from PyTorch tensors
// (read by TestTorchFile) and, with "check", reads go_written.safetensors
// (written by TestGoWrittenGolden) back with numpy; see that script.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Dtype is a safetensors element type, spelled as in the header.
type Dtype string

// The element types of the format. The empty Dtype means F32 when writing and
// "any convertible type" when used in a want list for Fill/LoadInto.
const (
	F64     Dtype = "F64"
	F32     Dtype = "F32"
	F16     Dtype = "F16"
	BF16    Dtype = "BF16"
	I64     Dtype = "I64"
	I32     Dtype = "I32"
	I16     Dtype = "I16"
	I8      Dtype = "I8"
	U64     Dtype = "U64"
	U32     Dtype = "U32"
	U16     Dtype = "U16"
	U8      Dtype = "U8"
	BOOL    Dtype = "BOOL"
	F8E4M3  Dtype = "F8_E4M3"
	F8E5M2  Dtype = "F8_E5M2"
	noDtype Dtype = ""
)

// MaxHeaderSize is the largest header accepted, as in the reference
// implementation (100 MB).
const MaxHeaderSize = 100_000_000

// Size returns the number of bytes of one element, or 0 for an unknown dtype.
func (d Dtype) Size() int {
	switch d {
	case F64, I64, U64:
		return 8
	case F32, I32, U32:
		return 4
	case F16, BF16, I16, U16:
		return 2
	case I8, U8, BOOL, F8E4M3, F8E5M2:
		return 1
	}
	return 0
}

// convertible reports whether values of d can be converted to float32.
func (d Dtype) convertible() bool { return d.Size() > 0 && d != F8E4M3 && d != F8E5M2 }

// Tensor is one named float32 tensor. Data has prod(Shape) elements in
// row-major (NCHW) order; a scalar has an empty Shape and one element.
// Dtype is the type stored in the file: empty means F32 when writing; in a
// want list for Fill/LoadInto empty accepts any convertible type.
type Tensor struct {
	Name  string
	Dtype Dtype
	Shape []int
	Data  []float32
}

// Info describes a tensor of a file without converting its data.
type Info struct {
	Name   string
	Dtype  Dtype
	Shape  []int
	Offset [2]int // begin, end within the data buffer
}

// File is a parsed and validated safetensors file held in memory.
type File struct {
	Meta  map[string]string // never nil
	infos []Info            // in data order (ascending offsets)
	index map[string]int
	data  []byte
}

// Load reads and validates the safetensors file at path.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse validates b as a safetensors file. The File keeps b (no copy).
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("safetensors: file is %d bytes, too short for the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("safetensors: header length %d is beyond the end of the file (%d bytes after the length)", n, len(b)-8)
	}
	hdr := b[8 : 8+n]
	data := b[8+n:]
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, errors.New("safetensors: header does not start with '{'")
	}
	if !utf8.Valid(hdr) {
		return nil, errors.New("safetensors: header is not valid UTF-8")
	}
	f := &File{Meta: map[string]string{}, index: map[string]int{}, data: data}
	if err := f.parseHeader(hdr); err != nil {
		return nil, err
	}
	if err := f.checkOffsets(); err != nil {
		return nil, err
	}
	return f, nil
}

type rawInfo struct {
	Dtype       *string       `json:"dtype"`
	Shape       []json.Number `json:"shape"`
	DataOffsets []json.Number `json:"data_offsets"`
}

func (f *File) parseHeader(hdr []byte) error {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '{', checked above
		return fmt.Errorf("safetensors: bad header JSON: %v", err)
	}
	seen := map[string]bool{}
	sawMeta := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("safetensors: bad header JSON: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return fmt.Errorf("safetensors: bad header JSON: key %v is not a string", tok)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("safetensors: bad header JSON at %q: %v", name, err)
		}
		if name == "__metadata__" {
			if sawMeta {
				return errors.New("safetensors: duplicate __metadata__ in header")
			}
			sawMeta = true
			if err := f.parseMeta(raw); err != nil {
				return err
			}
			continue
		}
		if seen[name] {
			return fmt.Errorf("safetensors: duplicate tensor name %q in header", name)
		}
		seen[name] = true
		info, err := parseInfo(name, raw)
		if err != nil {
			return err
		}
		f.infos = append(f.infos, info)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return fmt.Errorf("safetensors: bad header JSON: %v", err)
	}
	// Only whitespace (the padding) may follow the object.
	rest := hdr[dec.InputOffset():]
	if len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return errors.New("safetensors: bad header JSON: data after the header object")
	}
	return nil
}

func (f *File) parseMeta(raw json.RawMessage) error {
	if string(raw) == "null" { // as the reference implementation allows
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("safetensors: __metadata__ is not an object of strings")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("safetensors: bad __metadata__: %v", err)
		}
		k := tok.(string) // object keys are always strings
		tok, err = dec.Token()
		if err != nil {
			return fmt.Errorf("safetensors: bad __metadata__: %v", err)
		}
		v, ok := tok.(string)
		if !ok {
			return fmt.Errorf("safetensors: __metadata__ value of %q is not a string", k)
		}
		if _, dup := f.Meta[k]; dup {
			return fmt.Errorf("safetensors: duplicate __metadata__ key %q", k)
		}
		f.Meta[k] = v
	}
	return nil
}

// maxInt bounds element counts and byte sizes so that every product and sum
// below fits an int on 64-bit and 32-bit platforms alike.
const maxInt = int(^uint(0) >> 1)

func parseUint(s json.Number) (int, bool) {
	u, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil || u > uint64(maxInt) {
		return 0, false
	}
	return int(u), true
}

func parseInfo(name string, raw json.RawMessage) (Info, error) {
	var ri rawInfo
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ri); err != nil {
		return Info{}, fmt.Errorf("safetensors: %s: bad tensor entry: %v", name, err)
	}
	if ri.Dtype == nil || ri.Shape == nil || ri.DataOffsets == nil {
		return Info{}, fmt.Errorf("safetensors: %s: tensor entry needs dtype, shape and data_offsets", name)
	}
	info := Info{Name: name, Dtype: Dtype(*ri.Dtype), Shape: make([]int, len(ri.Shape))}
	if info.Dtype.Size() == 0 {
		return Info{}, fmt.Errorf("safetensors: %s: unknown dtype %q", name, *ri.Dtype)
	}
	elems := 1
	for i, s := range ri.Shape {
		d, ok := parseUint(s)
		if !ok {
			return Info{}, fmt.Errorf("safetensors: %s: shape entry %s is not a non-negative integer", name, s)
		}
		info.Shape[i] = d
		hi, lo := bits.Mul64(uint64(elems), uint64(d))
		if hi != 0 || lo > uint64(maxInt) {
			return Info{}, fmt.Errorf("safetensors: %s: shape %v has too many elements", name, ri.Shape)
		}
		elems = int(lo)
	}
	if hi, lo := bits.Mul64(uint64(elems), uint64(info.Dtype.Size())); hi != 0 || lo > uint64(maxInt) {
		return Info{}, fmt.Errorf("safetensors: %s: shape %v of %s is too large", name, ri.Shape, info.Dtype)
	}
	if len(ri.DataOffsets) != 2 {
		return Info{}, fmt.Errorf("safetensors: %s: data_offsets has %d entries, want 2", name, len(ri.DataOffsets))
	}
	for i, s := range ri.DataOffsets {
		v, ok := parseUint(s)
		if !ok {
			return Info{}, fmt.Errorf("safetensors: %s: data offset %s is not a non-negative integer", name, s)
		}
		info.Offset[i] = v
	}
	if info.Offset[1] < info.Offset[0] {
		return Info{}, fmt.Errorf("safetensors: %s: data_offsets [%d, %d] end before they begin", name, info.Offset[0], info.Offset[1])
	}
	if got, want := info.Offset[1]-info.Offset[0], elems*info.Dtype.Size(); got != want {
		return Info{}, fmt.Errorf("safetensors: %s: %d data bytes, but %s %v needs %d", name, got, info.Dtype, info.Shape, want)
	}
	return info, nil
}

// checkOffsets sorts the tensors by offset and checks that they tile the data
// buffer exactly: no overlap, no gap, nothing out of range or left over.
func (f *File) checkOffsets() error {
	sort.SliceStable(f.infos, func(i, j int) bool {
		a, b := f.infos[i].Offset, f.infos[j].Offset
		return a[0] < b[0] || a[0] == b[0] && a[1] < b[1]
	})
	end := 0
	for i, info := range f.infos {
		if info.Offset[1] > len(f.data) {
			return fmt.Errorf("safetensors: %s: data_offsets [%d, %d] beyond the %d data bytes of the file", info.Name, info.Offset[0], info.Offset[1], len(f.data))
		}
		if info.Offset[0] < end {
			return fmt.Errorf("safetensors: %s: data_offsets [%d, %d] overlap %s", info.Name, info.Offset[0], info.Offset[1], f.infos[i-1].Name)
		}
		if info.Offset[0] > end {
			return fmt.Errorf("safetensors: %s: data_offsets [%d, %d] leave a gap after byte %d", info.Name, info.Offset[0], info.Offset[1], end)
		}
		end = info.Offset[1]
		f.index[info.Name] = i
	}
	if end != len(f.data) {
		return fmt.Errorf("safetensors: tensors cover %d data bytes, file has %d", end, len(f.data))
	}
	return nil
}

// Names returns the tensor names in data order.
func (f *File) Names() []string {
	names := make([]string, len(f.infos))
	for i, info := range f.infos {
		names[i] = info.Name
	}
	return names
}

// Info returns the description of the named tensor.
func (f *File) Info(name string) (Info, bool) {
	i, ok := f.index[name]
	if !ok {
		return Info{}, false
	}
	info := f.infos[i]
	info.Shape = append([]int{}, info.Shape...)
	return info, true
}

// Get returns the named tensor converted to float32 (Dtype is the file's).
func (f *File) Get(name string) (Tensor, error) {
	i, ok := f.index[name]
	if !ok {
		return Tensor{}, fmt.Errorf("safetensors: no tensor %q in file", name)
	}
	info := f.infos[i]
	t := Tensor{Name: name, Dtype: info.Dtype, Shape: append([]int{}, info.Shape...)}
	t.Data = make([]float32, numElems(info.Shape))
	if err := f.decode(info, t.Data); err != nil {
		return Tensor{}, err
	}
	return t, nil
}

func (f *File) decode(info Info, dst []float32) error {
	if !info.Dtype.convertible() {
		return fmt.Errorf("safetensors: %s: dtype %s cannot be converted to float32", info.Name, info.Dtype)
	}
	decode(info.Dtype, f.data[info.Offset[0]:info.Offset[1]], dst)
	return nil
}

func numElems(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// MismatchError lists every way a file differs from what the network wants.
type MismatchError struct {
	Missing    []string // wanted, not in the file
	Unexpected []string // in the file, not wanted
	Mismatch   []string // "name: shape [..] in file, network wants [..]" and the like
}

func (e *MismatchError) Error() string {
	var lines []string
	lines = append(lines, e.Mismatch...)
	for _, n := range e.Missing {
		lines = append(lines, n+": missing from file")
	}
	for _, n := range e.Unexpected {
		lines = append(lines, n+": in file, not in network")
	}
	return "safetensors: file does not match the network:\n\t" + strings.Join(lines, "\n\t")
}

// Fill checks that the file holds exactly the tensors of want, with their
// shapes (and their dtypes where Dtype is set), and then converts each into
// want[i].Data, which must already have prod(Shape) elements. On any
// mismatch it returns a *MismatchError naming every offending tensor and
// writes nothing.
func (f *File) Fill(want []Tensor) error {
	e := &MismatchError{}
	wanted := map[string]bool{}
	for _, w := range want {
		if wanted[w.Name] {
			return fmt.Errorf("safetensors: %s: wanted twice", w.Name)
		}
		wanted[w.Name] = true
		if n := numElems(w.Shape); len(w.Data) != n {
			return fmt.Errorf("safetensors: %s: destination has %d elements, shape %v needs %d", w.Name, len(w.Data), w.Shape, n)
		}
		i, ok := f.index[w.Name]
		if !ok {
			e.Missing = append(e.Missing, w.Name)
			continue
		}
		info := f.infos[i]
		if !equalShape(info.Shape, w.Shape) {
			e.Mismatch = append(e.Mismatch, fmt.Sprintf("%s: shape %v in file, network wants %v", w.Name, info.Shape, w.Shape))
		}
		if w.Dtype != noDtype && w.Dtype != info.Dtype {
			e.Mismatch = append(e.Mismatch, fmt.Sprintf("%s: dtype %s in file, network wants %s", w.Name, info.Dtype, w.Dtype))
		} else if !info.Dtype.convertible() {
			e.Mismatch = append(e.Mismatch, fmt.Sprintf("%s: dtype %s in file cannot be converted to float32", w.Name, info.Dtype))
		}
	}
	for _, info := range f.infos {
		if !wanted[info.Name] {
			e.Unexpected = append(e.Unexpected, info.Name)
		}
	}
	if len(e.Missing)+len(e.Unexpected)+len(e.Mismatch) > 0 {
		return e
	}
	for _, w := range want {
		if err := f.decode(f.infos[f.index[w.Name]], w.Data); err != nil {
			return err
		}
	}
	return nil
}

// LoadInto loads the file at path into want (see Fill); errors name the file.
func LoadInto(path string, want []Tensor) error {
	f, err := Load(path)
	if err != nil {
		return err
	}
	if err := f.Fill(want); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Save writes tensors and metadata to path atomically (see WriteFileAtomic).
func Save(path string, tensors []Tensor, meta map[string]string) error {
	if err := check(tensors, meta); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteFileAtomic(path, func(w io.Writer) error { return Encode(w, tensors, meta) })
}

// Marshal returns the bytes of a safetensors file holding tensors, in the
// given order, and meta.
func Marshal(tensors []Tensor, meta map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	if err := Encode(&buf, tensors, meta); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func check(tensors []Tensor, meta map[string]string) error {
	seen := map[string]bool{}
	for _, t := range tensors {
		switch {
		case t.Name == "" || t.Name == "__metadata__" || !utf8Valid(t.Name):
			return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		case seen[t.Name]:
			return fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		seen[t.Name] = true
		switch t.Dtype {
		case noDtype, F32, F64, F16, BF16:
		default:
			return fmt.Errorf("safetensors: %s: cannot write dtype %q (F32, F64, F16 or BF16)", t.Name, t.Dtype)
		}
		n := 1
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("safetensors: %s: negative dimension in shape %v", t.Name, t.Shape)
			}
			hi, lo := bits.Mul64(uint64(n), uint64(d))
			if hi != 0 || lo > uint64(maxInt)/8 {
				return fmt.Errorf("safetensors: %s: shape %v is too large", t.Name, t.Shape)
			}
			n = int(lo)
		}
		if len(t.Data) != n {
			return fmt.Errorf("safetensors: %s: %d values, shape %v needs %d", t.Name, len(t.Data), t.Shape, n)
		}
	}
	for k, v := range meta {
		if !utf8Valid(k) || !utf8Valid(v) {
			return fmt.Errorf("safetensors: metadata %q is not valid UTF-8", k)
		}
	}
	return nil
}

// Encode writes a safetensors file holding tensors, in the given order, and
// meta to w. The header is padded with spaces to a multiple of 8 bytes so
// that the data starts aligned.
func Encode(w io.Writer, tensors []Tensor, meta map[string]string) error {
	if err := check(tensors, meta); err != nil {
		return err
	}
	var h bytes.Buffer
	h.WriteByte('{')
	first := true
	if len(meta) > 0 {
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		h.WriteString(`"__metadata__":{`)
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			h.WriteString(jsonString(k) + ":" + jsonString(meta[k]))
		}
		h.WriteByte('}')
		first = false
	}
	off := 0
	for _, t := range tensors {
		dt := t.Dtype
		if dt == noDtype {
			dt = F32
		}
		end := off + len(t.Data)*dt.Size()
		if !first {
			h.WriteByte(',')
		}
		first = false
		shape := make([]string, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = strconv.Itoa(d)
		}
		fmt.Fprintf(&h, `%s:{"dtype":"%s","shape":[%s],"data_offsets":[%d,%d]}`, jsonString(t.Name), dt, strings.Join(shape, ","), off, end)
		off = end
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(h.Len()))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(h.Bytes()); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, t := range tensors {
		dt := t.Dtype
		if dt == noDtype {
			dt = F32
		}
		for i := 0; i < len(t.Data); {
			buf = buf[:0]
			for ; i < len(t.Data) && len(buf)+8 <= cap(buf); i++ {
				buf = appendValue(buf, dt, t.Data[i])
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
	}
	return nil
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }

func appendValue(b []byte, dt Dtype, v float32) []byte {
	switch dt {
	case F64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(v)))
	case F16:
		return binary.LittleEndian.AppendUint16(b, Float32ToF16(v))
	case BF16:
		return binary.LittleEndian.AppendUint16(b, Float32ToBF16(v))
	}
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
}

func decode(dt Dtype, b []byte, dst []float32) {
	le := binary.LittleEndian
	switch dt {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case F64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
	case F16:
		for i := range dst {
			dst[i] = F16ToFloat32(le.Uint16(b[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16)
		}
	case I64:
		for i := range dst {
			dst[i] = float32(int64(le.Uint64(b[8*i:])))
		}
	case I32:
		for i := range dst {
			dst[i] = float32(int32(le.Uint32(b[4*i:])))
		}
	case I16:
		for i := range dst {
			dst[i] = float32(int16(le.Uint16(b[2*i:])))
		}
	case I8:
		for i := range dst {
			dst[i] = float32(int8(b[i]))
		}
	case U64:
		for i := range dst {
			dst[i] = float32(le.Uint64(b[8*i:]))
		}
	case U32:
		for i := range dst {
			dst[i] = float32(le.Uint32(b[4*i:]))
		}
	case U16:
		for i := range dst {
			dst[i] = float32(le.Uint16(b[2*i:]))
		}
	case U8:
		for i := range dst {
			dst[i] = float32(b[i])
		}
	case BOOL:
		for i := range dst {
			if b[i] != 0 {
				dst[i] = 1
			} else {
				dst[i] = 0
			}
		}
	}
}
