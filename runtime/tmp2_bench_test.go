package runtime

import (
	"fmt"
	"testing"
)

func BenchmarkTmpFwd(b *testing.B) {
	for _, c := range []Conv{
		conv(512, 7, 7, 512, 3, 3, 1, 1, 1, 1, false),
		conv(256, 14, 14, 256, 3, 3, 1, 1, 1, 1, false),
		conv(128, 28, 28, 128, 3, 3, 1, 1, 1, 1, false),
		conv(64, 56, 56, 64, 3, 3, 1, 1, 1, 1, false),
		conv(128, 56, 56, 128, 3, 3, 2, 1, 1, 1, false),
		conv(3, 224, 224, 64, 7, 7, 2, 3, 1, 1, false),
	} {
		for _, ind := range []bool{false, true} {
			for _, pass := range []string{"fwd", "data"} {
				n := 8
				r := newRand(1)
				x, w, y := randSlice(r, n*c.inSize()), randSlice(r, c.wSize()), make([]float32, n*c.outSize())
				b.Run(fmt.Sprintf("%dx%dx%ds%d/%s/ind=%v", c.C, c.H, c.K, c.SH, pass, ind), func(b *testing.B) {
					defer func(o bool) { convIndirect = o }(convIndirect)
					convIndirect = ind
					sc := make([]float32, c.ScratchSize(n))
					for b.Loop() {
						if pass == "fwd" {
							c.Forward(n, x, w, nil, y, sc)
						} else {
							c.BackwardData(n, y, w, x, sc)
						}
					}
					b.ReportMetric(2*float64(c.MACs())*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
