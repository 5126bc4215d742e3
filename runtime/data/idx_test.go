package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func write(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mutate(b []byte, f func(b []byte) []byte) []byte {
	return f(append([]byte(nil), b...))
}

// TestIDXErrors makes bad files from the real MNIST test set.
func TestIDXErrors(t *testing.T) {
	mdir, tmp := mnistDir(t), t.TempDir()
	labelsGz, err := os.ReadFile(filepath.Join(mdir, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	labels := gunzip(t, filepath.Join(mdir, "t10k-labels-idx1-ubyte.gz"))
	images := gunzip(t, filepath.Join(mdir, "t10k-images-idx3-ubyte.gz"))

	// Raw and gzipped files read the same.
	raw, err := ReadIDX(write(t, tmp, "labels", labels))
	if err != nil {
		t.Fatal(err)
	}
	fromGz, err := ReadIDX(filepath.Join(mdir, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw.Data, fromGz.Data) || len(raw.Dims) != 1 || raw.Dims[0] != 10000 {
		t.Fatalf("raw %v and gzipped %v differ", raw.Dims, fromGz.Dims)
	}

	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"short header", labels[:3], "truncated idx header"},
		{"short dims", images[:10], "truncated idx header (3 dimensions)"},
		{"bad magic", mutate(labels, func(b []byte) []byte { b[0] = 0x1f; return b }), "bad magic number 0x1f000801"},
		{"float idx", mutate(labels, func(b []byte) []byte { b[2] = 0x0d; return b }), "element type 0x0d (float) is not supported"},
		{"no dims", mutate(labels, func(b []byte) []byte { b[3] = 0; return b }), "0 dimensions"},
		{"too many dims", mutate(labels, func(b []byte) []byte { b[3] = 9; return b }), "9 dimensions"},
		{"huge dims", mutate(images, func(b []byte) []byte { copy(b[4:], []byte{0xff, 0xff, 0xff, 0xff}); return b }), "exceed"},
		{"truncated", labels[:len(labels)-100], "truncated: dimensions [10000] need 10000 data bytes, found 9900"},
		{"trailing", append(append([]byte(nil), labels...), 1, 2, 3), "bytes after the data"},
		{"truncated gzip", labelsGz[:len(labelsGz)/2], "truncated gzip stream"},
		{"gzip checksum", mutate(labelsGz, func(b []byte) []byte { b[len(b)-8] ^= 1; return b }), "broken gzip stream: gzip: invalid checksum"},
		{"gzip corrupt", mutate(labelsGz, func(b []byte) []byte {
			for i := 100; i < 200; i++ {
				b[i] = 0xff
			}
			return b
		}), "gzip"},
		{"gzip header", []byte{0x1f, 0x8b, 9, 9}, "gzip:"},
		{"gzip of truncated", gz(labels[:5000]), "truncated: dimensions [10000] need 10000 data bytes, found 4992"},
		{"gzip then garbage", append(gz(labels), "junk"...), "after the gzip stream"},
	} {
		p := write(t, tmp, strings.ReplaceAll(c.name, " ", "_"), c.b)
		x, err := ReadIDX(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: ReadIDX = %v, %v; want an error naming %s and containing %q", c.name, x, err, p, c.want)
		}
	}
	if _, err := ReadIDX(filepath.Join(tmp, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadIDXErrors(t *testing.T) {
	mdir, tmp := mnistDir(t), t.TempDir()
	labels := gunzip(t, filepath.Join(mdir, "t10k-labels-idx1-ubyte.gz"))
	images := gunzip(t, filepath.Join(mdir, "t10k-images-idx3-ubyte.gz"))
	goodIm, goodLb := write(t, tmp, "images", images), write(t, tmp, "labels", labels)
	mn := Options{Shape: MNISTShape, Classes: 10, Norm: MNISTNorm}
	d, err := LoadIDX(goodIm, goodLb, mn)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := LoadMNIST(mdir, false)
	if err != nil {
		t.Fatal(err)
	}
	if d.N != ref.N || !equalF32(d.X, ref.X) {
		t.Error("raw idx files load differently from the gzipped ones")
	}

	bad := mutate(labels, func(b []byte) []byte { b[8+3] = 10; return b })
	badLb := write(t, tmp, "labels10", bad)
	trainLb := filepath.Join(mdir, "train-labels-idx1-ubyte.gz")
	// An RGB idx file: N H W C.
	rgb := append(binary.BigEndian.AppendUint32(nil, 0x0804), binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 2), 2), 3), 3)...)
	rgbPix := make([]byte, 2*2*3*3)
	for i := range rgbPix {
		rgbPix[i] = byte(i * 7)
	}
	rgbIm := write(t, tmp, "rgb", append(rgb, rgbPix...))
	rgbLb := write(t, tmp, "rgblabels", []byte{0, 0, 8, 1, 0, 0, 0, 2, 1, 0})
	for _, c := range []struct {
		name           string
		images, labels string
		opt            Options
		want           string
	}{
		{"label out of range", goodIm, badLb, mn, badLb + ": label 10 of sample 3 is out of range for 10 classes (0..9)"},
		{"fewer classes", goodIm, goodLb, Options{Shape: MNISTShape, Classes: 5}, goodLb + ": label 7 of sample 0 is out of range for 5 classes (0..4)"},
		{"wrong size", goodIm, goodLb, Options{Shape: Shape{1, 32, 32}, Classes: 10}, goodIm + ": images are 28x28x1 (HxWxC), network wants 32x32x1 (HxWxC)"},
		{"wrong channels", goodIm, goodLb, Options{Shape: Shape{3, 28, 28}, Classes: 10}, "network wants 28x28x3"},
		{"count", goodIm, trainLb, mn, trainLb + " has 60000 labels, " + goodIm + " has 10000 images"},
		{"swapped", goodLb, goodIm, mn, goodLb + ": 1 dimensions [10000], want an image file"},
		{"labels not 1-d", goodIm, goodIm, mn, goodIm + ": 3 dimensions [10000 28 28], want a label file"},
		{"bad shape", goodIm, goodLb, Options{Shape: Shape{2, 28, 28}, Classes: 10}, "want C 1 or 3"},
		{"no classes", goodIm, goodLb, Options{Shape: MNISTShape}, "network wants 0 classes"},
		{"rgb as gray", rgbIm, rgbLb, Options{Shape: Shape{1, 2, 3}, Classes: 2}, "images are 2x3x3 (HxWxC), network wants 2x3x1 (HxWxC)"},
		{"bad norm", goodIm, goodLb, Options{Shape: MNISTShape, Classes: 10, Norm: Normalize{Std: []float32{0}}}, "std 0 for channel 0 is not positive"},
		{"norm channels", rgbIm, rgbLb, Options{Shape: Shape{3, 2, 3}, Classes: 2, Norm: Normalize{Mean: []float32{1, 2}}}, "2 mean values for 3 channels"},
	} {
		d, err := LoadIDX(c.images, c.labels, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: LoadIDX = %v, %v; want error containing %q", c.name, d, err, c.want)
		}
	}
	// RGB idx (HWC) becomes CHW.
	d, err = LoadIDX(rgbIm, rgbLb, Options{Shape: Shape{3, 2, 3}, Classes: 2})
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < 2; n++ {
		for c := 0; c < 3; c++ {
			for i := 0; i < 6; i++ {
				want := float32(rgbPix[(n*6+i)*3+c]) / 255
				if got := d.X[(n*3+c)*6+i]; got != want {
					t.Fatalf("sample %d channel %d pixel %d = %g, want %g", n, c, i, got, want)
				}
			}
		}
	}
	if d.Y[0] != 1 || d.Y[1] != 0 {
		t.Errorf("labels %v", d.Y)
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestNormTorch compares the normalised pixel values with PyTorch's
// (testdata/norm_table.txt, written by testdata/torch_norm.py), bit for bit.
func TestNormTorch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "norm_table.txt"))
	if err != nil {
		t.Fatal(err)
	}
	norms := map[string]Normalize{"mnist": MNISTNorm, "imagenet": ImageNetNorm}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines in norm_table.txt", len(lines))
	}
	for _, line := range lines {
		f := strings.Fields(line)
		norm, c := norms[f[0]], int(f[1][0]-'0')
		channels := len(norm.Mean)
		pix := make([]uint8, 256*channels)
		for p := 0; p < 256; p++ {
			pix[p*channels+c] = uint8(p)
		}
		// 256 one-pixel samples, HWC.
		d, err := New(pix, true, Shape{channels, 1, 1}, make([]uint8, 256), 1, norm)
		if err != nil {
			t.Fatal(err)
		}
		for p := 0; p < 256; p++ {
			want, _ := strconv.ParseUint(f[2+p], 16, 32)
			if got := math.Float32bits(d.X[p*channels+c]); got != uint32(want) {
				t.Fatalf("%s channel %d pixel %d: %08x (%g), torch %08x (%g)", f[0], c, p, got, d.X[p*channels+c], want, math.Float32frombits(uint32(want)))
			}
		}
		if d.Fill[c] != d.X[c] {
			t.Errorf("%s: Fill[%d] = %g, want the value of pixel 0, %g", f[0], c, d.Fill[c], d.X[c])
		}
	}
}

// FuzzIDX feeds arbitrary bytes to the idx reader: it must fail or return
// dimensions whose product is the data length. Seeds: testdata/fuzz/FuzzIDX.
func FuzzIDX(f *testing.F) {
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 2, 5, 9})
	f.Add(gz([]byte{0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4}))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := DecodeIDX(bytes.NewReader(b))
		if err != nil {
			return
		}
		n := 1
		for _, d := range x.Dims {
			n *= d
		}
		if len(x.Dims) < 1 || len(x.Dims) > 4 || n != len(x.Data) {
			t.Fatalf("dims %v with %d bytes", x.Dims, len(x.Data))
		}
		if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) && !bytes.Equal(b[4+4*len(x.Dims):], x.Data) {
			t.Fatal("raw data differs from the file's bytes")
		}
	})
}
