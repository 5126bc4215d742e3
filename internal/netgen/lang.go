package netgen

// The constructs of the language after 2015: ( chain ) xN, if, residual
// if, split, scale and their conditions.

// children lists the chains nested in e.
func (e *elem) children() [][]*elem {
	ch := [][]*elem{e.body, e.short, e.aux, e.group, e.scale, e.ifBody}
	ch = append(ch, e.concat...)
	return append(ch, e.split...)
}

// lang draws a group, an if, a split, a scale or a residual if on in.
func (g *gen) lang(c *ctx, in shape) *elem {
	r := g.r
	switch r.IntN(5) {
	case 0:
		ch, _ := g.chain(c, in, 1+r.IntN(3))
		return &elem{group: ch}
	case 1:
		ch, _ := g.chain(c, in, 1+r.IntN(2))
		return &elem{ifBody: ch, cond: g.cond(c, 0)}
	case 2:
		return g.splitElem(c, in)
	case 3:
		return g.scaleElem(c, in)
	}
	e := g.residual(c, in)
	if e != nil {
		e.cond = g.cond(c, 0)
	}
	return e
}

func (g *gen) splitElem(c *ctx, in shape) *elem {
	r := g.r
	var ks []int
	for k := 2; k <= 4; k++ {
		if in.c%k == 0 {
			ks = append(ks, k)
		}
	}
	if in.flat || len(ks) == 0 {
		return nil
	}
	k := ks[r.IntN(len(ks))]
	part := shape{h: in.h, w: in.w, c: in.c / k}
	e := &elem{}
	var first shape
	for i := range k {
		var br []*elem
		out := part
		if r.IntN(3) == 0 {
			br = []*elem{{l: &layer{word: "identity"}}}
		} else {
			for range 3 {
				if br, out = g.chain(c, part, 1+r.IntN(2)); i == 0 || out.h == first.h && out.w == first.w {
					break
				}
			}
		}
		if i == 0 {
			first = out
		}
		e.split = append(e.split, br)
	}
	return e
}

// scaleElem draws squeeze-and-excitation: gap, then conv or fc to the
// input's depth, sometimes through a narrower conv and a relu.
func (g *gen) scaleElem(c *ctx, in shape) *elem {
	r := g.r
	if in.flat {
		return nil
	}
	ch := []*elem{{l: &layer{word: "gap"}}}
	if r.IntN(3) == 0 {
		ch = append(ch, &elem{l: &layer{word: "fc", n: g.expr(c, in.c)}})
		return &elem{scale: ch}
	}
	if r.IntN(2) == 0 {
		ch = append(ch, &elem{l: &layer{word: "conv", n: g.expr(c, 1+r.IntN(in.c)), kh: 1, kw: 1, g: 1}}, &elem{l: &layer{word: "relu"}})
	}
	ch = append(ch, &elem{l: &layer{word: "conv", n: g.expr(c, in.c), kh: 1, kw: 1, g: 1}})
	return &elem{scale: ch}
}

var comparisons = []string{"==", "!=", "<", "<=", ">", ">="}

// cond draws a condition on the block's parameters and in.c, in.h, in.w
// (or on numbers outside blocks).
func (g *gen) cond(c *ctx, depth int) *cond {
	r := g.r
	if depth < 2 && r.IntN(3) == 0 {
		x := &cond{l: g.cond(c, depth+1), r: g.cond(c, depth+1), logic: "and"}
		if r.IntN(2) == 0 {
			x.logic = "or"
		}
		for _, y := range []*cond{x.l, x.r} {
			if y.logic != "" && (y.logic != x.logic || r.IntN(2) == 0) {
				y.paren = true // or inside and needs them; otherwise optional
			}
		}
		x.not = r.IntN(5) == 0
		return x
	}
	var a expr = num(r.IntN(4))
	v := a.eval(c.en)
	if len(c.params) > 0 && r.IntN(4) > 0 {
		p := c.params[r.IntN(len(c.params))]
		a, v = ref(p), c.en[p]
	}
	b := num(max(0, int(v)+r.IntN(3)-1))
	x := &cond{a: a, b: b, cmp: comparisons[r.IntN(len(comparisons))]}
	x.not = r.IntN(6) == 0
	x.paren = !x.not && r.IntN(6) == 0
	return x
}
