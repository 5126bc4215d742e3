package importer

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/internal/debpkg"
	"github.com/cnnc-dev/cnnc/onnx"
	"github.com/cnnc-dev/cnnc/op"
	"github.com/cnnc-dev/cnnc/runtime/npy"
	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

// testdataDirs are where Debian's libonnx-testdata puts ONNX's backend
// tests (the first is bookworm's).
var testdataDirs = []string{"/usr/include/onnx/backend/test/data", "/usr/share/libonnx-testdata/data"}

// conformanceData returns the folder of ONNX's backend tests, installing
// Debian's libonnx-testdata under CI (as root, with apt-get) when it is
// missing; elsewhere a missing package skips the test.
func conformanceData(t *testing.T) string {
	return debpkg.Need(t, "libonnx-testdata", "ONNX's conformance tests", func() string {
		for _, d := range testdataDirs {
			if _, err := os.Stat(filepath.Join(d, "node")); err == nil {
				return d
			}
		}
		return ""
	})
}

// confCase is one backend test whose ops are all the language's.
type confCase struct {
	dir, name string
	result    *Result
	reason    string // why it is not importable
	inputs    []*onnx.Tensor
	outputs   []*onnx.Tensor
	got       []string // the output files of each data set
}

// reasonClass turns an import error into the reason a table groups by:
// the message without names and numbers.
var (
	quoted  = regexp.MustCompile(`"[^"]*"`)
	numbers = regexp.MustCompile(`\[[^\]]*\]|\b\d+(\.\d+)?\b`)
)

func reasonClass(err error) string {
	s := err.Error()
	if i := strings.Index(s, "\n"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "): "); i >= 0 && strings.HasPrefix(s, "node ") {
		s = s[i+3:]
	}
	s = quoted.ReplaceAllString(s, "X")
	s = numbers.ReplaceAllString(s, "N")
	if i := strings.Index(s, " (it has "); i >= 0 {
		s = s[:i]
	}
	return s
}

// TestConformance runs ONNX's own backend tests (node, pytorch-converted
// and pytorch-operator) whose ops are all the language's: each model is
// imported, generated into a Go package, built (all in one program), run
// on every test data set, and compared with the expected outputs with
// ONNX's backend tolerances (rtol 1e-3, atol 1e-7). A case that cannot be
// imported is counted under its reason. The table is logged (-v shows it).
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program of every importable case")
	}
	root := conformanceData(t)
	ours := map[string]bool{"Constant": true, "Pad": true}
	for _, ty := range op.ONNXTypes() {
		ours[ty] = true
	}
	var cases []*confCase
	for _, suite := range []string{"node", "pytorch-converted", "pytorch-operator"} {
		dirs, _ := filepath.Glob(filepath.Join(root, suite, "test_*"))
		for _, dir := range dirs {
			m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
			if err != nil || m.Graph == nil {
				continue
			}
			all := len(m.Graph.Nodes) > 0
			for _, n := range m.Graph.Nodes {
				all = all && ours[n.OpType] && (n.Domain == "" || n.Domain == "ai.onnx")
			}
			if !all {
				continue
			}
			c := &confCase{dir: dir, name: suite + "/" + filepath.Base(dir)}
			cases = append(cases, c)
			if err := weightsFromData(m, dir); err != nil {
				c.reason = err.Error()
				continue
			}
			r, err := Import(m, fmt.Sprintf("case%d", len(cases)))
			if err != nil {
				c.reason = reasonClass(err)
				continue
			}
			c.result = r
		}
	}
	if len(cases) < 50 {
		t.Fatalf("only %d cases of the language's ops in %s", len(cases), root)
	}
	runCases(t, cases)

	passed, failed := 0, 0
	reasons := map[string][]string{}
	for _, c := range cases {
		switch {
		case c.reason != "":
			reasons[c.reason] = append(reasons[c.reason], c.name)
		case c.got == nil:
			failed++
		default:
			passed++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ONNX backend tests of the language's ops: %d found, %d passed, %d failed, %d not importable\n",
		len(cases), passed, failed, len(cases)-passed-failed)
	var rs []string
	for r := range reasons {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool {
		if len(reasons[rs[i]]) != len(reasons[rs[j]]) {
			return len(reasons[rs[i]]) > len(reasons[rs[j]])
		}
		return rs[i] < rs[j]
	})
	for _, r := range rs {
		ex := reasons[r]
		fmt.Fprintf(&b, "  %3d  %s (e.g. %s)\n", len(ex), r, ex[0])
	}
	t.Log("\n" + b.String())
	if passed == 0 {
		t.Error("no case passed")
	}
}

// weightsFromData makes the graph inputs after the first initializers,
// with their values from the test data: ONNX's node tests feed a conv's
// weight as an input, which a CNN has as an initializer. Every data set
// must give the same values.
func weightsFromData(m *onnx.Model, dir string) error {
	inits := map[string]bool{}
	for _, t := range m.Graph.Initializer {
		inits[t.Name] = true
	}
	var ins []*onnx.ValueInfo
	for _, v := range m.Graph.Inputs {
		if !inits[v.Name] {
			ins = append(ins, v)
		}
	}
	if len(ins) < 2 {
		return nil
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	for k, v := range ins[1:] {
		var first []byte
		for _, set := range sets {
			b, err := os.ReadFile(filepath.Join(set, fmt.Sprintf("input_%d.pb", k+1)))
			if err != nil {
				return err
			}
			if first == nil {
				first = b
			} else if string(b) != string(first) {
				return fmt.Errorf("input %d of the graph (a weight?) differs between data sets", k+1)
			}
		}
		t, err := onnx.UnmarshalTensor(first)
		if err != nil {
			return err
		}
		t.Name = v.Name
		m.Graph.Initializer = append(m.Graph.Initializer, t)
	}
	return nil
}

// runCases generates every imported case into one program, runs it, and
// compares; a case that passes gets its outputs' files in got.
func runCases(t *testing.T, cases []*confCase) {
	dir := t.TempDir()
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Dir(filepath.Dir(file))
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	gomod := fmt.Sprintf("module conformance\n\ngo 1.26.0\n\nrequire github.com/cnnc-dev/cnnc v0.0.0\n\nreplace github.com/cnnc-dev/cnnc => %s\n", repo)
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", []byte(gomod))
	write("go.sum", sum)
	var imports, table strings.Builder
	var args []string
	for i, c := range cases {
		if c.result == nil {
			continue
		}
		pkg := fmt.Sprintf("c%d", i)
		files, err := compiler.Generate(c.result.Model, pkg, c.name+".cnn")
		if err != nil {
			c.reason = "generating Go: " + err.Error()
			continue
		}
		for _, f := range files {
			if !strings.HasSuffix(f.Name, "_test.go") {
				write(filepath.Join(pkg, f.Name), f.Data)
			}
		}
		w := filepath.Join(dir, pkg, "w.safetensors")
		if err := safetensors.Save(w, c.result.Tensors, nil); err != nil {
			t.Fatal(err)
		}
		sets, _ := filepath.Glob(filepath.Join(c.dir, "test_data_set_*"))
		for k, set := range sets {
			in, err := readTensor(filepath.Join(set, "input_0.pb"))
			if err != nil {
				c.reason = "test data: " + err.Error()
				break
			}
			x := filepath.Join(dir, pkg, fmt.Sprintf("x%d.npy", k))
			if err := npy.WriteFile(x, in); err != nil {
				t.Fatal(err)
			}
			y := filepath.Join(dir, pkg, fmt.Sprintf("y%d.npy", k))
			args = append(args, pkg, w, x, y)
		}
		fmt.Fprintf(&imports, "\t%s \"conformance/%s\"\n", pkg, pkg)
		fmt.Fprintf(&table, "\t%q: func(b int) *rt.Net { return %s.New(b, 0).Net },\n", pkg, pkg)
	}
	main := fmt.Sprintf(`package main

import (
	"fmt"
	"os"

	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/npy"
%s)

var nets = map[string]func(int) *rt.Net{
%s}

// main runs, for each (package, weights, input, output) of its arguments,
// the network on the input and writes its output.
func main() {
	a := os.Args[1:]
	for i := 0; i+3 < len(a); i += 4 {
		if err := run(a[i], a[i+1], a[i+2], a[i+3]); err != nil {
			fmt.Fprintf(os.Stderr, "%%s: %%v\n", a[i], err)
		}
	}
}

func run(pkg, w, in, out string) error {
	x, err := npy.ReadFile(in)
	if err != nil {
		return err
	}
	net := nets[pkg](max(1, x.Shape[0]))
	if err := net.Load(w); err != nil {
		return err
	}
	y, err := net.Forward(x.Data)
	if err != nil {
		return err
	}
	return npy.WriteFile(out, &npy.Array{Shape: []int{len(y)}, Data: y})
}
`, imports.String(), table.String())
	write("main.go", []byte(main))
	build := exec.Command("go", "build", "-o", "conf", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build of the conformance program: %v\n%s", err, out)
	}
	run := exec.Command(filepath.Join(dir, "conf"), args...)
	out, err := run.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Logf("the conformance program: %v\n%s", err, out)
	}
	for i, c := range cases {
		if c.result == nil || c.reason != "" {
			continue
		}
		pkg := fmt.Sprintf("c%d", i)
		sets, _ := filepath.Glob(filepath.Join(c.dir, "test_data_set_*"))
		ok := len(sets) > 0
		for k, set := range sets {
			want, err := readTensor(filepath.Join(set, "output_0.pb"))
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				ok = false
				break
			}
			got, err := npy.ReadFile(filepath.Join(dir, pkg, fmt.Sprintf("y%d.npy", k)))
			if err != nil || len(got.Data) != len(want.Data) {
				t.Errorf("%s: data set %d: no output of %d values (%v)", c.name, k, len(want.Data), err)
				ok = false
				break
			}
			for j, v := range want.Data {
				if d := math.Abs(float64(got.Data[j] - v)); d > 1e-7+1e-3*math.Abs(float64(v)) || math.IsNaN(float64(got.Data[j])) {
					t.Errorf("%s: data set %d: output[%d] = %v, want %v\n%s", c.name, k, j, got.Data[j], v, c.result.Source)
					ok = false
					break
				}
			}
		}
		if ok {
			c.got = sets
		}
	}
}

// readTensor reads a TensorProto file of float32 values as an array of
// its shape.
func readTensor(path string) (*npy.Array, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tp, err := onnx.UnmarshalTensor(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	v, err := tp.Floats()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	a := &npy.Array{Data: v}
	for _, d := range tp.Dims {
		a.Shape = append(a.Shape, int(d))
	}
	return a, nil
}
