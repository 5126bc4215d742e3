package runtime

import (
	"fmt"
	"testing"
)

// Benchmarks of the ConvNeXt and ShuffleNet layers, batch 8: ConvNeXt-T's
// first stage (96 channels, 56x56) and ShuffleNet V2's second (116
// channels, 28x28, 2 groups). The metric is GB/s of the tensors each pass
// reads and writes once (float32): a memory-bound kernel's speed.
// LayerNorm runs on 1 worker and on 2 (it splits the images).
func BenchmarkLayerNorm(b *testing.B) {
	l := LayerNorm{C: 96, H: 56, W: 56}
	n := 8
	r := newRand(1)
	x, dy := randSlice(r, n*96*56*56), randSlice(r, n*96*56*56)
	y, dx, st := make([]float32, len(x)), make([]float32, len(x)), make([]float32, 2*n*56*56)
	g, bt, dg, db := randSlice(r, 96), randSlice(r, 96), make([]float32, 96), make([]float32, 96)
	for _, w := range []int{1, 2} {
		old := SetWorkers(w)
		sc := make([]float32, l.ScratchSize(n))
		b.Run(fmt.Sprintf("forward/workers=%d", w), func(b *testing.B) {
			for range b.N {
				l.Forward(n, x, y, g, bt, st)
			}
			b.ReportMetric(float64(8*len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		b.Run(fmt.Sprintf("backward/workers=%d", w), func(b *testing.B) {
			for range b.N {
				l.Backward(n, x, dy, g, st, dx, dg, db, sc)
			}
			b.ReportMetric(float64(12*len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		SetWorkers(old)
	}
}

func BenchmarkLayerScale(b *testing.B) {
	l := LayerScale{C: 96, HW: 56 * 56}
	n := 8
	r := newRand(2)
	x, dy := randSlice(r, n*96*56*56), randSlice(r, n*96*56*56)
	y, dx := make([]float32, len(x)), make([]float32, len(x))
	g, dg := randSlice(r, 96), make([]float32, 96)
	b.Run("forward", func(b *testing.B) {
		for range b.N {
			l.Forward(n, x, g, y)
		}
		b.ReportMetric(float64(8*len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
	b.Run("backward", func(b *testing.B) {
		for range b.N {
			l.Backward(n, x, g, dy, dx, dg)
		}
		b.ReportMetric(float64(16*len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
}

func BenchmarkShuffle(b *testing.B) {
	s := Shuffle{C: 116, HW: 28 * 28, G: 2}
	n := 8
	r := newRand(3)
	x := randSlice(r, n*116*28*28)
	y, dx := make([]float32, len(x)), make([]float32, len(x))
	b.Run("forward", func(b *testing.B) {
		for range b.N {
			s.Forward(n, x, y)
		}
		b.ReportMetric(float64(8*len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
	b.Run("backward", func(b *testing.B) {
		for range b.N {
			s.Backward(n, y, dx)
		}
		b.ReportMetric(float64(12*len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
}

// BenchmarkNewLayers: the other kernels of the layers after the lecture,
// batch 8: gap 7x7 (VGG's adaptive pool) on 512x14x14, a split's second
// half (ShuffleNet-v2's 116x28x28 into two), droppath in training on
// ConvNeXt-T's 96x56x56.
func BenchmarkNewLayers(b *testing.B) {
	n := 8
	r := newRand(4)
	g := GAP{C: 512, H: 14, W: 14, OH: 7, OW: 7}
	gx, gy := randSlice(r, n*512*14*14), make([]float32, n*512*7*7)
	b.Run("gap7x7/forward", func(b *testing.B) {
		for range b.N {
			g.Forward(n, gx, gy)
		}
	})
	b.Run("gap7x7/backward", func(b *testing.B) {
		for range b.N {
			g.Backward(n, gy, gx)
		}
	})
	s := Slice{C: 58, Total: 116, Off: 58, HW: 28 * 28}
	sx, sy := randSlice(r, n*116*28*28), make([]float32, n*58*28*28)
	b.Run("split/forward", func(b *testing.B) {
		for range b.N {
			s.Forward(n, sx, sy)
		}
	})
	b.Run("split/backward", func(b *testing.B) {
		for range b.N {
			s.Backward(n, sy, sx)
		}
	})
	d := DropPath{P: 0.1}
	dx, mask, rng := randSlice(r, n*96*56*56), make([]float32, n), NewRNG(5)
	b.Run("droppath/forward", func(b *testing.B) {
		for range b.N {
			d.Forward(dx, mask, rng, true)
		}
	})
	b.Run("droppath/backward", func(b *testing.B) {
		for range b.N {
			d.Backward(dx, mask)
		}
	})
}
