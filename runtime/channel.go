package runtime

import "fmt"

// LayerScale is ConvNeXt's layer scale: each channel of (N,C,H,W) tensors
// multiplied by its own learnable factor, y = x * gamma[c] (torchvision's
// CNBlock, gamma of shape (C,1,1)). HW is H*W. The kernel is its own
// reference.
type LayerScale struct{ C, HW int }

// Forward: x and y are (N,C,H,W), gamma (C).
func (l LayerScale) Forward(n int, x, gamma, y []float32) {
	check("LayerScale.Forward", "x", x, n*l.C*l.HW)
	check("LayerScale.Forward", "y", y, len(x))
	check("LayerScale.Forward", "gamma", gamma, l.C)
	for i := 0; i < n*l.C; i++ {
		g := gamma[i%l.C]
		xs, ys := x[i*l.HW:(i+1)*l.HW], y[i*l.HW:(i+1)*l.HW]
		ys = ys[:len(xs)]
		for p, v := range xs {
			ys[p] = v * g
		}
	}
}

// Backward: dx += dy * gamma[c] and dgamma[c] += sum dy * x.
func (l LayerScale) Backward(n int, x, gamma, dy, dx, dgamma []float32) {
	check("LayerScale.Backward", "x", x, n*l.C*l.HW)
	check("LayerScale.Backward", "dy", dy, len(x))
	check("LayerScale.Backward", "dx", dx, len(x))
	check("LayerScale.Backward", "gamma", gamma, l.C)
	check("LayerScale.Backward", "dgamma", dgamma, l.C)
	for i := 0; i < n*l.C; i++ {
		c := i % l.C
		g := gamma[c]
		xs, ds, dxs := x[i*l.HW:(i+1)*l.HW], dy[i*l.HW:(i+1)*l.HW], dx[i*l.HW:(i+1)*l.HW]
		ds, dxs = ds[:len(xs)], dxs[:len(xs)]
		var s float32
		for p, v := range xs {
			s += ds[p] * v
			dxs[p] += ds[p] * g
		}
		dgamma[c] += s
	}
}

// Shuffle is ShuffleNet's channel shuffle of (N,C,H,W) tensors with G
// groups: x.view(N, G, C/G, H, W).transpose(1, 2).reshape(N, C, H, W), so
// output channel j*G + g is input channel g*(C/G) + j. HW is H*W. The
// kernels are copies and are their own reference.
type Shuffle struct{ C, HW, G int }

func (s Shuffle) check(op string, n int, x, y []float32) {
	if s.G < 1 || s.C%s.G != 0 {
		panic(fmt.Sprintf("runtime.%s: %d channels in %d groups", op, s.C, s.G))
	}
	check(op, "x", x, n*s.C*s.HW)
	check(op, "y", y, len(x))
}

// Forward: y is x with its channels shuffled.
func (s Shuffle) Forward(n int, x, y []float32) {
	s.check("Shuffle.Forward", n, x, y)
	per := s.C / s.G
	for i := 0; i < n; i++ {
		o := i * s.C * s.HW
		for g := 0; g < s.G; g++ {
			for j := 0; j < per; j++ {
				src, dst := o+(g*per+j)*s.HW, o+(j*s.G+g)*s.HW
				copy(y[dst:dst+s.HW], x[src:src+s.HW])
			}
		}
	}
}

// Backward: dx += dy with the shuffle undone.
func (s Shuffle) Backward(n int, dy, dx []float32) {
	s.check("Shuffle.Backward", n, dy, dx)
	per := s.C / s.G
	for i := 0; i < n; i++ {
		o := i * s.C * s.HW
		for g := 0; g < s.G; g++ {
			for j := 0; j < per; j++ {
				src, dst := o+(j*s.G+g)*s.HW, o+(g*per+j)*s.HW
				addTo(dx[dst:dst+s.HW], dy[src:src+s.HW])
			}
		}
	}
}
