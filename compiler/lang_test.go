package compiler

import (
	"os"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/op"
)

func compileFile(t *testing.T, path string) *Model {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, errs := CompileSource(path, src)
	if len(errs) > 0 {
		t.Fatal(errs.Render(src))
	}
	return m
}

// instances sums the parameters of the layers of each block instance (the
// name's first part) and lists each instance's layer words.
func instances(m *Model) (params map[string]int64, words map[string]string) {
	params, words = map[string]int64{}, map[string]string{}
	for _, l := range m.Layers[1:] {
		inst, _, _ := strings.Cut(l.Node.Name, ".")
		params[inst] += l.Params
		words[inst] = strings.TrimSpace(words[inst] + " " + l.Node.Word())
	}
	return params, words
}

// TestMobileNetV2Blocks: in.c, if and residual if give torchvision's
// InvertedResidual(32, 16, 1, 1), (16, 24, 2, 6) and (24, 24, 1, 6): their
// parameter counts (printed by PyTorch 1.13 / torchvision 0.14: 896, 5136,
// 8832), their layers (no expansion conv when t == 1, a residual only when
// use_res_connect) and output shapes.
func TestMobileNetV2Blocks(t *testing.T) {
	m := compileFile(t, "../testdata/lang/mobilenet_v2_blocks.cnn")
	params, words := instances(m)
	for _, c := range []struct {
		inst  string
		param int64
		words string
		out   op.Shape
	}{
		{"inverted1", 896, "conv bn relu conv bn", op.Shape{H: 16, W: 16, C: 16}},
		{"inverted2", 5136, "conv bn relu conv bn relu conv bn", op.Shape{H: 8, W: 8, C: 24}},
		{"inverted3", 8832, "conv bn relu conv bn relu conv bn add", op.Shape{H: 8, W: 8, C: 24}},
	} {
		if params[c.inst] != c.param || words[c.inst] != c.words {
			t.Errorf("%s: %d params, layers %q; want %d (torchvision) and %q", c.inst, params[c.inst], words[c.inst], c.param, c.words)
		}
		var last *Layer
		for _, l := range m.Layers {
			if strings.HasPrefix(l.Node.Name, c.inst+".") {
				last = l
			}
		}
		if last == nil || last.Out != c.out {
			t.Errorf("%s: output %v, want %v", c.inst, last.Out, c.out)
		}
	}
	// The depthwise convs: groups = in.c * t.
	for name, groups := range map[string]int{"inverted1.conv1": 32, "inverted2.conv2": 96, "inverted3.conv2": 144} {
		for _, l := range m.Layers {
			if c, ok := l.Node.Op.(*op.Conv); ok && l.Node.Name == name && c.Groups != groups {
				t.Errorf("%s: %d groups, want %d", name, c.Groups, groups)
			}
		}
	}
	if m.Params != 896+5136+8832 {
		t.Errorf("%d params in all, want %d", m.Params, 896+5136+8832)
	}
}

// TestDenseNetBlocks: concat { identity | ... } and in.c / 2 give
// torchvision's _DenseLayer(16, 8, 4, 0), _DenseLayer(24, 8, 4, 0) and
// _Transition(32, 16): 2912, 3184 and 576 parameters (PyTorch 1.13), depths
// 24, 32, then 16 at half the size; the identities cost no memory.
func TestDenseNetBlocks(t *testing.T) {
	m := compileFile(t, "../testdata/lang/densenet_blocks.cnn")
	params, words := instances(m)
	for _, c := range []struct {
		inst  string
		param int64
		words string
	}{
		{"dense1", 2912, "identity bn relu conv bn relu conv concat"},
		{"dense2", 3184, "identity bn relu conv bn relu conv concat"},
		{"transition1", 576, "bn relu conv avgpool"},
	} {
		if params[c.inst] != c.param || words[c.inst] != c.words {
			t.Errorf("%s: %d params, layers %q; want %d (torchvision) and %q", c.inst, params[c.inst], words[c.inst], c.param, c.words)
		}
	}
	if out := m.Output().Out; out != (op.Shape{H: 4, W: 4, C: 16}) {
		t.Errorf("output %v, want 4x4x16", out)
	}
	p := NewPlan(m)
	for _, s := range p.Steps {
		if _, ok := s.Op.(*op.Identity); ok && (!s.Alias || s.Out != s.In[0].Out || s.L.Activations != 0) {
			t.Errorf("%s: alias %v, buffer %v (input's %v), %d activations: want the input's buffer", s.L.Node.Name, s.Alias, s.Out, s.In[0].Out, s.L.Activations)
		}
	}
}

// TestIdentityAlias: an identity always shares its input's buffer, and an
// in-place op after it works in place only when it is the only reader of
// that buffer, through the identity.
func TestIdentityAlias(t *testing.T) {
	for _, c := range []struct {
		src   string
		alias bool // relu1's
	}{
		{"input 4x4x2\nconv 2 1x1 -> identity -> relu", true},
		{"input 4x4x2\nconv 2 1x1 -> identity -> identity -> relu", true},
		{"input 4x4x2\nconv 2 1x1 -> concat { identity -> relu | conv 2 1x1 }", false},
		{"input 4x4x2\nconv 2 1x1 -> concat { identity -> identity -> relu | conv 2 1x1 }", false},
		{"input 4x4x2\nconv 2 1x1 -> lrn -> identity -> relu", false},
	} {
		m, errs := CompileSource("t.cnn", []byte(c.src))
		if len(errs) > 0 {
			t.Fatal(errs.Render([]byte(c.src)))
		}
		for _, s := range NewPlan(m).Steps {
			switch s.Op.(type) {
			case *op.Identity:
				if !s.Alias {
					t.Errorf("%q: %s not aliased", c.src, s.L.Node.Name)
				}
			case *op.ReLU:
				if s.Alias != c.alias {
					t.Errorf("%q: relu alias %v, want %v", c.src, s.Alias, c.alias)
				}
			}
		}
	}
}

// TestIdentityProbs: the loss's probabilities do not overwrite a buffer an
// identity shares with another reader (here the aux head's input).
func TestIdentityProbs(t *testing.T) {
	for _, c := range []struct {
		src   string
		apart bool
	}{
		{"input 4x4x2\nconv 2 1x1 -> gap -> fc 3 -> identity", false},
		{"input 4x4x2\nconv 2 1x1 -> gap -> fc 3 -> aux { fc 3 } -> identity", true},
	} {
		m, errs := CompileSource("t.cnn", []byte(c.src))
		if len(errs) > 0 {
			t.Fatal(errs.Render([]byte(c.src)))
		}
		p := NewPlan(m)
		out := p.Steps[len(p.Steps)-1]
		if _, ok := out.Op.(*op.Identity); !ok {
			t.Fatalf("%q: the last step is %s", c.src, out.Op)
		}
		if apart := out.Probs != out.Out; apart != c.apart {
			t.Errorf("%q: probabilities apart %v (probs %v, output %v), want %v", c.src, apart, out.Probs, out.Out, c.apart)
		}
	}
}
