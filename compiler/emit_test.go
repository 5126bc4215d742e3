package compiler

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected outputs in testdata/")

// renderLayer emits one layer of a small network in every pass, with its
// geometry values, as Go source.
func renderLayer(t *testing.T, src, layer string) string {
	t.Helper()
	m, errs := CompileSource("t.cnn", []byte(src))
	if len(errs) > 0 {
		t.Fatalf("%s", errs.Render([]byte(src)))
	}
	e := &emitter{p: NewPlan(m), pkg: "t", seen: map[string]bool{}, used: map[string]bool{}}
	e.top = &names{decls: map[string]string{}, byLit: map[string]string{}, e: e}
	var b strings.Builder
	for _, s := range e.p.Steps {
		if s.L.Node.Name != layer {
			continue
		}
		for p := passForward; p <= passRefold; p++ {
			w := &walk{e: e, pass: p, loc: constant{}, names: e.top, uses: map[string]bool{}}
			fmt.Fprintf(&b, "// %s\n", strings.ToLower(passNames[p]))
			for _, c := range w.stepCode(s, s.Ident) {
				fmt.Fprintf(&b, "%#v\n", c)
			}
		}
		for _, d := range e.top.order {
			fmt.Fprintf(&b, "var %s = %#v\n", d.name, d.lit)
		}
		for _, sc := range e.scratch {
			fmt.Fprintf(&b, "// scratch: %#v\n", sc)
		}
		return b.String()
	}
	t.Fatalf("no layer %s", layer)
	return ""
}

// TestEmitLayers compares the emitted Go of every layer kind with
// testdata/emit/*.txt: each file is `layer NAME`, the .cnn source, a line
// ----, and the expected code of that layer in each pass (go test -update
// rewrites the expected part).
func TestEmitLayers(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "emit", "*.txt"))
	if len(files) == 0 {
		t.Fatal("no cases in testdata/emit")
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			in, want, ok := strings.Cut(string(data), "----\n")
			layer, src, ok2 := strings.Cut(in, "\n")
			if !ok || !ok2 || !strings.HasPrefix(layer, "layer ") {
				t.Fatalf("%s: want `layer NAME`, the source, ----, the code", path)
			}
			got := renderLayer(t, src, strings.TrimPrefix(layer, "layer "))
			if *update {
				if err := os.WriteFile(path, []byte(in+"----\n"+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("emitted code differs from %s (go test -update rewrites it):\n%s", path, got)
			}
		})
	}
}

// TestPlan checks the memory plan's decisions on LeNet-5 and ResNet-18.
func TestPlan(t *testing.T) {
	m := compileNetwork(t, "lenet5")
	p := NewPlan(m)
	for _, s := range p.Steps {
		name := s.L.Node.Name
		switch {
		case strings.HasPrefix(name, "relu"):
			if !s.Alias || !s.Skip || !s.In[0].Fused {
				t.Errorf("%s: alias %v skip %v, producer fused %v; want a relu fused into its conv or fc", name, s.Alias, s.Skip, s.In[0].Fused)
			}
		case name == "softmax1" && !s.Alias:
			t.Errorf("softmax1 is not in place")
		}
	}
	// Training keeps every output (relu and softmax in place); inference
	// reuses dead buffers, so it needs less.
	if p.Train != 8878 || p.Infer >= p.Train {
		t.Errorf("LeNet-5 training layout %d floats per image (want 8878, the summary's activations), inference %d", p.Train, p.Infer)
	}
	r := compileNetwork(t, "resnet18")
	rp := NewPlan(r)
	folded := 0
	for _, s := range rp.Steps {
		if s.Fold != nil {
			folded++
		}
	}
	if folded != 20 {
		t.Errorf("ResNet-18: %d bn folded into convs at inference, want all 20", folded)
	}
	if rp.Infer*4 > rp.Train {
		t.Errorf("ResNet-18: inference needs %d floats per image, more than a quarter of training's %d", rp.Infer, rp.Train)
	}
}

// evaluated is the locator of a group's shared code called with one
// instance's offsets: the base fields replaced by the instance's values.
type evaluated struct {
	g *group
	u *unit
}

func (l evaluated) at(f family, off int) offset {
	o := shared{l.g}.at(f, off)
	var j int
	fmt.Sscanf(o.base[1:], "%d", &j)
	return offset{delta: l.u.vals[f][l.g.bases[f][j]] + o.delta}
}

// renderUnit writes the code of unit u's layers (every pass and its
// tensors) at loc's offsets.
func renderUnit(u *unit, loc locator) string {
	ns := &names{prefix: "G_", decls: map[string]string{}, byLit: map[string]string{}}
	var b strings.Builder
	for p := passForward; p <= passRefold; p++ {
		w := &walk{pass: p, loc: loc, names: ns, uses: map[string]bool{}}
		for _, c := range w.unitCode(u) {
			fmt.Fprintf(&b, "%#v\n", c)
		}
	}
	w := &walk{pass: passForward, loc: loc, names: ns, uses: map[string]bool{}}
	for _, c := range w.tensorRows(u) {
		fmt.Fprintf(&b, "%#v\n", c)
	}
	return b.String()
}

// TestGroups checks the block groups of the zoo: the shared code of a
// group, called with an instance's offsets, is exactly the code the
// instance would have on its own (written with constant offsets).
func TestGroups(t *testing.T) {
	for _, tc := range []struct {
		net               string
		instances, groups int
	}{{"resnet18", 8, 7}, {"resnet50", 16, 8}, {"resnet152", 50, 8}, {"googlenet", 11, 11}} {
		m := compileNetwork(t, tc.net)
		e := &emitter{p: NewPlan(m), pkg: tc.net, seen: map[string]bool{}, used: map[string]bool{}}
		e.top = &names{decls: map[string]string{}, byLit: map[string]string{}, e: e}
		e.units = e.unitsOf()
		e.groups = e.groupsOf(e.units)
		instances := 0
		for _, g := range e.groups {
			instances += len(g.units)
			for _, u := range g.units {
				own := renderUnit(u, constant{})
				if got := renderUnit(g.units[0], evaluated{g, u}); got != own {
					t.Errorf("%s: %s's code through %s differs from its own:\n%s\nwant\n%s", tc.net, u.inst, g.name, got, own)
				}
			}
		}
		if instances != tc.instances || len(e.groups) != tc.groups {
			t.Errorf("%s: %d block instances in %d groups, want %d in %d", tc.net, instances, len(e.groups), tc.instances, tc.groups)
		}
	}
}
