package runtime

import (
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/cnnc-dev/cnnc/runtime/gemm"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// Conv benchmarks: batch 8, the layers of the lecture's networks. The
// metric is GFLOP/s = 2 * MACs of the pass / time (each pass has the MACs
// of the forward). bench/ runs them next to PyTorch.
var benchConvs = []struct {
	name string
	c    Conv
	bias bool
}{
	{"alexnet_conv1", Conv{C: 3, H: 227, W: 227, K: 96, KH: 11, KW: 11, SH: 4, SW: 4, DH: 1, DW: 1, G: 1, OH: 55, OW: 55}, true},
	{"vgg16_conv3-64", Conv{C: 64, H: 224, W: 224, K: 64, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 224, OW: 224}, true},
	{"resnet_3x3-64", Conv{C: 64, H: 56, W: 56, K: 64, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, G: 1, OH: 56, OW: 56}, false},
	{"resnet_1x1-256-64", Conv{C: 256, H: 56, W: 56, K: 64, KH: 1, KW: 1, SH: 1, SW: 1, DH: 1, DW: 1, G: 1, OH: 56, OW: 56}, false},
}

// CNNC_WORKERS=k runs the benchmarks with SetWorkers(k) (default: GOMAXPROCS).
// CNNC_GEMM_THREADS=k runs them with gemm.SetThreads(k) (with CNNC_WORKERS=1:
// a single-threaded comparison, steadier on a loaded machine).
// CNNC_COLBLOCK=f sets the im2col block target (floats).
// CNNC_CPUTIME=1 also reports cpuGFLOP/s, the FLOPs per second of process
// CPU time (user+sys): steadier than wall time on a shared machine.
func BenchmarkConv(b *testing.B) {
	const n = 8
	if v, err := strconv.Atoi(os.Getenv("CNNC_WORKERS")); err == nil && v > 0 {
		defer SetWorkers(SetWorkers(v))
	}
	if v, err := strconv.Atoi(os.Getenv("CNNC_GEMM_THREADS")); err == nil && v > 0 {
		defer gemm.SetThreads(gemm.SetThreads(v))
	}
	cpu := os.Getenv("CNNC_CPUTIME") == "1"
	if v, err := strconv.Atoi(os.Getenv("CNNC_COLBLOCK")); err == nil && v > 0 {
		defer func(old int) { colBlock = old }(colBlock)
		colBlock = v
	}
	for _, bc := range benchConvs {
		c := bc.c
		if err := c.Validate(); err != nil {
			b.Fatal(err)
		}
		r := newRand(1)
		x, w, dy := randSlice(r, n*c.inSize()), randSlice(r, c.wSize()), randSlice(r, n*c.outSize())
		var bias, db []float32
		if bc.bias {
			bias, db = randSlice(r, c.K), make([]float32, c.K)
		}
		y, dx, dw := make([]float32, n*c.outSize()), make([]float32, n*c.inSize()), make([]float32, c.wSize())
		sc := make([]float32, c.ScratchSize(n))
		flop := 2 * float64(c.MACs()) * n
		for _, pass := range []struct {
			name string
			f    func()
		}{
			{"fwd", func() { c.Forward(n, x, w, bias, y, sc) }},
			{"bwd_data", func() { c.BackwardData(n, dy, w, dx, sc) }},
			{"bwd_filter", func() { c.BackwardFilter(n, x, dy, dw, db, sc) }},
		} {
			b.Run(bc.name+"/"+pass.name, func(b *testing.B) {
				pass.f()
				b.ResetTimer()
				t0 := cpuSeconds()
				for b.Loop() {
					pass.f()
				}
				b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu {
					b.ReportMetric(flop*float64(b.N)/(cpuSeconds()-t0)/1e9, "cpuGFLOP/s")
				}
			})
		}
	}
}

// BenchmarkOps: the memory-bound kernels on AlexNet/ResNet-sized tensors,
// batch 8, reporting GB/s of tensor traffic (input + output, 4 bytes each).
func BenchmarkOps(b *testing.B) {
	const n = 8
	r := newRand(2)
	pool := Pool{C: 96, H: 55, W: 55, KH: 3, KW: 3, SH: 2, SW: 2, OH: 27, OW: 27}
	x := randSlice(r, n*96*55*55)
	y, dx := make([]float32, n*96*27*27), make([]float32, len(x))
	arg := make([]int32, len(y))
	l := LRN{C: 96, H: 55, W: 55, Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2}
	ly, ls, lsc := make([]float32, len(x)), make([]float32, len(x)), make([]float32, l.ScratchSize())
	bn := BN{C: 64, H: 56, W: 56}
	bx := randSlice(r, n*64*56*56)
	by, bdx := make([]float32, len(bx)), make([]float32, len(bx))
	g, be, rm, rv, mean, inv := randSlice(r, 64), randSlice(r, 64), make([]float32, 64), make([]float32, 64), make([]float32, 64), make([]float32, 64)
	Fill(rv, 1)
	for _, op := range []struct {
		name  string
		bytes int
		f     func()
	}{
		{"maxpool_fwd", 4 * (len(x) + len(y)), func() { MaxPool(pool).Forward(n, x, y, arg) }},
		{"maxpool_bwd", 4 * (len(x) + len(y)), func() { MaxPool(pool).Backward(n, y, arg, dx) }},
		{"lrn_fwd", 4 * 3 * len(x), func() { l.Forward(n, x, ly, ls, lsc) }},
		{"lrn_bwd", 4 * 5 * len(x), func() { l.Backward(n, x, ly, ls, ly, dx, lsc) }},
		{"bn_train_fwd", 4 * 3 * len(bx), func() { bn.ForwardTrain(n, bx, by, g, be, rm, rv, mean, inv) }},
		{"bn_bwd", 4 * 4 * len(bx), func() { bn.Backward(n, bx, by, g, mean, inv, bdx, rm, rv) }},
	} {
		b.Run(op.name, func(b *testing.B) {
			for b.Loop() {
				op.f()
			}
			b.ReportMetric(float64(op.bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// BenchmarkActivations: the activations on MobileNet's first map,
// 112x112x32, batch 8, forward and backward, next to relu's; the metric is
// GB/s of tensor traffic (4 bytes per value read or written), and the
// process's CPU time per call (user+sys, all workers: steadier than wall
// time on a shared machine). bench/activations.sh runs it next to
// PyTorch's on the same tensor.
func BenchmarkActivations(b *testing.B) {
	const n = 8
	r := newRand(4)
	size := n * 32 * 112 * 112
	x, dy := randSlice(r, size), randSlice(r, size)
	for i := range x {
		x[i] *= 6
	}
	y, g, dx := make([]float32, size), make([]float32, size), make([]float32, size)
	copy(y, x)
	copy(g, dy)
	gelu, geluTanh := GELU{}, GELU{Tanh: true}
	for _, op := range []struct {
		name    string
		traffic int // values read and written per element
		f       func()
	}{
		// relu and relu6 are idempotent: each run does the same work on
		// the same buffer. tanh is not: its runs start with a copy.
		{"relu_fwd", 2, func() { ReLUForward(y) }},
		{"relu_bwd", 3, func() { ReLUBackward(y, g) }},
		{"relu6_fwd", 2, func() { ReLU6Forward(y) }},
		{"relu6_bwd", 3, func() { ReLU6Backward(y, g) }},
		{"tanh_fwd+copy", 4, func() { copy(y, x); TanhForward(y) }},
		{"tanh_bwd+copy", 5, func() { copy(g, dy); TanhBackward(y, g) }},
		{"sigmoid_fwd", 2, func() { SigmoidForward(x, y) }},
		{"sigmoid_bwd", 4, func() { SigmoidBackward(y, dy, dx) }},
		{"silu_fwd", 2, func() { SiLUForward(x, y) }},
		{"silu_bwd", 4, func() { SiLUBackward(x, dy, dx) }},
		{"gelu_fwd", 2, func() { gelu.Forward(x, y) }},
		{"gelu_bwd", 4, func() { gelu.Backward(x, dy, dx) }},
		{"gelu_tanh_fwd", 2, func() { geluTanh.Forward(x, y) }},
		{"gelu_tanh_bwd", 4, func() { geluTanh.Backward(x, dy, dx) }},
		{"hardswish_fwd", 2, func() { HardswishForward(x, y) }},
		{"hardswish_bwd", 4, func() { HardswishBackward(x, dy, dx) }},
		{"hardsigmoid_fwd", 2, func() { HardsigmoidForward(x, y) }},
		{"hardsigmoid_bwd", 4, func() { HardsigmoidBackward(x, dy, dx) }},
	} {
		b.Run(op.name, func(b *testing.B) {
			cpu0 := cpuSeconds()
			for b.Loop() {
				op.f()
			}
			b.ReportMetric(float64(4*op.traffic*size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			b.ReportMetric((cpuSeconds()-cpu0)*1e3/float64(b.N), "cpu-ms/op")
		})
	}
}
