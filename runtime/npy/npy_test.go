package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// npyFile is a .npy file with a hand-made header (version 1.0, unpadded).
func npyFile(header string, data []byte) []byte {
	b := []byte(magic + "\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	return append(append(b, header...), data...)
}

func f32bytes(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b, _ = binary.Append(b, binary.LittleEndian, v)
	}
	return b
}

// TestNumpyFiles reads the files numpy wrote (testdata/gen.py).
func TestNumpyFiles(t *testing.T) {
	a23 := []float32{-0.5, -0.25, 0, 0.25, 0.5, 0.75}
	for _, c := range []struct {
		file  string
		shape []int
		data  []float32
	}{
		{"f4_2x3.npy", []int{2, 3}, a23},
		{"f4_2x3_v2.npy", []int{2, 3}, a23},
		{"f4_2x3_v3.npy", []int{2, 3}, a23},
		{"f8_1x1x2x2.npy", []int{1, 1, 2, 2}, []float32{0, float32(1.0 / 3), float32(2.0 / 3), 1}},
		{"f4_scalar.npy", []int{}, []float32{2.5}},
		{"f4_empty.npy", []int{0, 3}, []float32{}},
		{"f4_vector.npy", []int{3}, []float32{1, -2, 3.5}},
	} {
		a, err := ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if !reflect.DeepEqual(a.Shape, c.shape) || !reflect.DeepEqual(a.Data, c.data) {
			t.Errorf("%s: got %v %v, want %v %v", c.file, a.Shape, a.Data, c.shape, c.data)
		}
	}
}

// TestRefused: numpy's files of other dtypes and orders, and hand-made
// broken ones, give an error that says what is wrong and where.
func TestRefused(t *testing.T) {
	for file, want := range map[string]string{
		"fortran.npy":   "testdata/fortran.npy: byte 10: header \"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\": Fortran order: want C order",
		"bigendian.npy": "dtype >f4 is big-endian",
		"int32.npy":     "dtype <i4: want float32 (<f4) or float64 (<f8)",
		"f2.npy":        "dtype <f2: want float32",
		"missing.npy":   "no such file",
	} {
		_, err := ReadFile(filepath.Join("testdata", file))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", file, err, want)
		}
	}
	good := npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", f32bytes(1, 2))
	long := append([]byte(magic+"\x02\x00"), 0, 0, 2, 0) // a 128 KiB header
	long = append(long, make([]byte, 1<<17)...)
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "byte 0: 0 bytes: too short"},
		{"not npy", []byte("PK\x03\x04 a zip file, not npy"), "byte 0: no .npy magic string"},
		{"version", append([]byte(magic+"\x04\x00"), good[8:]...), "byte 6: format version 4.0"},
		{"minor", append([]byte(magic+"\x01\x01"), good[8:]...), "byte 7: format version 1.1"},
		{"header too long", long, "byte 8: header of 131072 bytes, more than the limit of 65536"},
		{"header truncated", good[:40], "byte 10: header of 58 bytes, but the file has only 30 bytes"},
		{"data truncated", good[:len(good)-1], "byte 68: shape [2] of <f4 needs 8 bytes of data, the file has 7 after the header (truncated)"},
		{"extra data", append(good[:len(good):len(good)], 0), "the file has 9 after the header (extra bytes after the array)"},
		{"one-tuple", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", f32bytes(1, 2)), "a one-element tuple needs a comma"},
		{"no shape", npyFile("{'descr': '<f4', 'fortran_order': False}", nil), `no "shape" key`},
		{"extra key", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", f32bytes(1)), `unknown key "x"`},
		{"twice", npyFile("{'descr': '<f4', 'descr': '<f4'}", nil), `key "descr" twice`},
		{"negative", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", nil), "want a non-negative integer"},
		{"huge", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647)}", nil), "too many elements"},
		{"too big for the file", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,)}", nil), "needs 4000000000 bytes of data, the file has 0"},
		{"dims", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': ("+strings.Repeat("1,", 33)+")}", nil), "more than 32 dimensions"},
		{"not a dict", npyFile("[1, 2]", nil), "want '{'"},
		{"trailing", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': ()} x", f32bytes(1)), "text after the dictionary"},
		{"non-ascii", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': ()} \xe9", f32bytes(1)), "outside ASCII"},
	} {
		_, err := Read(bytes.NewReader(c.b), int64(len(c.b)))
		var e *Error
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &e) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// TestWrite: what Write writes is what numpy's np.save writes, byte for
// byte, and reads back.
func TestWrite(t *testing.T) {
	want, err := os.ReadFile("testdata/f4_2x3.npy")
	if err != nil {
		t.Fatal(err)
	}
	a := &Array{Shape: []int{2, 3}, Data: []float32{-0.5, -0.25, 0, 0.25, 0.5, 0.75}}
	var b bytes.Buffer
	if err := Write(&b, a); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("Write:\n%q\nnp.save:\n%q", b.Bytes(), want)
	}
	for _, shape := range [][]int{{}, {3}, {0, 3}, {1, 1, 2, 2}, {2, 70000}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		a := &Array{Shape: shape, Data: make([]float32, n)}
		for i := range a.Data {
			a.Data[i] = float32(i) / 7
		}
		path := filepath.Join(t.TempDir(), "a.npy")
		if err := WriteFile(path, a); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, a) {
			t.Errorf("shape %v: round trip changed the array", shape)
		}
		st, _ := os.Stat(path)
		if (st.Size()-4*int64(n))%64 != 0 {
			t.Errorf("shape %v: data at %d, not a multiple of 64", shape, st.Size()-4*int64(n))
		}
	}
	if err := Write(&b, &Array{Shape: []int{2, 2}, Data: make([]float32, 3)}); err == nil {
		t.Error("Write of a shape that does not match the data: no error")
	}
}

// TestStat: the header alone, with the size check.
func TestStat(t *testing.T) {
	info, err := Stat("testdata/f8_1x1x2x2.npy")
	if err != nil || !reflect.DeepEqual(info, Info{Shape: []int{1, 1, 2, 2}, Dtype: "<f8"}) {
		t.Errorf("Stat: %+v, %v", info, err)
	}
	b, _ := os.ReadFile("testdata/f4_2x3.npy")
	path := filepath.Join(t.TempDir(), "t.npy")
	os.WriteFile(path, b[:len(b)-4], 0o644)
	if _, err := Stat(path); err == nil || !strings.Contains(err.Error(), "(truncated)") {
		t.Errorf("Stat of a truncated file: %v", err)
	}
	if _, err := Stat("testdata/int32.npy"); err == nil {
		t.Error("Stat of an int32 file: no error")
	}
}
