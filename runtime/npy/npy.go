// Package npy reads and writes NumPy's .npy files (format versions 1.0, 2.0
// and 3.0) holding float32 arrays, little-endian, in C order: the input and
// output files of cnnc infer.
//
// Read also accepts float64 ('<f8') data and converts it to float32. It
// refuses, with an error naming the file and the byte offset, every other
// dtype, big-endian data, Fortran order, a header longer than MaxHeader,
// more than MaxDims dimensions, and data whose size does not match the
// shape (a truncated file, or bytes after the array). It never allocates
// more than the file's size justifies: the data's size is checked against
// the file's before anything is allocated.
package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

// Limits of Read.
const (
	MaxHeader = 1 << 16 // bytes of the header dictionary (numpy's own reader allows 10,000)
	MaxDims   = 32      // numpy's limit is 64
)

// magic starts every .npy file.
const magic = "\x93NUMPY"

// Array is an n-dimensional float32 array in C order: len(Data) is the
// product of Shape (1 for a 0-d array).
type Array struct {
	Shape []int
	Data  []float32
}

// Error is an error of Read, at a byte offset of the file.
type Error struct {
	Name   string // the file's name, or "" for a reader
	Offset int64
	Msg    string
}

func (e *Error) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("npy: byte %d: %s", e.Offset, e.Msg)
	}
	return fmt.Sprintf("%s: byte %d: %s", e.Name, e.Offset, e.Msg)
}

// ReadFile reads the .npy file at path.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	a, err := read(path, bufio.NewReaderSize(f, 1<<16), st.Size())
	var e *Error
	if errors.As(err, &e) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Read reads a .npy array of size bytes from r; size bounds every
// allocation and must be the array's exact size in bytes.
func Read(r io.Reader, size int64) (*Array, error) {
	return read("", r, size)
}

// Info is what a .npy file's header says: the shape and dtype of its
// array ("<f4" or "<f8").
type Info struct {
	Shape []int
	Dtype string
}

// Stat reads and checks the header of the .npy file at path, and that the
// file's size matches it, without reading the data: what ReadFile would
// refuse, Stat refuses (but for a read error in the data).
func Stat(path string) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	if !st.Mode().IsRegular() {
		return Info{}, fmt.Errorf("%s: not a regular file", path)
	}
	h, _, _, err := readHeader(path, bufio.NewReader(f), st.Size())
	return Info{Shape: h.shape, Dtype: h.descr}, err
}

func read(name string, r io.Reader, size int64) (*Array, error) {
	h, start, elems, err := readHeader(name, r, size)
	if err != nil {
		return nil, err
	}
	bad := func(off int64, format string, args ...any) error {
		return &Error{Name: name, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	a := &Array{Shape: h.shape, Data: make([]float32, elems)}
	buf := make([]byte, min(1<<16, elems*int64(h.width)))
	for i := int64(0); i < elems; {
		n := min(int64(len(buf))/int64(h.width), elems-i)
		if _, err := io.ReadFull(r, buf[:n*int64(h.width)]); err != nil {
			return nil, bad(start+i*int64(h.width), "reading the data: %v", err)
		}
		for j := int64(0); j < n; j++ {
			if h.width == 4 {
				a.Data[i+j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
			} else {
				a.Data[i+j] = float32(math.Float64frombits(binary.LittleEndian.Uint64(buf[8*j:])))
			}
		}
		i += n
	}
	return a, nil
}

// readHeader reads and checks the magic, the version and the header of a
// file of size bytes, and that the data's size matches the header; it
// returns the header, the data's offset and its number of elements.
func readHeader(name string, r io.Reader, size int64) (header, int64, int64, error) {
	bad := func(off int64, format string, args ...any) error {
		return &Error{Name: name, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	var pre [10]byte
	if size < 10 {
		return header{}, 0, 0, bad(0, "%d bytes: too short for a .npy file (not a .npy file?)", size)
	}
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return header{}, 0, 0, bad(0, "reading the magic: %v", err)
	}
	if string(pre[:6]) != magic {
		return header{}, 0, 0, bad(0, "no .npy magic string (\\x93NUMPY): not a .npy file")
	}
	major, minor := pre[6], pre[7]
	var hlen, off int64
	switch major {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return header{}, 0, 0, bad(8, "reading the header length: %v", err)
		}
		hlen, off = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return header{}, 0, 0, bad(8, "reading the header length: %v", err)
		}
		hlen, off = int64(binary.LittleEndian.Uint32(l[:])), 12
	default:
		return header{}, 0, 0, bad(6, "format version %d.%d: want 1.0, 2.0 or 3.0", major, minor)
	}
	if minor != 0 {
		return header{}, 0, 0, bad(7, "format version %d.%d: want 1.0, 2.0 or 3.0", major, minor)
	}
	if hlen > MaxHeader {
		return header{}, 0, 0, bad(8, "header of %d bytes, more than the limit of %d", hlen, MaxHeader)
	}
	if off+hlen > size {
		return header{}, 0, 0, bad(off, "header of %d bytes, but the file has only %d bytes after byte %d (truncated?)", hlen, size-off, off)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return header{}, 0, 0, bad(off, "reading the header: %v", err)
	}
	h, err := parseHeader(string(hdr), major == 3)
	if err != nil {
		return header{}, 0, 0, bad(off, "header %q: %v", strings.TrimRight(string(hdr), " \n"), err)
	}
	start := off + hlen
	elems := int64(1)
	for _, d := range h.shape {
		if d != 0 && elems > math.MaxInt64/8/int64(d) {
			return h, 0, 0, bad(off, "shape %v: too many elements", h.shape)
		}
		elems *= int64(d)
	}
	if want := elems * int64(h.width); size-start != want {
		what := "truncated"
		if size-start > want {
			what = "extra bytes after the array"
		}
		return h, 0, 0, bad(start, "shape %v of %s needs %d bytes of data, the file has %d after the header (%s)", h.shape, h.descr, want, size-start, what)
	}
	return h, start, elems, nil
}

// header is the parsed header dictionary.
type header struct {
	descr string
	width int // bytes per element: 4 or 8
	shape []int
}

// parseHeader parses the header: a Python dict literal with the keys
// 'descr', 'fortran_order' and 'shape', and nothing else.
func parseHeader(s string, utf8 bool) (header, error) {
	var h header
	if !utf8 {
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return h, fmt.Errorf("a byte %#x outside ASCII in a version 1 or 2 header", s[i])
			}
		}
	}
	p := &parser{s: s}
	if !p.eat('{') {
		return h, p.errorf("want '{'")
	}
	seen := map[string]bool{}
	fortran := false
	for !p.eat('}') {
		key, err := p.str()
		if err != nil {
			return h, err
		}
		if seen[key] {
			return h, fmt.Errorf("key %q twice", key)
		}
		seen[key] = true
		if !p.eat(':') {
			return h, p.errorf("want ':' after %q", key)
		}
		switch key {
		case "descr":
			if h.descr, err = p.str(); err != nil {
				return h, err
			}
		case "fortran_order":
			switch {
			case p.word("False"):
			case p.word("True"):
				fortran = true
			default:
				return h, p.errorf("fortran_order: want True or False")
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return h, err
			}
		default:
			return h, fmt.Errorf("unknown key %q: want only 'descr', 'fortran_order' and 'shape'", key)
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return h, p.errorf("want ',' or '}'")
			}
			break
		}
	}
	p.space()
	if p.i != len(p.s) {
		return h, p.errorf("text after the dictionary")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("no %q key", k)
		}
	}
	switch h.descr {
	case "<f4":
		h.width = 4
	case "<f8":
		h.width = 8
	case ">f4", ">f8":
		return h, fmt.Errorf("dtype %s is big-endian: want little-endian float32 (<f4) or float64 (<f8); in numpy, a.astype('<f4')", h.descr)
	default:
		return h, fmt.Errorf("dtype %s: want float32 (<f4) or float64 (<f8); in numpy, a.astype(np.float32)", h.descr)
	}
	if fortran && len(h.shape) > 1 {
		return h, fmt.Errorf("Fortran order: want C order; in numpy, np.ascontiguousarray(a)")
	}
	return h, nil
}

// parser reads a Python literal.
type parser struct {
	s string
	i int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("at column %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\t' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *parser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) word(w string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str reads a quoted string without escapes.
func (p *parser) str() (string, error) {
	p.space()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", p.errorf("want a quoted string")
	}
	q := p.s[p.i]
	j := strings.IndexByte(p.s[p.i+1:], q)
	if j < 0 {
		return "", p.errorf("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+j]
	if strings.ContainsRune(v, '\\') {
		return "", p.errorf("escapes in a string")
	}
	p.i += j + 2
	return v, nil
}

// tuple reads a tuple of non-negative ints: (), (3,), (2, 3).
func (p *parser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, p.errorf("shape: want a tuple")
	}
	shape := []int{}
	comma := false
	for !p.eat(')') {
		p.space()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i {
			return nil, p.errorf("shape: want a non-negative integer")
		}
		d, err := strconv.Atoi(p.s[p.i:j])
		if err != nil || d > math.MaxInt32 {
			return nil, p.errorf("shape: dimension %s too large", p.s[p.i:j])
		}
		p.i = j
		shape = append(shape, d)
		if len(shape) > MaxDims {
			return nil, p.errorf("shape: more than %d dimensions", MaxDims)
		}
		if comma = p.eat(','); !comma {
			if !p.eat(')') {
				return nil, p.errorf("shape: want ',' or ')'")
			}
			break
		}
	}
	if len(shape) == 1 && !comma {
		return nil, p.errorf("shape: a one-element tuple needs a comma, (%d,)", shape[0])
	}
	return shape, nil
}

// Write writes a as a .npy file (version 1.0, float32 little-endian, C
// order) to w.
func Write(w io.Writer, a *Array) error {
	elems := 1
	for _, d := range a.Shape {
		if d < 0 {
			return fmt.Errorf("npy: shape %v has a negative dimension", a.Shape)
		}
		elems *= d
	}
	if elems != len(a.Data) {
		return fmt.Errorf("npy: shape %v holds %d values, the data has %d", a.Shape, elems, len(a.Data))
	}
	dims := make([]string, len(a.Shape))
	for i, d := range a.Shape {
		dims[i] = strconv.Itoa(d)
	}
	shape := "(" + strings.Join(dims, ", ") + ")"
	if len(dims) == 1 {
		shape = "(" + dims[0] + ",)"
	}
	h := "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }"
	// numpy pads the header with spaces so that the data starts at a
	// multiple of 64 bytes, and ends it with a newline.
	pad := 63 - (10+len(h)+1+63)%64
	h += strings.Repeat(" ", pad) + "\n"
	if len(h) > math.MaxUint16 {
		return fmt.Errorf("npy: shape %v: header too long", a.Shape)
	}
	b := make([]byte, 10, 10+len(h)+4*len(a.Data))
	copy(b, magic+"\x01\x00")
	binary.LittleEndian.PutUint16(b[8:], uint16(len(h)))
	b = append(b, h...)
	if _, err := w.Write(b); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, v := range a.Data {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

// WriteFile writes a to path atomically (safetensors.WriteFileAtomic): the
// file is replaced whole or left as it was.
func WriteFile(path string, a *Array) error {
	return safetensors.WriteFileAtomic(path, func(w io.Writer) error { return Write(w, a) })
}
