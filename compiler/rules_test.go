package compiler

import (
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/op"
)

// TestTrainEqualsServe holds the rules that keep the network trained the
// network served and a file a PyTorch network: what they accept (each a
// construct PyTorch or the zoo uses) and what they refuse, by message.
func TestTrainEqualsServe(t *testing.T) {
	for _, tc := range []struct {
		chain string
		err   string // "" when it compiles
	}{
		{"conv 4 3x3 -> gap -> fc 10 -> softmax", ""},
		{"conv 4 3x3 -> gap -> conv 10 1x1 -> softmax", ""}, // gap gives (N, C, 1, 1)
		{"conv 4 3x3 -> fc 32 -> bn -> relu -> dropout 0.5 -> leakyrelu -> fc 10", ""},
		{"conv 4 3x3 -> fc 32 -> concat { fc 8 | relu } -> residual { fc 40 -> relu } -> fc 10 -> softmax", ""},
		{"conv 4 3x3 -> fc 32 -> residual { fc 16 } shortcut { fc 16 } -> fc 10", ""},
		{"conv 4 3x3 -> aux weight 0.3 { gap -> fc 10 -> softmax } -> gap -> fc 10 -> softmax", ""},
		{"conv 4 3x3 -> aux { gap -> fc 10 } -> fc 10", ""},
		{"conv 4 3x3 -> conv 8 1x1", ""}, // no softmax, no aux: a map output is fine
		{"conv 4 3x3 -> gap -> fc 10 -> softmax -> fc 10", "softmax must be the last layer"},
		{"conv 4 3x3 -> gap -> fc 10 -> softmax -> softmax", "softmax must be the last layer"},
		{"conv 4 3x3 -> residual { gap -> fc 4 -> softmax } -> gap -> fc 10", "softmax must be the last layer"},
		{"conv 4 3x3 -> aux { gap -> softmax -> fc 10 } -> gap -> fc 10", "softmax must be the last layer"},
		{"conv 10 3x3 -> softmax", "not class scores"},
		{"conv 4 3x3 -> fc 10 -> conv 4 1x1", "needs a feature map, but its input is the flat output of fc 10"},
		{"conv 4 3x3 -> fc 10 -> conv 4 3x3", "flat output of fc 10"},
		{"conv 4 3x3 -> fc 10 -> relu -> bn -> maxpool 1", "flat output of fc 10"},
		{"conv 4 3x3 -> fc 10 -> dropout 0.5 -> avgpool 1", "flat output of fc 10"},
		{"conv 4 3x3 -> fc 10 -> gap", "flat output of fc 10"},
		{"conv 4 3x3 -> fc 10 -> lrn", "flat output of fc 10"},
		{"conv 4 3x3 -> fc 10 -> concat { relu | fc 4 } -> conv 4 1x1", "flat output of fc 10"},
		{"conv 4 3x3 -> fc 10 -> residual { fc 4 }", "the implied 1x1 projection is a conv"},
		{"conv 4 3x3 -> gap -> fc 10 -> aux { fc 10 } -> softmax", "aux head after the network's output"},
		{"conv 4 3x3 -> gap -> fc 10 -> aux { fc 10 }", "aux head after the network's output"},
		{"conv 4 3x3 -> aux { gap -> fc 5 } -> gap -> fc 10 -> softmax", "aux head gives 1x1x5 but the network's output is 1x1x10"},
		{"conv 4 3x3 -> aux { gap -> fc 10 } -> conv 10 1x1", "not a classifier"},
	} {
		src := "input 8x8x3\n" + tc.chain + "\n"
		_, errs := CompileSource("t.cnn", []byte(src))
		got := errs.Render([]byte(src))
		switch {
		case tc.err == "" && len(errs) > 0:
			t.Errorf("%s: want no error, got\n%s", tc.chain, got)
		case tc.err != "" && !strings.Contains(got, tc.err):
			t.Errorf("%s: want an error with %q, got\n%s", tc.chain, tc.err, got)
		}
	}
}

// TestKindFlags: the flags the rules read are where the docs say.
func TestKindFlags(t *testing.T) {
	var final, flat, needsMap []string
	for _, w := range op.Words() {
		k := op.Lookup(w)
		if k.Final {
			final = append(final, w)
		}
		if k.Flat {
			flat = append(flat, w)
		}
		if k.NeedsMap {
			needsMap = append(needsMap, w)
		}
	}
	got := strings.Join(final, " ") + "; " + strings.Join(flat, " ") + "; " + strings.Join(needsMap, " ")
	if want := "softmax; fc; conv maxpool avgpool gap lrn layerscale shuffle dwconv"; got != want {
		t.Errorf("Final; Flat; NeedsMap = %q, want %q", got, want)
	}
}

// TestProbs: the loss writes its probabilities over the output (in place of
// the logits, or in a final softmax's buffer) unless a backward reads that
// buffer: relu and leakyrelu read their output's sign, lrn its values.
func TestProbs(t *testing.T) {
	for _, tc := range []struct {
		chain string
		own   bool // the probabilities get a buffer of their own
	}{
		{"fc 10 -> softmax", false},
		{"fc 10", false},
		{"fc 10 -> dropout 0.5 -> softmax", false},
		{"fc 10 -> relu -> softmax", true},
		{"fc 10 -> relu", true},
		{"fc 10 -> leakyrelu", true},
		{"fc 10 -> relu -> dropout 0.5 -> softmax", true},
		{"conv 10 1x1 -> gap -> lrn -> softmax", false}, // lrn keeps its output: the softmax has its own buffer
		{"conv 10 1x1 -> gap -> lrn", true},
	} {
		src := "input 4x4x3\n" + tc.chain + "\n"
		m, errs := CompileSource("t.cnn", []byte(src))
		if len(errs) > 0 {
			t.Fatalf("%s", errs.Render([]byte(src)))
		}
		p := NewPlan(m)
		out := p.Steps[len(p.Steps)-1]
		if own := out.Probs != out.Out; own != tc.own {
			t.Errorf("%s: probabilities in a buffer of their own: %v, want %v", tc.chain, own, tc.own)
		}
		if out.Probs.Size != 10 || out.Probs.Off+out.Probs.Size > p.Train {
			t.Errorf("%s: probabilities at %+v, training layout of %d", tc.chain, out.Probs, p.Train)
		}
	}
	for _, name := range []string{"lenet5", "googlenet", "resnet18"} {
		p := NewPlan(compileNetwork(t, name))
		for _, s := range p.Steps {
			if s.Probs != s.Out && s.Probs != (Buf{}) {
				t.Errorf("%s: %s's probabilities moved: the zoo's generated code would change", name, s.Ident)
			}
		}
	}
}
