package netgen_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/internal/netgen"
	"github.com/cnnc-dev/cnnc/op"
)

// runConfig keeps the programs small and the same function in training and
// inference: no bn, dropout only as dropout 0.
var runConfig = netgen.Config{MaxLayers: 24, MaxSize: 10, MaxChannels: 8, MaxElems: 5, Deterministic: true}

// TestGeneratedNetworksRun renders generated programs (3, or
// $CNNC_GENRUNS, and the regressions of testdata/run; those whose first
// line starts "# known bug:" must still fail) as Go packages of one temporary module that requires this
// checkout, and runs a program there that checks, for each network, that
// Forward (inference) and TrainForward (training mode, whose logits come
// before a final softmax) agree on the same input. One `go run` builds them
// all.
func TestGeneratedNetworksRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a separate module")
	}
	k := 3
	if s := os.Getenv("CNNC_GENRUNS"); s != "" {
		var err error
		if k, err = strconv.Atoi(s); err != nil || k < 1 {
			t.Fatalf("CNNC_GENRUNS=%q: want a positive count", s)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	gosum, _ := os.ReadFile(filepath.Join(root, "go.sum"))
	// go test caches a passing result by the files the test opens: stat the
	// runtime's, which the go command below builds, so that a change to
	// them runs the test again.
	err = filepath.WalkDir(filepath.Join(root, "runtime"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") {
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string][]byte{"go.sum": gosum}
	// cnnc's own requirements, so that the build list is cnnc's.
	mod := strings.Replace(string(gomod), "module github.com/cnnc-dev/cnnc\n", "module cnncgenrun\n", 1)
	mod += fmt.Sprintf("\nrequire github.com/cnnc-dev/cnnc v0.0.0-00010101000000-000000000000\n\nreplace github.com/cnnc-dev/cnnc => %s\n", root)
	files["go.mod"] = []byte(mod)
	sources := map[string][]byte{}
	known := map[string]bool{} // regressions of a bug not fixed yet: they must fail
	var main bytes.Buffer
	var table bytes.Buffer
	main.WriteString("package main\n\nimport (\n\trt \"github.com/cnnc-dev/cnnc/runtime\"\n")
	// The programs that found bugs, then k generated ones.
	regressions, _ := filepath.Glob("testdata/run/*.cnn")
	for i := range len(regressions) + k {
		var src []byte
		pkg := fmt.Sprintf("net%d", i-len(regressions))
		if i < len(regressions) {
			if src, err = os.ReadFile(regressions[i]); err != nil {
				t.Fatal(err)
			}
			pkg = "reg_" + strings.TrimSuffix(filepath.Base(regressions[i]), ".cnn")
			known[pkg] = bytes.HasPrefix(src, []byte("# known bug:"))
		} else {
			src = netgen.Generate(rand.New(rand.NewPCG(uint64(i-len(regressions)), 0x6e6574)), runConfig)
		}
		m := check(t, src)
		gen, err := compiler.Generate(m, pkg, pkg+".cnn")
		if err != nil {
			t.Fatalf("%s: gen: %v\n%s", pkg, err, src)
		}
		for _, f := range gen {
			if !strings.HasSuffix(f.Name, "_test.go") {
				files[pkg+"/"+f.Name] = f.Data
			}
		}
		files[pkg+"/"+pkg+".cnn"] = src
		sources[pkg] = src
		_, softmax := m.Output().Node.Op.(*op.Softmax)
		fmt.Fprintf(&main, "\t%q\n", "cnncgenrun/"+pkg)
		fmt.Fprintf(&table, "\t{%q, func() *rt.Net { return %s.New(2, %d).Net }, %t},\n", pkg, pkg, i+1, softmax)
	}
	main.WriteString(")\n\nvar nets = []entry{\n")
	main.Write(table.Bytes())
	main.WriteString("}\n")
	files["main.go"] = main.Bytes()
	files["check.go"] = []byte(checkProgram)
	for name, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	t.Logf("%d networks and %d regressions:\n%s", k, len(regressions), out)
	failed := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if name, ok := strings.CutPrefix(line, "FAIL "); ok {
			name, _, _ = strings.Cut(name, ":")
			failed[name] = true
			if !known[name] {
				t.Errorf("%s\n%s", line, sources[name])
			}
		}
	}
	for name, k := range known {
		if k && !failed[name] {
			t.Errorf("%s passes: the bug its first line names is fixed, remove that line", name)
		}
	}
	if err != nil && len(failed) == 0 {
		t.Fatalf("go run: %v", err)
	}
}

// checkProgram compares the two passes of every network on one batch of
// two images.
const checkProgram = `package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime/debug"

	rt "github.com/cnnc-dev/cnnc/runtime"
)

type entry struct {
	name    string
	new     func() *rt.Net
	softmax bool // the network ends in softmax: Forward gives softmax(TrainForward)
}

func main() {
	bad := 0
	worst := 0.0
	for _, e := range nets {
		d, err := check(e)
		if err != nil {
			fmt.Printf("FAIL %s: %v\n", e.name, err)
			bad++
			continue
		}
		worst = max(worst, d)
	}
	fmt.Printf("%d networks, %d failed; largest difference %.3g of the output's largest value\n", len(nets), bad, worst)
	if bad > 0 {
		os.Exit(1)
	}
}

// check returns the largest difference between Forward and TrainForward
// relative to the largest magnitude of the output.
func check(e entry) (worst float64, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
		}
	}()
	n := e.new()
	p := n.Program()
	const batch = 2
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, batch*p.InputH*p.InputW*p.InputC)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	inf, err := n.Forward(x)
	if err != nil {
		return 0, err
	}
	inf = append([]float32(nil), inf...)
	lg, err := n.TrainForward(x)
	if err != nil {
		return 0, err
	}
	tr := make([]float64, len(lg))
	for i, v := range lg {
		tr[i] = float64(v)
	}
	if e.softmax {
		c := p.OutputSize
		for i := 0; i < len(tr); i += c {
			softmax(tr[i : i+c])
		}
	}
	if len(inf) != len(tr) {
		return 0, fmt.Errorf("Forward gives %d values, TrainForward %d", len(inf), len(tr))
	}
	scale := 0.0
	for i, v := range inf {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || math.IsNaN(tr[i]) || math.IsInf(tr[i], 0) {
			return 0, fmt.Errorf("value %d is not finite: Forward %g, TrainForward %g", i, v, tr[i])
		}
		scale = max(scale, math.Abs(float64(v)), math.Abs(tr[i]))
	}
	if scale == 0 {
		return 0, nil
	}
	at := 0
	for i, v := range inf {
		if d := math.Abs(float64(v)-tr[i]) / scale; d > worst {
			worst, at = d, i
		}
	}
	if worst > 1e-5 {
		return worst, fmt.Errorf("value %d: Forward %g, TrainForward %g (%.3g of the largest value, %g)", at, inf[at], tr[at], worst, scale)
	}
	return worst, nil
}

func softmax(row []float64) {
	m := math.Inf(-1)
	for _, v := range row {
		m = max(m, v)
	}
	sum := 0.0
	for i, v := range row {
		row[i] = math.Exp(v - m)
		sum += row[i]
	}
	for i := range row {
		row[i] /= sum
	}
}
`
