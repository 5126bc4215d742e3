package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/cnnc-dev/cnnc/runtime/data"
)

// TestMain: the command's flags and Beam's share one flag set (a clash
// panics when the binary starts, as --labels did with Dataflow's); the
// pipeline runs on Prism in this process.
func TestMain(m *testing.M) {
	ptest.MainWithDefault(m, "prism")
}

// TestCommand runs the command as its README line does, over the first
// 300 MNIST test images written as idx files, and reads its summary and
// its CSV.
func TestCommand(t *testing.T) {
	test, err := data.ReadIDX(filepath.Join(mnistDir(t), "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	labels, err := data.ReadIDX(filepath.Join(mnistDir(t), "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	dir := t.TempDir()
	im, lb, out := filepath.Join(dir, "images"), filepath.Join(dir, "labels"), filepath.Join(dir, "preds.csv")
	write := func(p string, dims []int, body []byte) {
		b := []byte{0, 0, 8, byte(len(dims))}
		for _, d := range dims {
			b = append(b, byte(d>>24), byte(d>>16), byte(d>>8), byte(d))
		}
		if err := os.WriteFile(p, append(b, body...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(im, []int{n, 28, 28}, test.Data[:n*784])
	write(lb, []int{n}, labels.Data[:n])
	for k, v := range map[string]string{"idx": im + "," + lb, "weights": "testdata/lenet5.safetensors", "output": out} {
		if err := flag.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	beam.Init()
	var stdout bytes.Buffer
	if err := run(&stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "300 images in ") || !strings.Contains(stdout.String(), "accuracy ") {
		t.Errorf("summary %q", stdout.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != n {
		t.Errorf("%d lines, want %d", lines, n)
	}
	if err := flag.Set("idx", im); err != nil {
		t.Fatal(err)
	}
	if err := run(&stdout); err == nil || !strings.Contains(err.Error(), "want IMAGES,LABELS") {
		t.Errorf("--idx without labels: %v", err)
	}
}

func mnistDir(t *testing.T) string {
	d, err := data.MNISTDir()
	if err != nil {
		t.Fatal(err)
	}
	return d
}
