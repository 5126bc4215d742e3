package runtime

// The row loops of the depthwise kernels (conv_depthwise.go): the fused
// 3x3 taps at stride 1 and 2 (with their AVX2 versions in
// conv_depthwise_amd64.s), the filter gradient's taps' sums, and the
// per-tap axpy and dot products of the other kernels.

// dwGrad3x3: acc[3*kh+kw] += sum over i of d[i] * rkh[s*i+kw], rows r0, r1,
// r2 (each at least s*(len(d)-1)+3 long).
func dwGrad3x3(d, r0, r1, r2 []float32, s int, acc *[9]float32) {
	n := len(d)
	if n == 0 {
		return
	}
	m := s*(n-1) + 3
	r0, r1, r2 = r0[:m], r1[:m], r2[:m]
	if v := n &^ 7; s == 1 && v > 0 && dwVector() {
		var lanes [72]float32
		dwGrad3AVX2(v, &d[0], &r0[0], &r1[0], &r2[0], &lanes[0])
		for t := range acc {
			acc[t] += sum32(lanes[8*t : 8*t+8])
		}
		d, r0, r1, r2 = d[v:], r0[v:], r1[v:], r2[v:]
	}
	// At stride 2 the vector loop's last loads reach one column past its
	// last tap: it stops a block short of a row that ends there.
	if v := (n - 1) &^ 7; s == 2 && v > 0 && dwVector() {
		var lanes [72]float32
		dwGrad3s2AVX2(v, &d[0], &r0[0], &r1[0], &r2[0], &lanes[0])
		for t := range acc {
			acc[t] += sum32(lanes[8*t : 8*t+8])
		}
		d, r0, r1, r2 = d[v:], r0[2*v:], r1[2*v:], r2[2*v:]
	}
	var a0, a1, a2, b0, b1, b2, c0, c1, c2 float32
	for i, v := range d {
		j := s * i
		p, q, r := r0[j:j+3:j+3], r1[j:j+3:j+3], r2[j:j+3:j+3]
		a0 += v * p[0]
		a1 += v * p[1]
		a2 += v * p[2]
		b0 += v * q[0]
		b1 += v * q[1]
		b2 += v * q[2]
		c0 += v * r[0]
		c1 += v * r[1]
		c2 += v * r[2]
	}
	acc[0] += a0
	acc[1] += a1
	acc[2] += a2
	acc[3] += b0
	acc[4] += b1
	acc[5] += b2
	acc[6] += c0
	acc[7] += c1
	acc[8] += c2
}

// dwGrad3: acc[kw] += sum over i of d[i] * r[s*i+kw].
func dwGrad3(d, r []float32, s int, acc *[3]float32) {
	n := len(d)
	if n == 0 {
		return
	}
	r = r[:s*(n-1)+3]
	var a0, a1, a2 float32
	for i, v := range d {
		p := r[s*i : s*i+3 : s*i+3]
		a0 += v * p[0]
		a1 += v * p[1]
		a2 += v * p[2]
	}
	acc[0] += a0
	acc[1] += a1
	acc[2] += a2
}

// dw3x3s1: y[i] += the nine taps of w over rows r0, r1, r2 from column i
// (each row at least len(y)+2 long).
func dw3x3s1(y, r0, r1, r2, w []float32) {
	n := len(y)
	r0, r1, r2, w = r0[:n+2], r1[:n+2], r2[:n+2], w[:9]
	if m := n &^ 7; m > 0 && dwVector() {
		dwConv3AVX2(m, &y[0], &r0[0], &r1[0], &r2[0], &w[0])
		y, r0, r1, r2 = y[m:], r0[m:], r1[m:], r2[m:]
	}
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
	for i := range y {
		a, b, c := r0[i:i+3:i+3], r1[i:i+3:i+3], r2[i:i+3:i+3]
		y[i] += w0*a[0] + w1*a[1] + w2*a[2] + w3*b[0] + w4*b[1] + w5*b[2] + w6*c[0] + w7*c[1] + w8*c[2]
	}
}

// dw3x3s2: y[i] += the nine taps of w over rows r0, r1, r2 from column 2i
// (each row at least 2*len(y)+1 long).
func dw3x3s2(y, r0, r1, r2, w []float32) {
	n := len(y)
	r0, r1, r2, w = r0[:2*n+1], r1[:2*n+1], r2[:2*n+1], w[:9]
	// The vector loop's last loads reach one column past its last tap:
	// it stops a block short of a row that ends at its last tap.
	if m := (n - 1) &^ 7; m > 0 && dwVector() {
		dwConv3s2AVX2(m, &y[0], &r0[0], &r1[0], &r2[0], &w[0])
		y, r0, r1, r2 = y[m:], r0[2*m:], r1[2*m:], r2[2*m:]
	}
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
	for i := range y {
		j := 2 * i
		a, b, c := r0[j:j+3:j+3], r1[j:j+3:j+3], r2[j:j+3:j+3]
		y[i] += w0*a[0] + w1*a[1] + w2*a[2] + w3*b[0] + w4*b[1] + w5*b[2] + w6*c[0] + w7*c[1] + w8*c[2]
	}
}

// scatter3: dx[s*i+k] += w[k]*dy[i] for the three taps k.
func scatter3(dx []float32, s int, dy, w []float32) {
	w = w[:3]
	w0, w1, w2 := w[0], w[1], w[2]
	for i, d := range dy {
		q := dx[s*i : s*i+3 : s*i+3]
		q[0] += w0 * d
		q[1] += w1 * d
		q[2] += w2 * d
	}
}

// axpyTo: y[i] += a*x[i] (vectorised for each 8 where dwVector).
func axpyTo(y, x []float32, a float32) {
	x = x[:len(y)]
	if dwVector() && len(y) >= 8 {
		n := len(y) / 8 * 8
		axpyAVX2(n, &y[0], &x[0], a)
		y, x = y[n:], x[n:]
	}
	for i, v := range x {
		y[i] += a * v
	}
}

// axpyStrided: y[i] += a*x[s*i].
func axpyStrided(y, x []float32, s int, a float32) {
	for i := range y {
		y[i] += a * x[s*i]
	}
}

// dotTo returns the dot product of d and x's first len(d) values, with four
// accumulators.
func dotTo(d, x []float32) float32 {
	x = x[:len(d)]
	var a0, a1, a2, a3 float32
	i := 0
	for ; i+4 <= len(d); i += 4 {
		p, q := d[i:i+4:i+4], x[i:i+4:i+4]
		a0 += p[0] * q[0]
		a1 += p[1] * q[1]
		a2 += p[2] * q[2]
		a3 += p[3] * q[3]
	}
	for ; i < len(d); i++ {
		a0 += d[i] * x[i]
	}
	return (a0 + a1) + (a2 + a3)
}

// dotStrided returns the sum of d[i]*x[s*i].
func dotStrided(d, x []float32, s int) float32 {
	var a0, a1 float32
	i := 0
	for ; i+2 <= len(d); i += 2 {
		a0 += d[i] * x[s*i]
		a1 += d[i+1] * x[s*i+s]
	}
	if i < len(d) {
		a0 += d[i] * x[s*i]
	}
	return a0 + a1
}
