package runtime

import (
	"os"
	"strconv"
	"testing"
)

// benchDepthwise are MobileNet-v2's depthwise layers (batch 8): 3x3 with
// padding 1, at stride 1 and 2. bench/depthwise.sh runs them next to
// PyTorch's Conv2d(C, C, 3, groups=C).
var benchDepthwise = []struct {
	name string
	c    Conv
}{
	{"112x112x32_s1", dwconv(32, 112, 112, 3, 1, 1, 1, false)},
	{"56x56x144_s2", dwconv(144, 56, 56, 3, 2, 1, 1, false)},
	{"14x14x576_s1", dwconv(576, 14, 14, 3, 1, 1, 1, false)},
	{"7x7x960_s1", dwconv(960, 7, 7, 3, 1, 1, 1, false)},
}

// BenchmarkDepthwise: forward, input gradient and weight gradient (with
// the bias's) of each layer, batch 8, in GFLOP/s = 2 * MACs / time; the
// direct kernels, and with CNNC_DW_GENERAL=1 the general im2col + gemm
// paths they replace. CNNC_WORKERS=k runs them with SetWorkers(k). Also
// cpuGFLOP/s, per second of process CPU time (user+sys): steadier than
// wall time on a shared machine.
func BenchmarkDepthwise(b *testing.B) {
	const n = 8
	if v, err := strconv.Atoi(os.Getenv("CNNC_WORKERS")); err == nil && v > 0 {
		defer SetWorkers(SetWorkers(v))
	}
	paths := []string{"direct"}
	if os.Getenv("CNNC_DW_GENERAL") == "1" {
		paths = append(paths, "general")
	}
	for _, bc := range benchDepthwise {
		c := bc.c
		r := newRand(1)
		x, w, bias, dy := randSlice(r, n*c.inSize()), randSlice(r, c.wSize()), randSlice(r, c.K), randSlice(r, n*c.outSize())
		y, dx, dw, db := make([]float32, n*c.outSize()), make([]float32, n*c.inSize()), make([]float32, c.wSize()), make([]float32, c.K)
		flop := 2 * float64(c.MACs()) * n
		for _, path := range paths {
			convDepthwise = path == "direct"
			sc := make([]float32, c.ScratchSize(n))
			for _, pass := range []struct {
				name string
				f    func()
			}{
				{"fwd", func() { c.Forward(n, x, w, bias, y, sc) }},
				{"bwd_data", func() { c.BackwardData(n, dy, w, dx, sc) }},
				{"bwd_filter", func() { c.BackwardFilter(n, x, dy, dw, db, sc) }},
			} {
				name := bc.name + "/" + pass.name
				if len(paths) > 1 {
					name += "/" + path
				}
				b.Run(name, func(b *testing.B) {
					pass.f()
					b.ResetTimer()
					t0 := cpuSeconds()
					for b.Loop() {
						pass.f()
					}
					b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					b.ReportMetric(flop*float64(b.N)/(cpuSeconds()-t0)/1e9, "cpuGFLOP/s")
				})
			}
		}
		convDepthwise = true
	}
}
