package gen

import (
	"math"
	"testing"

	"github.com/cnnc-dev/cnnc/gen/testnets/mini_misc"
	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/nettest"
)

// TestAdamBetas: the recipe's Adam betas reach the optimizer (mini_misc
// trains with adam): two networks that differ only in beta1 take different
// second steps.
func TestAdamBetas(t *testing.T) {
	p := mini_misc.Program()
	if p.Recipe.Optimizer != "adam" {
		t.Fatalf("mini_misc's optimizer is %s, want adam", p.Recipe.Optimizer)
	}
	q := p
	q.Recipe.Beta1 = 0.5
	a, b := rt.NewNet(&p, 2, 1), rt.NewNet(&q, 2, 1)
	x, labels := nettest.Input(&p, 2, 3), nettest.Labels(&p, 2)
	for range 2 {
		for _, m := range []*rt.Net{a, b} {
			if _, err := m.TrainStep(x, labels); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, ta := range a.Tensors() {
		tb := b.Tensors()[i]
		for j := range ta.Data {
			if math.Float32bits(ta.Data[j]) != math.Float32bits(tb.Data[j]) {
				return
			}
		}
	}
	t.Error("beta1 0.9 and 0.5 gave the same parameters after two Adam steps")
}
