package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/go_written.safetensors")

// recipe returns the tensors of go_written.safetensors; torch_ref.py check
// recomputes the same values with numpy.
func recipe() []Tensor {
	a := make([]float32, 24)
	for i := range a {
		a[i] = float32((i*37)%101-50) / 16
	}
	third := make([]float32, 64)
	for i := range third {
		third[i] = float32(i-32) / float32(3) * float32(math.Ldexp(1, (i%9)*4-20))
	}
	special := []float32{65504, 65519, 65520, 1e-8, 2.98e-8, 6.1e-5, float32(math.Copysign(0, -1)),
		float32(math.Inf(1)), float32(math.Inf(-1)), 3e38}
	return []Tensor{
		{Name: "a", Shape: []int{2, 3, 4}, Data: a},
		{Name: "third.f64", Dtype: F64, Shape: []int{64}, Data: third},
		{Name: "third.f16", Dtype: F16, Shape: []int{64}, Data: third},
		{Name: "third.bf16", Dtype: BF16, Shape: []int{64}, Data: third},
		{Name: "special.f16", Dtype: F16, Shape: []int{10}, Data: special},
		{Name: "special.bf16", Dtype: BF16, Shape: []int{10}, Data: special},
		{Name: "scalar", Shape: []int{}, Data: []float32{3.5}},
		{Name: "empty", Shape: []int{0, 2}, Data: []float32{}},
	}
}

var recipeMeta = map[string]string{"epoch": "3", "note": "h\u00e9llo \"quoted\" <&>"}

func TestGoWrittenGolden(t *testing.T) {
	b, err := Marshal(recipe(), recipeMeta)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "go_written.safetensors")
	if *update {
		if err := Save(golden, recipe(), recipeMeta); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("Marshal differs from %s (run with -update, then torch_ref.py check)", golden)
	}
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	// Deterministic: map order must not matter.
	for i := 0; i < 20; i++ {
		b2, _ := Marshal(recipe(), map[string]string{"note": recipeMeta["note"], "epoch": "3"})
		if !bytes.Equal(b, b2) {
			t.Fatal("Marshal is not deterministic")
		}
	}
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Meta, recipeMeta) {
		t.Errorf("meta = %v, want %v", f.Meta, recipeMeta)
	}
	if got, want := f.Names(), []string{"a", "third.f64", "third.f16", "third.bf16", "special.f16", "special.bf16", "scalar", "empty"}; !reflect.DeepEqual(got, want) {
		t.Errorf("names = %v, want the written order %v", got, want)
	}
	for _, w := range recipe() {
		g, err := f.Get(w.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g.Shape, w.Shape) {
			t.Errorf("%s: shape %v, want %v", w.Name, g.Shape, w.Shape)
		}
		for i, v := range w.Data {
			want := v
			switch w.Dtype {
			case F16:
				want = F16ToFloat32(Float32ToF16(v))
			case BF16:
				want = math.Float32frombits(uint32(Float32ToBF16(v)) << 16)
			}
			if math.Float32bits(g.Data[i]) != math.Float32bits(want) {
				t.Errorf("%s[%d] = %g, want %g", w.Name, i, g.Data[i], want)
			}
		}
	}
}

func floats(s string) []float32 {
	var out []float32
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseFloat(f, 32)
		if err != nil {
			panic(err)
		}
		out = append(out, float32(v))
	}
	return out
}

// TestTorchFile reads the file torch_ref.py wrote from PyTorch tensors.
func TestTorchFile(t *testing.T) {
	f, err := Load(filepath.Join("testdata", "torch_ref.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Meta["format"] != "pt" {
		t.Errorf("meta = %v", f.Meta)
	}
	get := func(name string) Tensor {
		t.Helper()
		x, err := f.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	w := get("conv1.weight")
	if w.Dtype != F32 || !reflect.DeepEqual(w.Shape, []int{4, 3, 3, 3}) {
		t.Fatalf("conv1.weight: %s %v", w.Dtype, w.Shape)
	}
	if first := floats(f.Meta["conv1.weight.first"]); !reflect.DeepEqual(w.Data[:4], first) {
		t.Errorf("conv1.weight[:4] = %v, torch printed %v", w.Data[:4], first)
	}
	sum := 0.0
	for _, v := range w.Data {
		sum += float64(v)
	}
	want, _ := strconv.ParseFloat(f.Meta["conv1.weight.sum"], 64)
	if math.Abs(sum-want) > 1e-12 {
		t.Errorf("sum(conv1.weight) = %.17g, torch %.17g", sum, want)
	}
	if b := get("conv1.bias"); !reflect.DeepEqual(b.Data, floats(f.Meta["conv1.bias"])) {
		t.Errorf("conv1.bias = %v, torch printed %s", b.Data, f.Meta["conv1.bias"])
	}
	// F16, BF16 and F64 decode exactly as torch's .float().
	for _, name := range []string{"x.f16", "x.bf16", "x.f64", "special.f16", "special.bf16"} {
		got, ref := get(name), get(name+".as_f32")
		for i := range got.Data {
			if math.Float32bits(got.Data[i]) != math.Float32bits(ref.Data[i]) {
				t.Errorf("%s[%d] = %g, torch says %g", name, i, got.Data[i], ref.Data[i])
			}
		}
	}
	// And our float32 -> F16/BF16 rounding gives torch's bits.
	for _, src := range []string{"x", "special"} {
		x := get(src)
		for _, dt := range []Dtype{F16, BF16} {
			name := src + "." + strings.ToLower(string(dt))
			info, _ := f.Info(name)
			raw := f.data[info.Offset[0]:info.Offset[1]]
			for i, v := range x.Data {
				want := binary.LittleEndian.Uint16(raw[2*i:])
				got := Float32ToF16(v)
				if dt == BF16 {
					got = Float32ToBF16(v)
				}
				if got != want {
					t.Errorf("%s(%g) = %#04x, torch %#04x", dt, v, got, want)
				}
			}
		}
	}
	if n := get("bn1.num_batches_tracked"); n.Dtype != I64 || len(n.Shape) != 0 || n.Data[0] != 123 {
		t.Errorf("num_batches_tracked = %+v", n)
	}
	if l := get("labels.i32"); !reflect.DeepEqual(l.Data, []float32{-3, 0, 7}) {
		t.Errorf("labels.i32 = %v", l.Data)
	}
	if m := get("mask.bool"); !reflect.DeepEqual(m.Data, []float32{1, 0, 1}) {
		t.Errorf("mask.bool = %v", m.Data)
	}
	if e := get("empty"); len(e.Data) != 0 || !reflect.DeepEqual(e.Shape, []int{0, 3}) {
		t.Errorf("empty = %+v", e)
	}
}

func TestF16AllValues(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := F16ToFloat32(uint16(h))
		if f != f {
			if g := F16ToFloat32(Float32ToF16(f)); g == g {
				t.Fatalf("NaN %#04x round-trips to %g", h, g)
			}
			continue
		}
		if got := Float32ToF16(f); got != uint16(h) {
			t.Fatalf("F16 %#04x -> %g -> %#04x", h, f, got)
		}
		// Halfway to the next value rounds to even.
		if h&0x7fff < 0x7bff {
			next := F16ToFloat32(uint16(h + 1))
			mid := float32((float64(f) + float64(next)) / 2)
			want := uint16(h)
			if h&1 == 1 {
				want = uint16(h + 1)
			}
			if got := Float32ToF16(mid); got != want {
				t.Fatalf("F16 midpoint %g between %#04x and %#04x -> %#04x, want %#04x", mid, h, h+1, got, want)
			}
		}
	}
	for _, c := range []struct {
		f    float32
		want uint16
	}{{65504, 0x7bff}, {65519.99, 0x7bff}, {65520, 0x7c00}, {1e6, 0x7c00}, {5.960464477539063e-08, 0x0001},
		{2.9802322387695312e-08, 0x0000}, {2.99e-08, 0x0001}, {-1, 0xbc00}, {1, 0x3c00}, {6.103515625e-05, 0x0400}} {
		if got := Float32ToF16(c.f); got != c.want {
			t.Errorf("Float32ToF16(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	for _, c := range []struct {
		ts   []Tensor
		want string
	}{
		{[]Tensor{{Name: "a", Shape: []int{2}, Data: []float32{1}}}, "a: 1 values, shape [2] needs 2"},
		{[]Tensor{{Name: "a", Shape: []int{-1}, Data: nil}}, "negative dimension"},
		{[]Tensor{{Name: "a", Data: []float32{1}}, {Name: "a", Data: []float32{1}}}, `duplicate tensor name "a"`},
		{[]Tensor{{Name: "", Data: []float32{1}}}, "invalid tensor name"},
		{[]Tensor{{Name: "__metadata__", Data: []float32{1}}}, "invalid tensor name"},
		{[]Tensor{{Name: "a\xff", Data: []float32{1}}}, "invalid tensor name"},
		{[]Tensor{{Name: "a", Dtype: I64, Data: []float32{1}}}, "cannot write dtype"},
		{[]Tensor{{Name: "a", Shape: []int{1 << 40, 1 << 40}}}, "too large"},
	} {
		_, err := Marshal(c.ts, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Marshal(%v): error %v, want %q", c.ts, err, c.want)
		}
	}
	if _, err := Marshal(nil, map[string]string{"k": "\xff"}); err == nil {
		t.Error("invalid UTF-8 metadata accepted")
	}
	// An empty file is valid.
	b, err := Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := Parse(b); err != nil || len(f.Names()) != 0 {
		t.Fatalf("empty file: %v %v", f, err)
	}
}

// file builds a safetensors file with the given header text and data size.
func file(header string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, data)...)
}

func TestParseErrors(t *testing.T) {
	good := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2,1],"data_offsets":[8,12]}}`
	if _, err := Parse(file(good, 12)); err != nil {
		t.Fatalf("good file: %v", err)
	}
	// JSON order need not be data order.
	if f, err := Parse(file(`{"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  `, 12)); err != nil || !reflect.DeepEqual(f.Names(), []string{"a", "b"}) {
		t.Fatalf("reordered header: %v %v", f, err)
	}
	if f, err := Parse(file(`{"__metadata__":null}`, 0)); err != nil || len(f.Meta) != 0 {
		t.Errorf("null metadata: %v %v", f, err)
	}
	huge := binary.LittleEndian.AppendUint64(nil, 1<<62)
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "too short"},
		{"header beyond file", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "beyond the end of the file"},
		{"header huge", append(huge, "{}"...), "exceeds the limit"},
		{"no brace", file(` {"a":1}`, 0), "does not start with '{'"},
		{"bad utf8", file("{\"\xff\":{}}", 0), "not valid UTF-8"},
		{"empty header", file(``, 0), "does not start with '{'"},
		{"bad json", file(`{"a":`, 0), "bad header JSON"},
		{"entry not object", file(`{"a":[1]}`, 0), "a: bad tensor entry"},
		{"trailing", file(`{} x`, 0), "data after the header"},
		{"two objects", file(`{}{}`, 0), "data after the header"},
		{"duplicate", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), `duplicate tensor name "a"`},
		{"duplicate meta", file(`{"__metadata__":{},"__metadata__":{}}`, 0), "duplicate __metadata__"},
		{"duplicate meta key", file(`{"__metadata__":{"k":"1","k":"2"}}`, 0), `duplicate __metadata__ key "k"`},
		{"meta number", file(`{"__metadata__":{"k":1}}`, 0), "not a string"},
		{"meta array", file(`{"__metadata__":["k"]}`, 0), "not an object"},
		{"unknown dtype", file(`{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, 16), `a: unknown dtype "F128"`},
		{"unknown field", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, 4), "bad tensor entry"},
		{"missing field", file(`{"a":{"dtype":"F32","shape":[1]}}`, 4), "needs dtype, shape and data_offsets"},
		{"negative dim", file(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), "not a non-negative integer"},
		{"fractional dim", file(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, 4), "not a non-negative integer"},
		{"overflowing shape", file(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, 4), "too many elements"},
		{"overflowing bytes", file(`{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,4]}}`, 4), "too large"},
		{"huge dim", file(`{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}`, 4), "not a non-negative integer"},
		{"three offsets", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, 4), "has 3 entries"},
		{"reversed", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, 4), "end before they begin"},
		{"size mismatch", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8), "a: 8 data bytes, but F32 [3] needs 12"},
		{"out of range", file(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, 8), "beyond the 8 data bytes"},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "b: data_offsets [4, 8] overlap a"},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, 12), "leave a gap"},
		{"leftover", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 8), "cover 4 data bytes, file has 8"},
	} {
		f, err := Parse(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Parse = %v, %v; want error containing %q", c.name, f, err, c.want)
		}
	}
	// Load names the file.
	p := filepath.Join(t.TempDir(), "bad.safetensors")
	os.WriteFile(p, file(`{`, 0), 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("Load error %v does not name %s", err, p)
	}
}

func TestGetErrors(t *testing.T) {
	f, err := Parse(file(`{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}`, 2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get("a"); err == nil || !strings.Contains(err.Error(), "cannot be converted") {
		t.Errorf("Get F8: %v", err)
	}
	if _, err := f.Get("nope"); err == nil {
		t.Error("Get of a missing tensor succeeded")
	}
	if err := f.Fill([]Tensor{{Name: "a", Shape: []int{2}, Data: make([]float32, 2)}}); err == nil || !strings.Contains(err.Error(), "F8_E4M3 in file cannot be converted") {
		t.Errorf("Fill F8: %v", err)
	}
}

func TestLoadInto(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "w.safetensors")
	w := make([]float32, 96*3*11*11)
	for i := range w {
		w[i] = float32(i)
	}
	saved := []Tensor{
		{Name: "conv1.weight", Shape: []int{96, 3, 11, 11}, Data: w},
		{Name: "conv1.bias", Shape: []int{96}, Data: make([]float32, 96)},
		{Name: "fc.weight", Dtype: BF16, Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "old.weight", Shape: []int{1}, Data: []float32{1}},
	}
	if err := Save(p, saved, map[string]string{"epoch": "1"}); err != nil {
		t.Fatal(err)
	}
	wantNet := func(convK int) []Tensor {
		return []Tensor{
			{Name: "conv1.weight", Shape: []int{96, 3, convK, convK}, Data: make([]float32, 96*3*convK*convK)},
			{Name: "conv1.bias", Dtype: F32, Shape: []int{96}, Data: make([]float32, 96)},
			{Name: "fc.weight", Dtype: F32, Shape: []int{2, 3}, Data: make([]float32, 6)},
			{Name: "fc.bias", Shape: []int{2}, Data: []float32{7, 7}},
		}
	}
	net := wantNet(7)
	err := LoadInto(p, net)
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("LoadInto: %v, want a *MismatchError", err)
	}
	for _, s := range []string{
		p,
		"conv1.weight: shape [96 3 11 11] in file, network wants [96 3 7 7]",
		"fc.weight: dtype BF16 in file, network wants F32",
		"fc.bias: missing from file",
		"old.weight: in file, not in network",
	} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if !reflect.DeepEqual(me.Missing, []string{"fc.bias"}) || !reflect.DeepEqual(me.Unexpected, []string{"old.weight"}) || len(me.Mismatch) != 2 {
		t.Errorf("MismatchError = %+v", me)
	}
	if net[3].Data[0] != 7 || net[1].Data[0] != 0 {
		t.Error("a failed LoadInto wrote into the destination")
	}
	// A matching want list (empty Dtype accepts BF16) loads.
	net = wantNet(11)[:3]
	net[2].Dtype = ""
	saved[3].Name = "x"
	if err := Save(p, saved[:3], nil); err != nil {
		t.Fatal(err)
	}
	if err := LoadInto(p, net); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(net[0].Data, w) || !reflect.DeepEqual(net[2].Data, []float32{1, 2, 3, 4, 5, 6}) {
		t.Error("LoadInto values differ from the saved ones")
	}
	if err := LoadInto(p, []Tensor{{Name: "conv1.bias", Shape: []int{96}, Data: make([]float32, 3)}}); err == nil || !strings.Contains(err.Error(), "destination has 3 elements") {
		t.Errorf("short destination: %v", err)
	}
	if err := LoadInto(filepath.Join(dir, "none"), net); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
