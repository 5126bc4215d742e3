package diagram

import (
	"bytes"
	"flag"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/compiler"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// nets are the zoo and the small networks of testdata/nets: every
// construct of the language.
func nets(t testing.TB) []string {
	zoo, _ := filepath.Glob("../../networks/*.cnn")
	small, _ := filepath.Glob("../../testdata/nets/*.cnn")
	if len(zoo) == 0 || len(small) == 0 {
		t.Fatal("no networks")
	}
	return append(append(zoo, small...), "testdata/odd.cnn")
}

func compile(t testing.TB, path string) *compiler.Model {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, errs := compiler.CompileSource(path, src)
	if len(errs) > 0 {
		t.Fatalf("%s", errs.Render(src))
	}
	return m
}

// check holds what every diagram must be: no two boxes overlap (their
// cards included), every edge joins two boxes and starts and ends on
// their borders, every layer (or block call) has its box, one edge per
// input, and the picture holds everything.
func check(t testing.TB, m *compiler.Model, d *Diagram, collapse bool) {
	t.Helper()
	ext := func(b Box) (x0, y0, x1, y1 float64) {
		o := float64(cards(b.Groups)-1) * cardOffset
		return b.X, b.Y, b.X + b.W + o, b.Y + b.H + o
	}
	for i, a := range d.Boxes {
		ax0, ay0, ax1, ay1 := ext(a)
		if ax0 < 0 || ay0 < 0 || ax1 > d.Width || ay1 > d.Height {
			t.Errorf("%s: box %s outside the picture", m.Net.Name, a.Name)
		}
		for _, b := range d.Boxes[i+1:] {
			bx0, by0, bx1, by1 := ext(b)
			if ax0 < bx1 && bx0 < ax1 && ay0 < by1 && by0 < ay1 {
				t.Errorf("%s: boxes %s and %s overlap", m.Net.Name, a.Name, b.Name)
			}
		}
	}
	on := func(p Point, b Box) bool {
		const eps = 0.01
		inside := p.X >= b.X-eps && p.X <= b.X+b.W+eps && p.Y >= b.Y-eps && p.Y <= b.Y+b.H+eps
		border := math.Abs(p.X-b.X) < eps || math.Abs(p.X-b.X-b.W) < eps || math.Abs(p.Y-b.Y) < eps || math.Abs(p.Y-b.Y-b.H) < eps
		return inside && border
	}
	for _, f := range d.Frames {
		if f.X < 0 || f.Y < 0 || f.X+f.W > d.Width || f.Y+f.H > d.Height {
			t.Errorf("%s: frame %s outside the picture", m.Net.Name, f.Name)
		}
		for _, b := range d.Boxes {
			x0, y0, x1, y1 := ext(b)
			inside := x0 >= f.X && x1 <= f.X+f.W && y0 >= f.Y && y1 <= f.Y+f.H
			apart := x1 <= f.X || x0 >= f.X+f.W || y1 <= f.Y || y0 >= f.Y+f.H
			// An aux head is drawn to the right, outside the frame of the call it is in.
			if member := strings.HasPrefix(b.Name, f.Name+".") && !b.Aux; member && !inside || !member && !apart {
				t.Errorf("%s: box %s (member %v) and frame %s: %+v %+v", m.Net.Name, b.Name, member, f.Name, b, f)
			}
		}
	}
	inputs := 0
	for _, e := range d.Edges {
		if e.From < 0 || e.From >= len(d.Boxes) || e.To < 0 || e.To >= len(d.Boxes) || e.From == e.To {
			t.Fatalf("%s: edge %d -> %d joins no two boxes", m.Net.Name, e.From, e.To)
		}
		if len(e.Points) < 2 || !on(e.Points[0], d.Boxes[e.From]) || !on(e.Points[len(e.Points)-1], d.Boxes[e.To]) {
			t.Errorf("%s: edge %s -> %s does not run from border to border: %v", m.Net.Name, d.Boxes[e.From].Name, d.Boxes[e.To].Name, e.Points)
		}
	}
	names := map[string]bool{}
	for _, b := range d.Boxes {
		names[b.Name] = true
	}
	for _, l := range m.Layers {
		want := l.Node.Name
		if collapse && len(l.Node.Calls) > 0 {
			want = l.Node.Calls[0].Instance
		}
		if !names[want] {
			t.Errorf("%s: no box for %s", m.Net.Name, want)
		}
		if !collapse {
			inputs += len(l.Inputs)
		}
	}
	if !collapse && (len(d.Boxes) != len(m.Layers) || len(d.Edges) != inputs) {
		t.Errorf("%s: %d boxes and %d edges for %d layers and %d inputs", m.Net.Name, len(d.Boxes), len(d.Edges), len(m.Layers), inputs)
	}
}

func TestLayoutInvariants(t *testing.T) {
	for _, path := range nets(t) {
		m := compile(t, path)
		for _, collapse := range []bool{false, true} {
			d, err := Layout(m, Options{Collapse: collapse})
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			check(t, m, d, collapse)
			again, err := Layout(compile(t, path), Options{Collapse: collapse})
			if err != nil || !bytes.Equal(d.SVG(), again.SVG()) || !bytes.Equal(d.DOT(), again.DOT()) {
				t.Errorf("%s: two layouts of the same file differ (%v)", path, err)
			}
		}
	}
}

// TestStructure checks what the pictures are for: an inception module's
// four branches side by side, a residual's identity as a skip edge, a
// projection beside its body, an aux head to the right, a grouped conv
// marked, and a collapsed block call as one box with its call and shapes.
func TestStructure(t *testing.T) {
	box := func(d *Diagram, name string) Box {
		for _, b := range d.Boxes {
			if b.Name == name {
				return b
			}
		}
		t.Fatalf("no box %s", name)
		return Box{}
	}
	d, _ := Layout(compile(t, "../../networks/googlenet.cnn"), Options{})
	heads := []Box{box(d, "inception3a.conv1"), box(d, "inception3a.conv2"), box(d, "inception3a.conv4"), box(d, "inception3a.maxpool1")}
	for i := 1; i < len(heads); i++ {
		if heads[i].Y != heads[0].Y || heads[i].X <= heads[i-1].X+heads[i-1].W {
			t.Errorf("inception3a's branch %d is not beside branch %d: %+v %+v", i, i-1, heads[i-1], heads[i])
		}
	}
	if aux, main := box(d, "aux1.classifier1.avgpool1"), box(d, "inception4b.maxpool1"); aux.X <= main.X+main.W || !aux.Aux {
		t.Errorf("aux1 is not a side branch right of the network: %+v", aux)
	}
	d, _ = Layout(compile(t, "../../networks/googlenet.cnn"), Options{Collapse: true})
	if b := box(d, "inception3a"); b.Lines[0] != "inception3a: inception(64, 96, 128, 16, 32, 32)" || b.Lines[1] != "28x28x192 -> 28x28x256" || b.Family != Block {
		t.Errorf("collapsed inception3a: %q", b.Lines)
	}
	d, _ = Layout(compile(t, "../../testdata/nets/mini_resnet.cnn"), Options{})
	skips, projections := 0, 0
	for _, e := range d.Edges {
		if e.Skip && d.Boxes[e.To].Family == Join {
			skips++
		}
		if d.Boxes[e.From].Implied && d.Boxes[e.From].X <= box(d, "basic3.conv1").X {
			t.Errorf("the projection is not right of its body")
		}
		if d.Boxes[e.From].Implied {
			projections++
		}
	}
	if skips != 3 || projections != 2 { // basic1, basic2, basic3's projection; conv+bn of it
		t.Errorf("mini_resnet: %d shortcut edges into a residual and %d out of an implied projection", skips, projections)
	}
	d, _ = Layout(compile(t, "../../networks/alexnet.cnn"), Options{})
	if b := box(d, "conv2"); b.Groups != 2 || b.Lines[2] != "2 groups of 48 -> 128" {
		t.Errorf("alexnet conv2 is not marked grouped: %+v", b)
	}
}

func TestGoldenSVG(t *testing.T) {
	for _, collapse := range []bool{false, true} {
		d, err := Layout(compile(t, "../../testdata/nets/mini_resnet.cnn"), Options{Collapse: collapse})
		if err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("testdata/mini_resnet.collapse_%v.svg", collapse)
		golden(t, path, d.SVG())
		golden(t, path[:len(path)-len("svg")]+"dot", d.DOT())
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s", path, got)
	}
}

func TestPNG(t *testing.T) {
	for _, path := range []string{"../../testdata/nets/mini_resnet.cnn", "../../networks/alexnet.cnn"} {
		d, err := Layout(compile(t, path), Options{})
		if err != nil {
			t.Fatal(err)
		}
		data, err := d.PNG()
		if err != nil {
			t.Fatal(err)
		}
		im, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if b := im.Bounds(); b.Dx() != int(math.Ceil(2*d.Width)) || b.Dy() != int(math.Ceil(2*d.Height)) {
			t.Errorf("%s: %v for a %gx%g diagram", path, b, d.Width, d.Height)
		}
		// The first box is drawn: its fill at its centre.
		x := d.Boxes[1]
		r, g, b, _ := im.At(int(2*(x.X+4)), int(2*(x.Y+x.H/2))).RGBA()
		want := palette[x.Family][0]
		if uint8(r>>8) != want.r || uint8(g>>8) != want.g || uint8(b>>8) != want.b {
			t.Errorf("%s: box %s is not filled with %s at its left", path, x.Name, want.hex())
		}
	}
}

// TestWasm builds the package for the browser, as the playground does.
func TestWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds for js/wasm")
	}
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", os.DevNull, ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go build: %v\n%s", err, out)
	}
}

func TestNoModel(t *testing.T) {
	if _, err := Layout(nil, Options{}); err == nil {
		t.Error("no error for a nil model")
	}
}

// FuzzLayout lays out any file that compiles, expanded and collapsed, and
// checks the invariants.
func FuzzLayout(f *testing.F) {
	for _, path := range nets(f) {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		m, errs := compiler.CompileSource("f.cnn", src)
		if len(errs) > 0 || len(m.Layers) > 2000 {
			return
		}
		for _, collapse := range []bool{false, true} {
			d, err := Layout(m, Options{Collapse: collapse})
			if err != nil {
				t.Fatal(err)
			}
			check(t, m, d, collapse)
		}
	})
}
