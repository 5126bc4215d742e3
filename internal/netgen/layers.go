package netgen

// layer draws one layer for in; it may be invalid there (the caller
// simulates it and draws again).
func (g *gen) layer(c *ctx, in shape) *layer {
	r := g.r
	x := r.IntN(100)
	if in.flat { // after an fc: no layer that needs a map
		x = []int{35, 45, 60, 71, 79}[r.IntN(5)]
	}
	switch {
	case x < 35:
		return g.conv(c, in)
	case x < 45:
		return &layer{word: "relu"}
	case x < 49:
		l := &layer{word: "leakyrelu"}
		if r.IntN(2) == 0 {
			l.nums = []lit{slopes[r.IntN(len(slopes))]}
		}
		return l
	case x < 60:
		return g.pool(c, in)
	case x < 67:
		if g.cfg.Deterministic {
			return &layer{word: "relu"}
		}
		return &layer{word: "bn"}
	case x < 71:
		l := &layer{word: "lrn"}
		switch r.IntN(4) {
		case 1:
			l.n = g.expr(c, 1+2*r.IntN(3))
		case 2:
			l.n = num(5)
			l.nums = []lit{{1e-4, "1e-4"}, {0.75, "0.75"}, {2, "2"}}
		case 3:
			l.n = num(3)
			l.nums = []lit{{1e-2, "1e-2"}, {0.75, ".75"}, {1, "1"}}
		}
		return l
	case x < 77:
		return g.dropout()
	case x < 79:
		return &layer{word: "gap"}
	case x < 81:
		return &layer{word: "fc", n: g.expr(c, 1+r.IntN(g.cfg.MaxChannels))}
	case x < 84:
		return &layer{word: "identity"}
	}
	return g.conv(c, in)
}

var slopes = []lit{{0.2, "0.2"}, {0.01, "0.01"}, {0.1, ".1"}, {0.05, "5e-2"}}

func (g *gen) dropout() *layer {
	ps := []lit{{0.5, "0.5"}, {0.5, ".5"}, {0.5, "5e-1"}, {0.25, "0.25"}, {0.1, "0.1"}, {0, "0"}, {0, "0.0"}}
	if g.cfg.Deterministic {
		ps = []lit{{0, "0"}, {0, "0.0"}, {0, "0e0"}}
	}
	return &layer{word: "dropout", nums: []lit{ps[g.r.IntN(len(ps))]}}
}

// param returns the value of a parameter of role ro, if one is in scope.
func (g *gen) param(c *ctx, ro role) (string, int, bool) {
	var ps []int
	for i := range c.params {
		if c.roles[i] == ro {
			ps = append(ps, i)
		}
	}
	if len(ps) == 0 {
		return "", 0, false
	}
	i := ps[g.r.IntN(len(ps))]
	return c.params[i], int(c.en[c.params[i]]), true
}

var kernels = [][2]int{{1, 1}, {3, 3}, {3, 3}, {3, 3}, {5, 5}, {2, 2}, {1, 3}, {3, 1}, {3, 5}}

func (g *gen) conv(c *ctx, in shape) *layer {
	r := g.r
	f := 1 + r.IntN(g.cfg.MaxChannels)
	if _, v, ok := g.param(c, roleChannels); ok && r.IntN(3) > 0 {
		f = []int{v, v, 2 * v, v + 1, max(1, v/2)}[r.IntN(5)]
	}
	k := kernels[r.IntN(len(kernels))]
	l := &layer{word: "conv", n: g.expr(c, f), kh: k[0], kw: k[1], g: 1}
	if r.IntN(7) == 0 {
		l.d = flag{set: true, h: 2, w: 2}
	}
	dh, dw := 1, 1
	if l.d.set {
		dh, dw = 2, 2
	}
	eh, ew := dh*(k[0]-1)+1, dw*(k[1]-1)+1
	switch x := r.IntN(10); {
	case x < 2:
		if p, _, ok := g.param(c, roleStride); ok {
			l.s = flag{set: true, e: g.strideExpr(p)}
		} else {
			l.s = flag{set: true, h: 2, w: 2}
		}
	case x < 3:
		l.s = flag{set: true, h: 2, w: 1 + r.IntN(2)}
	case x < 4:
		l.s = flag{set: true, h: 1, w: 1}
	}
	strided := l.s.set && (l.s.e != nil || l.s.h != 1 || l.s.w != 1)
	switch x := r.IntN(10); {
	case x < 3 && !strided && eh%2 == 1 && ew%2 == 1:
		l.same = true
	case x < 7:
		ph, pw := r.IntN(eh/2+1), r.IntN(ew/2+1)
		if r.IntN(2) == 0 {
			pw = ph
		}
		l.p = flag{set: true, h: ph, w: pw}
		if ph == pw && ph > 0 && len(c.params) > 0 && r.IntN(3) == 0 {
			l.p = flag{set: true, e: g.expr(c, ph)}
		}
	}
	if d := gcd(in.c, f); d > 1 && r.IntN(4) == 0 {
		var divs []int
		for i := 2; i <= d; i++ {
			if d%i == 0 {
				divs = append(divs, i)
			}
		}
		l.g = divs[r.IntN(len(divs))]
	}
	l.nobias = r.IntN(5) == 0
	return l
}

// strideExpr writes a stride parameter: the parameter itself
// mostly.
func (g *gen) strideExpr(p string) expr {
	switch g.r.IntN(4) {
	case 0:
		return bin{op: "*", a: ref(p), b: num(1), sp: ""}
	case 1:
		return bin{op: "+", a: ref(p), b: num(0), sp: " "}
	}
	return ref(p)
}

func (g *gen) pool(c *ctx, in shape) *layer {
	r := g.r
	l := &layer{word: "maxpool"}
	if r.IntN(5) < 2 {
		l.word = "avgpool"
	}
	k := 2 + r.IntN(2)
	kh, kw := k, k
	if r.IntN(6) == 0 {
		l.size = true
		kw = 1 + r.IntN(3)
		l.kh, l.kw = kh, kw
	} else {
		l.n = g.expr(c, k)
	}
	switch x := r.IntN(10); {
	case x < 2:
		l.s = flag{set: true, h: 1, w: 1}
	case x < 4:
		l.s = flag{set: true, h: 2, w: 2}
	case x < 5:
		if p, _, ok := g.param(c, roleStride); ok {
			l.s = flag{set: true, e: g.strideExpr(p)}
		}
	}
	if r.IntN(3) == 0 {
		l.p = flag{set: true, h: r.IntN(kh/2 + 1), w: r.IntN(kw/2 + 1)}
	}
	l.ceil = r.IntN(3) == 0
	return l
}
