package runtime

import "math"

// BN is batch normalisation over the channels of (N,C,H,W) tensors, as
// torch.nn.BatchNorm2d: training normalises with the batch mean and biased
// variance and updates the running statistics with Momentum and the
// UNBIASED variance; inference uses the running statistics. Eps of 0 means
// PyTorch's default 1e-5. Momentum is used as given: 0 keeps the running
// statistics as they are (PyTorch's momentum=0); PyTorch's default is 0.1.
type BN struct {
	C, H, W       int
	Eps, Momentum float32
}

func (b BN) eps() float64 {
	if b.Eps == 0 {
		return 1e-5
	}
	return float64(b.Eps)
}

func (b BN) momentum() float64 { return float64(b.Momentum) }

func (b BN) checkBufs(op string, n int, x, y, gamma, beta, rm, rv []float32) {
	check(op, "x", x, n*b.C*b.H*b.W)
	check(op, "y", y, n*b.C*b.H*b.W)
	check(op, "gamma", gamma, b.C)
	check(op, "beta", beta, b.C)
	check(op, "running_mean", rm, b.C)
	check(op, "running_var", rv, b.C)
}

// ForwardTrain: x and y are (N,C,H,W); gamma, beta, runMean, runVar, mean
// and invStd are (C). y = (x - mean) * invStd * gamma + beta with the batch
// statistics, saved in mean and invStd (1/sqrt(var+eps)) for Backward;
// runMean and runVar are updated in place. Two passes with float64 sums;
// channels split over the workers.
func (b BN) ForwardTrain(n int, x, y, gamma, beta, runMean, runVar, mean, invStd []float32) {
	b.checkBufs("BN.ForwardTrain", n, x, y, gamma, beta, runMean, runVar)
	check("BN.ForwardTrain", "mean", mean, b.C)
	check("BN.ForwardTrain", "invStd", invStd, b.C)
	j := planeJob{f: bnTrainChannel, n: n, bn: b, s: [9][]float32{x, y, gamma, beta, runMean, runVar, mean, invStd}}
	runPlanes(b.C, len(x), b.C, &j)
}

func bnTrainChannel(j *planeJob, _, c int) {
	b, n := &j.bn, j.n
	x, y, gamma, beta, runMean, runVar, mean, invStd := j.s[0], j.s[1], j.s[2], j.s[3], j.s[4], j.s[5], j.s[6], j.s[7]
	hw := b.H * b.W
	m := float64(n * hw)
	mom := b.momentum()
	var s float64
	for i := 0; i < n; i++ {
		s += sum64(x[(i*b.C+c)*hw : (i*b.C+c+1)*hw])
	}
	mu := s / m
	var ss float64
	for i := 0; i < n; i++ {
		ss += sumSqDev64(x[(i*b.C+c)*hw:(i*b.C+c+1)*hw], mu)
	}
	v := ss / m
	is := 1 / math.Sqrt(v+b.eps())
	mean[c], invStd[c] = float32(mu), float32(is)
	unbiased := v
	if m > 1 {
		unbiased = ss / (m - 1)
	}
	runMean[c] = float32((1-mom)*float64(runMean[c]) + mom*mu)
	runVar[c] = float32((1-mom)*float64(runVar[c]) + mom*unbiased)
	sc := float32(is) * gamma[c]
	sh := beta[c] - float32(mu)*sc
	for i := 0; i < n; i++ {
		o := (i*b.C + c) * hw
		ys := y[o : o+hw]
		for p, v := range x[o : o+hw] {
			ys[p] = v*sc + sh
		}
	}
}

// ForwardInfer: x and y are (N,C,H,W), the rest (C);
// y = (x - runMean) / sqrt(runVar + eps) * gamma + beta.
func (b BN) ForwardInfer(n int, x, y, gamma, beta, runMean, runVar []float32) {
	b.checkBufs("BN.ForwardInfer", n, x, y, gamma, beta, runMean, runVar)
	j := planeJob{f: bnInferChannel, n: n, bn: b, s: [9][]float32{x, y, gamma, beta, runMean, runVar}}
	runPlanes(b.C, len(x), b.C, &j)
}

func bnInferChannel(j *planeJob, _, c int) {
	b, n := &j.bn, j.n
	x, y, gamma, beta, runMean, runVar := j.s[0], j.s[1], j.s[2], j.s[3], j.s[4], j.s[5]
	hw := b.H * b.W
	sc := float32(1/math.Sqrt(float64(runVar[c])+b.eps())) * gamma[c]
	sh := beta[c] - runMean[c]*sc
	for i := 0; i < n; i++ {
		o := (i*b.C + c) * hw
		ys := y[o : o+hw]
		for p, v := range x[o : o+hw] {
			ys[p] = v*sc + sh
		}
	}
}

// Backward (training mode): x, dy, dx are (N,C,H,W); gamma, mean, invStd
// (saved by ForwardTrain), dgamma, dbeta are (C). With xhat = (x-mean)*invStd
// and M = N*H*W: dbeta += sum dy, dgamma += sum dy*xhat,
// dx += gamma*invStd/M * (M*dy - sum dy - xhat*sum(dy*xhat)).
func (b BN) Backward(n int, x, dy, gamma, mean, invStd, dx, dgamma, dbeta []float32) {
	size := n * b.C * b.H * b.W
	check("BN.Backward", "x", x, size)
	check("BN.Backward", "dy", dy, size)
	check("BN.Backward", "dx", dx, size)
	for _, p := range [...][]float32{gamma, mean, invStd, dgamma, dbeta} {
		check("BN.Backward", "per-channel buffer", p, b.C)
	}
	j := planeJob{f: bnBackwardChannel, n: n, bn: b, s: [9][]float32{x, dy, gamma, mean, invStd, dx, dgamma, dbeta}}
	runPlanes(b.C, len(x), b.C, &j)
}

func bnBackwardChannel(j *planeJob, _, c int) {
	b, n := &j.bn, j.n
	x, dy, gamma, mean, invStd, dx, dgamma, dbeta := j.s[0], j.s[1], j.s[2], j.s[3], j.s[4], j.s[5], j.s[6], j.s[7]
	hw := b.H * b.W
	m := float64(n * hw)
	mu, is := mean[c], invStd[c]
	var sdy, sdyx float64
	for i := 0; i < n; i++ {
		o := (i*b.C + c) * hw
		a, b := bnGradSums(dy[o:o+hw], x[o:o+hw], mu, is)
		sdy += a
		sdyx += b
	}
	dbeta[c] += float32(sdy)
	dgamma[c] += float32(sdyx)
	k := gamma[c] * is
	a, bb := float32(sdy/m), float32(sdyx/m)
	for i := 0; i < n; i++ {
		o := (i*b.C + c) * hw
		ds, dxs := dy[o:o+hw], dx[o:o+hw]
		for p, v := range x[o : o+hw] {
			dxs[p] += k * (ds[p] - a - (v-mu)*is*bb)
		}
	}
}

// FoldBN folds an inference-mode BN into the convolution (or fc) before it:
// w is (K, ...) and b is (K) (pass zeros if the layer has no bias); both are
// rewritten in place so that layer(x; w, b) == BN(layer(x)):
// w[k] *= gamma[k]/sqrt(var[k]+eps), b[k] = (b[k]-mean[k])*that + beta[k].
// eps of 0 means 1e-5.
func FoldBN(w, b, gamma, beta, mean, variance []float32, eps float32) {
	k := len(b)
	for _, p := range [...][]float32{gamma, beta, mean, variance} {
		check("FoldBN", "per-channel buffer", p, k)
	}
	if k == 0 || len(w)%k != 0 {
		panic("runtime.FoldBN: len(w) must be a positive multiple of len(b)")
	}
	if eps == 0 {
		eps = 1e-5
	}
	per := len(w) / k
	for c := 0; c < k; c++ {
		s := float32(float64(gamma[c]) / math.Sqrt(float64(variance[c])+float64(eps)))
		for i := c * per; i < (c+1)*per; i++ {
			w[i] *= s
		}
		b[c] = (b[c]-mean[c])*s + beta[c]
	}
}

// ForwardTrainRef is the naive twin of ForwardTrain (float64 throughout,
// element-by-element indexing).
func (b BN) ForwardTrainRef(n int, x, y, gamma, beta, runMean, runVar, mean, invStd []float32) {
	b.checkBufs("BN.ForwardTrainRef", n, x, y, gamma, beta, runMean, runVar)
	hw := b.H * b.W
	m := float64(n * hw)
	for c := 0; c < b.C; c++ {
		var s, ss float64
		for i := 0; i < n; i++ {
			for p := 0; p < hw; p++ {
				s += float64(x[(i*b.C+c)*hw+p])
			}
		}
		mu := s / m
		for i := 0; i < n; i++ {
			for p := 0; p < hw; p++ {
				d := float64(x[(i*b.C+c)*hw+p]) - mu
				ss += d * d
			}
		}
		is := 1 / math.Sqrt(ss/m+b.eps())
		for i := 0; i < n; i++ {
			for p := 0; p < hw; p++ {
				o := (i*b.C+c)*hw + p
				y[o] = float32((float64(x[o])-mu)*is*float64(gamma[c]) + float64(beta[c]))
			}
		}
		mean[c], invStd[c] = float32(mu), float32(is)
		runMean[c] = float32((1-b.momentum())*float64(runMean[c]) + b.momentum()*mu)
		runVar[c] = float32((1-b.momentum())*float64(runVar[c]) + b.momentum()*ss/max(m-1, 1))
	}
}

// BackwardRef is the naive twin of Backward (float64 throughout).
func (b BN) BackwardRef(n int, x, dy, gamma, mean, invStd, dx, dgamma, dbeta []float32) {
	hw := b.H * b.W
	m := float64(n * hw)
	for c := 0; c < b.C; c++ {
		var sdy, sdyx float64
		xhat := func(o int) float64 { return (float64(x[o]) - float64(mean[c])) * float64(invStd[c]) }
		for i := 0; i < n; i++ {
			for p := 0; p < hw; p++ {
				o := (i*b.C+c)*hw + p
				sdy += float64(dy[o])
				sdyx += float64(dy[o]) * xhat(o)
			}
		}
		for i := 0; i < n; i++ {
			for p := 0; p < hw; p++ {
				o := (i*b.C+c)*hw + p
				g := float64(gamma[c]) * float64(invStd[c]) / m * (m*float64(dy[o]) - sdy - xhat(o)*sdyx)
				dx[o] += float32(g)
			}
		}
		dbeta[c] += float32(sdy)
		dgamma[c] += float32(sdyx)
	}
}

// sum64 returns the sum of s in float64, with four independent
// accumulators (a single one waits on the add latency every element).
func sum64(s []float32) float64 {
	var a0, a1, a2, a3 float64
	i := 0
	for ; i+4 <= len(s); i += 4 {
		q := s[i : i+4 : i+4]
		a0 += float64(q[0])
		a1 += float64(q[1])
		a2 += float64(q[2])
		a3 += float64(q[3])
	}
	for ; i < len(s); i++ {
		a0 += float64(s[i])
	}
	return (a0 + a1) + (a2 + a3)
}

// sumSqDev64 returns the sum of (v-mu)² over s, like sum64.
func sumSqDev64(s []float32, mu float64) float64 {
	var a0, a1, a2, a3 float64
	i := 0
	for ; i+4 <= len(s); i += 4 {
		q := s[i : i+4 : i+4]
		d0, d1, d2, d3 := float64(q[0])-mu, float64(q[1])-mu, float64(q[2])-mu, float64(q[3])-mu
		a0 += d0 * d0
		a1 += d1 * d1
		a2 += d2 * d2
		a3 += d3 * d3
	}
	for ; i < len(s); i++ {
		d := float64(s[i]) - mu
		a0 += d * d
	}
	return (a0 + a1) + (a2 + a3)
}

// bnGradSums returns the sums of dy and of dy*(x-mu)*is over a plane, like
// sum64.
func bnGradSums(dy, x []float32, mu, is float32) (sdy, sdyx float64) {
	dy = dy[:len(x)]
	var a0, a1, b0, b1 float64
	i := 0
	for ; i+2 <= len(x); i += 2 {
		d, v := dy[i:i+2:i+2], x[i:i+2:i+2]
		a0 += float64(d[0])
		a1 += float64(d[1])
		b0 += float64(d[0]) * float64((v[0]-mu)*is)
		b1 += float64(d[1]) * float64((v[1]-mu)*is)
	}
	for ; i < len(x); i++ {
		a0 += float64(dy[i])
		b0 += float64(dy[i]) * float64((x[i]-mu)*is)
	}
	return a0 + a1, b0 + b1
}
