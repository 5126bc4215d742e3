package compiler

import "testing"

// TestActivationPlan: what runs in place around the activations after
// 2015 follows from what each backward reads (op/activation_modern.go).
func TestActivationPlan(t *testing.T) {
	for _, tc := range []struct {
		chain string
		alias map[string]bool // layer: runs in place
		own   bool            // the loss's probabilities get a buffer of their own
	}{
		// sigmoid is positive: over a relu's output it would hide the signs
		// relu's backward reads, so it never runs in place.
		{"conv 4 3x3 -> relu -> sigmoid -> fc 10", map[string]bool{"relu1": true, "sigmoid1": false}, false},
		// relu6 and tanh read their output: a dropout after them copies.
		{"conv 4 3x3 -> relu6 -> dropout 0.5 -> fc 10", map[string]bool{"relu61": true, "dropout1": false}, false},
		{"conv 4 3x3 -> tanh -> relu -> fc 10", map[string]bool{"tanh1": true, "relu1": false}, false},
		// They keep signs: in place over a relu's or a leakyrelu's output.
		{"conv 4 3x3 -> leakyrelu -> relu6 -> tanh -> fc 10", map[string]bool{"leakyrelu1": true, "relu61": true, "tanh1": false}, false},
		// silu, gelu, hardswish and hardsigmoid read their input: what comes
		// after them may overwrite their output.
		{"conv 4 3x3 -> silu -> relu -> gelu -> dropout 0.5 -> hardswish -> relu -> hardsigmoid -> relu6 -> fc 10",
			map[string]bool{"silu1": false, "relu1": true, "gelu1": false, "dropout1": true, "hardswish1": false, "relu2": true, "hardsigmoid1": false, "relu61": true}, false},
		{"conv 4 3x3 -> gelu tanh -> fc 10", map[string]bool{"gelu1": false}, false},
		// The logits' producer reads its output: the probabilities go
		// apart, into a buffer of their own, or into the softmax's, which
		// does not run in place over that output.
		{"fc 10 -> relu6 -> softmax", map[string]bool{"relu61": true, "softmax1": false}, false},
		{"fc 10 -> tanh", map[string]bool{"tanh1": true}, true},
		{"fc 10 -> sigmoid -> softmax", map[string]bool{"sigmoid1": false, "softmax1": false}, false},
		{"fc 10 -> sigmoid", map[string]bool{"sigmoid1": false}, true},
		{"fc 10 -> silu -> softmax", map[string]bool{"silu1": false}, false},
		{"fc 10 -> gelu", map[string]bool{"gelu1": false}, false},
	} {
		src := "input 6x6x3\n" + tc.chain + "\n"
		m, errs := CompileSource("t.cnn", []byte(src))
		if len(errs) > 0 {
			t.Fatalf("%s", errs.Render([]byte(src)))
		}
		p := NewPlan(m)
		seen := 0
		for _, s := range p.Steps {
			if want, ok := tc.alias[s.L.Node.Name]; ok {
				seen++
				if s.Alias != want {
					t.Errorf("%s: %s in place: %v, want %v", tc.chain, s.L.Node.Name, s.Alias, want)
				}
			}
		}
		if seen != len(tc.alias) {
			t.Errorf("%s: %d of the %d layers found", tc.chain, seen, len(tc.alias))
		}
		out := p.Steps[len(p.Steps)-1]
		if own := out.Probs != out.Out; own != tc.own {
			t.Errorf("%s: probabilities in a buffer of their own: %v, want %v", tc.chain, own, tc.own)
		}
	}
}
