package netgen

// The shape rules of docs/language.md, applied to the generator's AST: a
// candidate is kept only when every layer of it is valid.

// maxRepeat bounds a repetition the generator accepts.
const maxRepeat = 4

// window is PyTorch's output size along one axis; 0 when the window does
// not fit.
func window(in, k, s, p, d int, ceil bool) int {
	span := in + 2*p - d*(k-1) - 1
	if span < 0 {
		return 0
	}
	o := span/s + 1
	if ceil {
		o = (span+s-1)/s + 1
		if (o-1)*s >= in+p {
			o--
		}
	}
	return o
}

// stride is the smallest stride with which a 1x1 conv maps in onto out, or
// 0 when there is none.
func stride(in, out int) int {
	if out < 1 || out > in {
		return 0
	}
	s := (in-1)/out + 1
	if (in-1)/s+1 != out {
		return 0
	}
	return s
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// needsMap are the layers whose input must be a feature map.
var needsMap = map[string]bool{"conv": true, "maxpool": true, "avgpool": true, "gap": true, "lrn": true}

// simLayer is the output shape of l on in, and whether l is valid there.
func simLayer(l *layer, en env, in shape) (shape, bool) {
	if in.flat && needsMap[l.word] {
		return in, false
	}
	switch l.word {
	case "relu", "leakyrelu", "dropout", "bn", "lrn", "softmax", "identity":
		if l.word == "lrn" && l.n != nil {
			if _, ok := whole(l.n, en, 1, 1<<20); !ok {
				return in, false
			}
		}
		return in, true
	case "gap":
		return shape{h: 1, w: 1, c: in.c}, true
	case "fc":
		n, ok := whole(l.n, en, 1, 1<<16)
		return shape{h: 1, w: 1, c: n, flat: true}, ok
	case "conv":
		f, ok := whole(l.n, en, 1, 1<<12)
		if !ok {
			return in, false
		}
		sh, sw, ok1 := l.s.values(en, 1)
		ph, pw, ok2 := l.p.values(en, 0)
		dh, dw, ok3 := l.d.values(en, 1)
		if !l.s.set {
			sh, sw, ok1 = 1, 1, true
		}
		if !l.p.set {
			ph, pw, ok2 = 0, 0, true
		}
		if !l.d.set {
			dh, dw, ok3 = 1, 1, true
		}
		if !ok1 || !ok2 || !ok3 {
			return in, false
		}
		if l.same {
			if sh != 1 || sw != 1 || dh*(l.kh-1)%2 != 0 || dw*(l.kw-1)%2 != 0 {
				return in, false
			}
			ph, pw = dh*(l.kh-1)/2, dw*(l.kw-1)/2
		}
		g := max(l.g, 1)
		if in.c%g != 0 || f%g != 0 {
			return in, false
		}
		return spatial(in, f, l.kh, l.kw, sh, sw, ph, pw, dh, dw, false)
	case "maxpool", "avgpool":
		kh, kw := l.kh, l.kw
		if !l.size {
			k, ok := whole(l.n, en, 1, 1<<12)
			if !ok {
				return in, false
			}
			kh, kw = k, k
		}
		sh, sw := kh, kw
		if l.s.set {
			var ok bool
			if sh, sw, ok = l.s.values(en, 1); !ok {
				return in, false
			}
		}
		ph, pw := 0, 0
		if l.p.set {
			var ok bool
			if ph, pw, ok = l.p.values(en, 0); !ok || 2*ph > kh || 2*pw > kw {
				return in, false
			}
		}
		return spatial(in, in.c, kh, kw, sh, sw, ph, pw, 1, 1, l.ceil)
	}
	return in, false
}

func spatial(in shape, c, kh, kw, sh, sw, ph, pw, dh, dw int, ceil bool) (shape, bool) {
	if dh*(kh-1)+1 > in.h+2*ph || dw*(kw-1)+1 > in.w+2*pw {
		return in, false
	}
	out := shape{h: window(in.h, kh, sh, ph, dh, ceil), w: window(in.w, kw, sw, pw, dw, ceil), c: c}
	return out, out.h >= 1 && out.w >= 1
}

// sim runs a chain on in: its output shape, the number of layers it
// expands to and whether every element is valid.
func sim(chain []*elem, en env, in shape) (out shape, layers int, ok bool) {
	out = in
	for _, e := range chain {
		var n int
		out, n, ok = simElem(e, en, out)
		layers += n
		if !ok {
			return out, layers, false
		}
	}
	return out, layers, true
}

// inEnv is the environment of a block called on in: in.c, in.h, in.w.
func inEnv(in shape) env {
	return env{"in.c": float64(in.c), "in.h": float64(in.h), "in.w": float64(in.w)}
}

func simElem(e *elem, en env, in shape) (shape, int, bool) {
	times := 1
	if e.rep != nil {
		var ok bool
		if times, ok = whole(e.rep, en, 1, maxRepeat); !ok {
			return in, 0, false
		}
	}
	layers := 0
	for range times {
		out, n, ok := simOnce(e, en, in)
		layers += n
		if !ok {
			return in, layers, false
		}
		in = out
	}
	return in, layers, true
}

func simOnce(e *elem, en env, in shape) (shape, int, bool) {
	switch {
	case e.l != nil:
		out, ok := simLayer(e.l, en, in)
		return out, 1, ok
	case e.call != nil:
		inner := inEnv(in)
		for i, a := range e.call.args {
			inner[e.call.b.params[i]] = a.eval(en)
		}
		return sim(e.call.b.body, inner, in)
	case e.group != nil:
		return sim(e.group, en, in)
	case e.ifBody != nil:
		if !e.cond.eval(en) {
			return in, 0, true
		}
		return sim(e.ifBody, en, in)
	case e.split != nil:
		k := len(e.split)
		if in.flat || k < 2 || in.c%k != 0 {
			return in, 0, false
		}
		part := shape{h: in.h, w: in.w, c: in.c / k}
		var out shape
		layers := k + 1
		for i, br := range e.split {
			o, n, ok := sim(br, en, part)
			layers += n
			if !ok || (i > 0 && (o.h != out.h || o.w != out.w)) {
				return in, layers, false
			}
			out.h, out.w, out.c, out.flat = o.h, o.w, out.c+o.c, out.flat || o.flat
		}
		return out, layers, true
	case e.scale != nil:
		o, n, ok := sim(e.scale, en, in)
		return in, n + 1, ok && !in.flat && o.h == 1 && o.w == 1 && o.c == in.c
	case e.body != nil && e.cond != nil && !e.cond.eval(en):
		return sim(e.body, en, in)
	case e.concat != nil:
		var out shape
		layers := 1
		for i, br := range e.concat {
			o, n, ok := sim(br, en, in)
			layers += n
			if !ok || (i > 0 && (o.h != out.h || o.w != out.w)) {
				return in, layers, false
			}
			out.h, out.w, out.c, out.flat = o.h, o.w, out.c+o.c, out.flat || o.flat
		}
		return out, layers, true
	case e.body != nil:
		out, n, ok := sim(e.body, en, in)
		layers := n + 1
		if !ok {
			return in, layers, false
		}
		if e.short != nil {
			o, m, ok := sim(e.short, en, in)
			out.flat = out.flat || o.flat
			return out, layers + m, ok && o.dims(out)
		}
		if !out.dims(in) {
			// the implied projection, a conv
			if in.flat || stride(in.h, out.h) == 0 || stride(in.w, out.w) == 0 {
				return in, layers, false
			}
			return out, layers + 2, true
		}
		out.flat = out.flat || in.flat
		return out, layers, true
	case e.aux != nil:
		_, n, ok := sim(e.aux, en, in)
		return in, n, ok
	}
	return in, 0, false
}
