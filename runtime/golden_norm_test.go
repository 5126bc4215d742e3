package runtime

import "testing"

// PyTorch's layernorm (torchvision's LayerNorm2d, and nn.LayerNorm on
// vectors), layer scale, channel shuffle and stochastic depth
// (testdata/torch/gen.py, norm_cases).

func TestGoldenLayerNorm(t *testing.T) {
	g := loadGolden(t)
	for _, tc := range []struct {
		name string
		eps  float32
	}{{"layernorm", 0}, {"layernormflat", 1e-5}} {
		xs := g.shape(tc.name + ".x")
		l := LayerNorm{C: xs[1], H: 1, W: 1, Eps: tc.eps}
		if len(xs) == 4 {
			l.H, l.W = xs[2], xs[3]
		}
		n := xs[0]
		x, dy, gamma, beta := g.get(tc.name+".x"), g.get(tc.name+".dy"), g.get(tc.name+".gamma"), g.get(tc.name+".beta")
		for _, ref := range []bool{false, true} {
			y, st := make([]float32, len(x)), make([]float32, 2*n*l.H*l.W)
			dx, dg, db := make([]float32, len(x)), make([]float32, l.C), make([]float32, l.C)
			if ref {
				l.ForwardRef(n, x, y, gamma, beta, st)
				l.BackwardRef(n, x, dy, gamma, st, dx, dg, db)
			} else {
				l.Forward(n, x, y, gamma, beta, st)
				l.Backward(n, x, dy, gamma, st, dx, dg, db, make([]float32, l.ScratchSize(n)))
			}
			g.cmp(tc.name+".y", y)
			g.cmp(tc.name+".dx", dx)
			g.cmp(tc.name+".dgamma", dg)
			g.cmp(tc.name+".dbeta", db)
		}
	}
}

func TestGoldenLayerScale(t *testing.T) {
	g := loadGolden(t)
	xs := g.shape("layerscale.x")
	l := LayerScale{C: xs[1], HW: xs[2] * xs[3]}
	x, gamma, dy := g.get("layerscale.x"), g.get("layerscale.gamma"), g.get("layerscale.dy")
	y, dx, dg := make([]float32, len(x)), make([]float32, len(x)), make([]float32, l.C)
	l.Forward(xs[0], x, gamma, y)
	l.Backward(xs[0], x, gamma, dy, dx, dg)
	g.cmp("layerscale.y", y)
	g.cmp("layerscale.dx", dx)
	g.cmp("layerscale.dgamma", dg)
}

func TestGoldenShuffle(t *testing.T) {
	g := loadGolden(t)
	xs := g.shape("shuffle.x")
	s := Shuffle{C: xs[1], HW: xs[2] * xs[3], G: 3}
	x, dy := g.get("shuffle.x"), g.get("shuffle.dy")
	y, dx := make([]float32, len(x)), make([]float32, len(x))
	s.Forward(xs[0], x, y)
	s.Backward(xs[0], dy, dx)
	g.cmp("shuffle.y", y)
	g.cmp("shuffle.dx", dx)
}

// TestGoldenDropPath: torchvision's stochastic depth dropped some images
// and scaled the others; its mask, read back from y/x, applied by
// DropPath's frozen forward (Backward on the values) and backward gives
// PyTorch's y and dx, and is 0 or 1/(1-P) per image.
func TestGoldenDropPath(t *testing.T) {
	g := loadGolden(t)
	xs := g.shape("droppath.x")
	n, size := xs[0], xs[1]*xs[2]*xs[3]
	x, y, dy := g.get("droppath.x"), g.get("droppath.y"), g.get("droppath.dy")
	d := DropPath{P: 0.5}
	mask := make([]float32, n)
	kept := 0
	for i := range mask {
		mask[i] = y[i*size] / x[i*size]
		if mask[i] != 0 {
			kept++
			if mask[i] < 1.999 || mask[i] > 2.001 {
				t.Fatalf("image %d scaled by %v, want 1/(1-P) = 2", i, mask[i])
			}
			mask[i] = 2
		}
	}
	if kept == 0 || kept == n {
		t.Fatalf("%d of %d images kept: the case tests nothing", kept, n)
	}
	d.Backward(x, mask)
	g.cmp("droppath.y", x)
	d.Backward(dy, mask)
	g.cmp("droppath.dx", dy)
}
