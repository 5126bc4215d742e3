package runtime

// The reference kernels: plain loops over the definition, summed in
// float64, one output value at a time. The tests compare every fast path
// with them and check their gradients with finite differences.

// ForwardRef: x is (N,C,H,W), w is (K,C/G,KH,KW), b is (K) or nil,
// y is (N,K,OH,OW). y = conv(x, w) + b, then ReLU if c.ReLU.
func (c Conv) ForwardRef(n int, x, w, b, y []float32) {
	c.mustValid("ForwardRef")
	cg, kg := c.C/c.G, c.K/c.G
	for i := 0; i < n; i++ {
		for k := 0; k < c.K; k++ {
			g := k / kg
			for oh := 0; oh < c.OH; oh++ {
				for ow := 0; ow < c.OW; ow++ {
					var s float64
					if b != nil {
						s = float64(b[k])
					}
					for ci := 0; ci < cg; ci++ {
						ch := g*cg + ci
						for kh := 0; kh < c.KH; kh++ {
							ih := oh*c.SH - c.PH + kh*c.DH
							if ih < 0 || ih >= c.H {
								continue
							}
							for kw := 0; kw < c.KW; kw++ {
								iw := ow*c.SW - c.PW + kw*c.DW
								if iw < 0 || iw >= c.W {
									continue
								}
								s += float64(x[((i*c.C+ch)*c.H+ih)*c.W+iw]) *
									float64(w[((k*cg+ci)*c.KH+kh)*c.KW+kw])
							}
						}
					}
					if c.ReLU && s < 0 {
						s = 0
					}
					y[((i*c.K+k)*c.OH+oh)*c.OW+ow] = float32(s)
				}
			}
		}
	}
}

// BackwardDataRef: dy is (N,K,OH,OW), w is (K,C/G,KH,KW), dx is (N,C,H,W).
// dx += conv_transpose(dy, w). The ReLU of c is not applied (see Conv).
func (c Conv) BackwardDataRef(n int, dy, w, dx []float32) {
	c.mustValid("BackwardDataRef")
	cg, kg := c.C/c.G, c.K/c.G
	for i := 0; i < n; i++ {
		for ch := 0; ch < c.C; ch++ {
			g, ci := ch/cg, ch%cg
			for ih := 0; ih < c.H; ih++ {
				for iw := 0; iw < c.W; iw++ {
					var s float64
					for k := g * kg; k < (g+1)*kg; k++ {
						for kh := 0; kh < c.KH; kh++ {
							th := ih + c.PH - kh*c.DH
							if th < 0 || th%c.SH != 0 || th/c.SH >= c.OH {
								continue
							}
							for kw := 0; kw < c.KW; kw++ {
								tw := iw + c.PW - kw*c.DW
								if tw < 0 || tw%c.SW != 0 || tw/c.SW >= c.OW {
									continue
								}
								s += float64(dy[((i*c.K+k)*c.OH+th/c.SH)*c.OW+tw/c.SW]) *
									float64(w[((k*cg+ci)*c.KH+kh)*c.KW+kw])
							}
						}
					}
					dx[((i*c.C+ch)*c.H+ih)*c.W+iw] += float32(s)
				}
			}
		}
	}
}

// BackwardFilterRef: x is (N,C,H,W), dy is (N,K,OH,OW), dw is (K,C/G,KH,KW),
// db is (K) or nil. dw += dL/dw, db += dL/db.
func (c Conv) BackwardFilterRef(n int, x, dy, dw, db []float32) {
	c.mustValid("BackwardFilterRef")
	cg, kg := c.C/c.G, c.K/c.G
	for k := 0; k < c.K; k++ {
		g := k / kg
		for ci := 0; ci < cg; ci++ {
			ch := g*cg + ci
			for kh := 0; kh < c.KH; kh++ {
				for kw := 0; kw < c.KW; kw++ {
					var s float64
					for i := 0; i < n; i++ {
						for oh := 0; oh < c.OH; oh++ {
							ih := oh*c.SH - c.PH + kh*c.DH
							if ih < 0 || ih >= c.H {
								continue
							}
							for ow := 0; ow < c.OW; ow++ {
								iw := ow*c.SW - c.PW + kw*c.DW
								if iw < 0 || iw >= c.W {
									continue
								}
								s += float64(x[((i*c.C+ch)*c.H+ih)*c.W+iw]) *
									float64(dy[((i*c.K+k)*c.OH+oh)*c.OW+ow])
							}
						}
					}
					dw[((k*cg+ci)*c.KH+kh)*c.KW+kw] += float32(s)
				}
			}
		}
		if db != nil {
			var s float64
			for i := 0; i < n; i++ {
				for _, v := range dy[(i*c.K+k)*c.OH*c.OW : (i*c.K+k+1)*c.OH*c.OW] {
					s += float64(v)
				}
			}
			db[k] += float32(s)
		}
	}
}
