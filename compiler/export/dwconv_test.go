package export

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/internal/ort"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// TestDepthwiseNodes: dwconv is a Conv whose group is the input's depth,
// gap HxW over an input it divides an AveragePool of kernel = stride =
// in/out, fc nobias a Gemm of two inputs.
func TestDepthwiseNodes(t *testing.T) {
	src := "network N\ninput 12x9x6\ndwconv 3x3 s2 p1 d1 nobias -> gap 2x1 -> fc 4 nobias -> fc 3\n"
	m := compile(t, "n.cnn", []byte(src))
	model, err := Model(m, zeros(m), "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range model.Graph.Nodes {
		s := fmt.Sprintf("%s(%d)", n.OpType, len(n.Inputs))
		if g := n.AttrInt("group", 0); g != 0 {
			s += fmt.Sprintf(" group=%d", g)
		}
		for _, a := range []string{"kernel_shape", "strides", "pads"} {
			if x := n.Attr(a); x != nil {
				s += fmt.Sprintf(" %s=%v", a, x.Ints)
			}
		}
		got = append(got, s)
	}
	want := "[Conv(2) group=6 kernel_shape=[3 3] strides=[2 2] pads=[1 1 1 1] " +
		"AveragePool(1) kernel_shape=[3 5] strides=[3 5] pads=[0 0 0 0] Flatten(1) Gemm(2) Gemm(3)]"
	if s := fmt.Sprint(got); s != want {
		t.Errorf("nodes\n%s\nwant\n%s", s, want)
	}
}

// TestAdaptiveUneven: gap HxW whose bins differ in size has no ONNX
// operator; the export says so at the layer.
func TestAdaptiveUneven(t *testing.T) {
	src := "network N\ninput 7x6x2\ngap 3x2 -> fc 3\n"
	m := compile(t, "n.cnn", []byte(src))
	_, err := Model(m, zeros(m), "")
	want := "n.cnn:3:1: gap 3x2 over a 7x6 map has bins of unequal sizes, which ONNX (opset 17) has no operator for"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("uneven gap: %v\nwant %s", err, want)
	}
}

// TestAdaptiveORT runs gap HxW over inputs the output divides through ONNX
// Runtime and compares with the runtime's reference kernel.
func TestAdaptiveORT(t *testing.T) {
	ort.Need(t)
	for _, c := range []struct {
		layer        string
		h, w, oh, ow int
	}{
		{"gap 2x3", 4, 9, 2, 3},
		{"gap 7", 14, 7, 7, 7},
		{"gap 1x2", 5, 4, 1, 2},
	} {
		_, x, got := oneLayer(t, c.layer, c.h, c.w)
		want := make([]float32, 4*c.oh*c.ow)
		rt.GAP{C: 2, H: c.h, W: c.w, OH: c.oh, OW: c.ow}.ForwardRef(2, x.Data, want)
		sameOutput(t, fmt.Sprintf("%s on %dx%d", c.layer, c.h, c.w), got, want, c.oh, c.ow)
	}
}
