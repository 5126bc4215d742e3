// Package netgen generates random .cnn programs that are valid by
// construction, for fuzzing the compiler beyond what random bytes reach:
// block definitions with parameters and arithmetic in their arguments,
// calls, repetition, labels, concat, residuals with an implied or a written
// shortcut, aux heads, groups, identity, if and residual if with their
// conditions, split, scale, in.c, in.h and in.w, a train section and
// comments, laid out with varied
// whitespace and line breaks. Every shape is tracked as the program is built
// (PyTorch's rules, as docs/language.md states them), and a candidate element
// that would be invalid is drawn again.
package netgen

import (
	"fmt"
	"math/rand/v2"
)

// Config bounds the programs.
type Config struct {
	MaxLayers   int // the layers a program expands to, implied projections included (soft: the classifier's tail comes on top); default 40
	MaxSize     int // the input's largest height and width; default 12
	MaxChannels int // the largest filter count and input depth; default 12
	MaxElems    int // the elements of a chain before its tail; default 6
	// Deterministic leaves out bn and writes dropout only as dropout 0, so
	// that training mode and inference compute the same function.
	Deterministic bool
}

func (c Config) withDefaults() Config {
	if c.MaxLayers <= 0 {
		c.MaxLayers = 40
	}
	if c.MaxSize <= 0 {
		c.MaxSize = 12
	}
	if c.MaxChannels <= 0 {
		c.MaxChannels = 12
	}
	if c.MaxElems <= 0 {
		c.MaxElems = 6
	}
	c.MaxSize = max(c.MaxSize, 3)
	return c
}

// program is a whole generated file.
type program struct {
	name   string // "" leaves the network line out
	input  shape
	blocks []*block
	main   []*elem
	train  [][]string // settings, each a list of words
}

type gen struct {
	r       *rand.Rand
	cfg     Config
	blocks  []*block
	labels  int
	used    int // layers so far
	classes int
	nblocks int // blocks drawn, kept or not: their names' numbers
	tries   int // candidates drawn: past maxTries, only layers (retries nest)
}

// maxTries bounds the work of a program: retries of nested groups would
// otherwise multiply.
const maxTries = 400

// ctx is where an element is generated.
type ctx struct {
	en      env
	params  []string
	roles   []role
	depth   int
	top     bool // the main chain: aux heads may branch off
	noLabel bool // inside a repeated group, where a label would repeat
}

func (c *ctx) child() *ctx {
	d := *c
	d.depth++
	d.top = false
	return &d
}

// Generate returns a valid .cnn program drawn from r.
func Generate(r *rand.Rand, cfg Config) []byte {
	g := &gen{r: r, cfg: cfg.withDefaults()}
	p := g.program()
	return write(r, p)
}

func (g *gen) program() *program {
	r := g.r
	p := &program{
		input: shape{h: 2 + r.IntN(g.cfg.MaxSize-1), w: 2 + r.IntN(g.cfg.MaxSize-1), c: 1 + r.IntN(min(4, g.cfg.MaxChannels))},
	}
	if r.IntN(4) > 0 {
		p.name = fmt.Sprintf("Gen%d", r.IntN(1000))
	}
	if r.IntN(4) == 0 { // a square input, as most networks have
		p.input.w = p.input.h
	}
	p.main = g.mainChain(p.input)
	p.blocks = g.blocks
	if r.IntN(4) > 0 {
		p.blocks = g.reachable(p.main)
	}
	if r.IntN(3) > 0 {
		p.train = g.train()
	}
	return p
}

func (g *gen) mainChain(in shape) []*elem {
	r := g.r
	classifier := r.IntN(7) > 0
	g.classes = 2 + r.IntN(5)
	c := &ctx{en: env{}, top: classifier}
	var chain []*elem
	cur := in
	aux := 0
	for range 1 + r.IntN(g.cfg.MaxElems) {
		if c.top && aux < 2 && r.IntN(6) == 0 {
			if e := g.auxHead(c, cur); e != nil {
				chain = append(chain, e)
				aux++
				continue
			}
		}
		var e *elem
		e, cur = g.elem(c, cur)
		chain = append(chain, e)
	}
	if classifier {
		chain = append(chain, g.tail(c, cur, 0.7)...)
	}
	return chain
}

// tail ends a classifier: fc to the classes, perhaps after gap, dropout and
// a hidden fc, perhaps followed by softmax.
func (g *gen) tail(c *ctx, in shape, softmax float64) []*elem {
	r := g.r
	var t []*elem
	add := func(l *layer) { t = append(t, g.decorate(c, &elem{l: l})) }
	if (in.h > 1 || in.w > 1) && r.IntN(3) == 0 {
		add(&layer{word: "gap"})
	}
	if r.IntN(4) == 0 {
		add(g.dropout())
	}
	if r.IntN(4) == 0 {
		add(&layer{word: "fc", n: g.expr(c, 2+r.IntN(2*g.cfg.MaxChannels))})
		add(&layer{word: "relu"})
	}
	add(&layer{word: "fc", n: g.expr(c, g.classes)})
	if r.Float64() < softmax {
		t = append(t, &elem{l: &layer{word: "softmax"}})
	}
	return t
}

// decorate gives an element a label sometimes.
func (g *gen) decorate(c *ctx, e *elem) *elem {
	if !c.noLabel && g.r.IntN(8) == 0 {
		g.labels++
		e.label = fmt.Sprintf("lab%d", g.labels)
	}
	return e
}

// elem draws a valid element on in and returns it with its output.
func (g *gen) elem(c *ctx, in shape) (*elem, shape) {
	for range 12 {
		saved := g.used
		e := g.candidate(c, in)
		g.used = saved
		if e == nil {
			continue
		}
		out, n, ok := simElem(e, c.en, in)
		if ok && saved+n <= g.cfg.MaxLayers {
			g.used = saved + n
			g.register(e)
			return e, out
		}
	}
	g.used++
	return &elem{l: &layer{word: "relu"}}, in
}

// register adds the blocks an accepted element calls to the file.
func (g *gen) register(e *elem) {
	var walk func([]*elem)
	walk = func(chain []*elem) {
		for _, e := range chain {
			if e.call != nil && !g.defined(e.call.b) {
				walk(e.call.b.body)
				g.blocks = append(g.blocks, e.call.b)
			}
			for _, ch := range e.children() {
				walk(ch)
			}
		}
	}
	walk([]*elem{e})
}

// reachable lists the defined blocks that chain calls, directly or not, in
// the order of their definitions. (A drawn element that was then rejected
// may have defined blocks that nothing calls.)
func (g *gen) reachable(chain []*elem) []*block {
	seen := map[*block]bool{}
	var walk func([]*elem)
	walk = func(chain []*elem) {
		for _, e := range chain {
			if e.call != nil && !seen[e.call.b] {
				seen[e.call.b] = true
				walk(e.call.b.body)
			}
			for _, ch := range e.children() {
				walk(ch)
			}
		}
	}
	walk(chain)
	var bs []*block
	for _, b := range g.blocks {
		if seen[b] {
			bs = append(bs, b)
		}
	}
	return bs
}

func (g *gen) defined(b *block) bool {
	for _, d := range g.blocks {
		if d == b {
			return true
		}
	}
	return false
}

// chain draws n valid elements on in.
func (g *gen) chain(c *ctx, in shape, n int) ([]*elem, shape) {
	var ch []*elem
	for range n {
		var e *elem
		e, in = g.elem(c, in)
		ch = append(ch, e)
	}
	return ch, in
}

func (g *gen) candidate(c *ctx, in shape) *elem {
	r := g.r
	var rep expr
	if r.IntN(9) == 0 {
		rep = g.repeat(c)
	}
	inner := c.child()
	if rep != nil {
		inner.noLabel = true
	}
	var e *elem
	g.tries++
	deep := c.depth < 3 && g.tries < maxTries && g.used < g.cfg.MaxLayers
	switch x := r.IntN(100); {
	case x < 55 || !deep:
		e = &elem{l: g.layer(c, in)}
	case x < 67:
		e = g.concat(inner, in)
	case x < 80:
		e = g.residual(inner, in)
	case x < 84:
		e = g.lang(inner, in)
	case x < 90 && len(g.blocks) < 4:
		e = g.newBlock(c, in)
	case len(g.blocks) > 0:
		e = g.reuse(c, in)
	default:
		e = &elem{l: g.layer(c, in)}
	}
	if e == nil {
		return nil
	}
	e.rep = rep
	return g.decorate(c, e)
}

// repeat is a repetition count: 2 or 3, or a block's repetition parameter.
func (g *gen) repeat(c *ctx) expr {
	for i, p := range c.params {
		if c.roles[i] == roleRepeat && g.r.IntN(2) == 0 {
			return ref(p)
		}
	}
	return g.expr(c, 2+g.r.IntN(2))
}

func (g *gen) concat(c *ctx, in shape) *elem {
	r := g.r
	e := &elem{}
	var first shape
	for i := range 2 + r.IntN(3) {
		for range 3 {
			br, out := g.chain(c, in, 1+r.IntN(3))
			if i == 0 || (out.h == first.h && out.w == first.w) {
				first = out
				e.concat = append(e.concat, br)
				break
			}
		}
	}
	return e
}

func (g *gen) residual(c *ctx, in shape) *elem {
	r := g.r
	body, out := g.chain(c, in, 1+r.IntN(3))
	e := &elem{body: body}
	implied := out.dims(in) || (!in.flat && stride(in.h, out.h) > 0 && stride(in.w, out.w) > 0)
	if implied && r.IntN(4) > 0 {
		return e
	}
	if s := g.shortcut(c, in, out); s != nil {
		e.short = s
		return e
	}
	if implied {
		return e
	}
	return nil
}

// shortcut draws a chain that maps in onto out.
func (g *gen) shortcut(c *ctx, in, out shape) []*elem {
	r := g.r
	if in.dims(out) && r.IntN(3) == 0 {
		return []*elem{{l: &layer{word: "relu"}}}
	}
	if in.flat { // no conv on a vector; the body's output is a vector too
		return []*elem{{l: &layer{word: "fc", n: g.expr(c, out.c)}}}
	}
	type conv struct{ k, sh, sw, p int }
	var fits []conv
	for k := 1; k <= 3; k++ {
		for p := 0; p <= k/2; p++ {
			for sh := 1; sh <= 3; sh++ {
				for sw := 1; sw <= 3; sw++ {
					if k <= in.h+2*p && k <= in.w+2*p && window(in.h, k, sh, p, 1, false) == out.h && window(in.w, k, sw, p, 1, false) == out.w {
						fits = append(fits, conv{k, sh, sw, p})
					}
				}
			}
		}
	}
	if len(fits) == 0 {
		return nil
	}
	f := fits[r.IntN(len(fits))]
	l := &layer{word: "conv", n: g.expr(c, out.c), kh: f.k, kw: f.k}
	if f.sh != 1 || f.sw != 1 || r.IntN(3) == 0 {
		l.s = flag{set: true, h: f.sh, w: f.sw}
	}
	if f.p > 0 {
		l.p = flag{set: true, h: f.p, w: f.p}
	}
	l.nobias = r.IntN(3) == 0
	s := []*elem{{l: l}}
	if r.IntN(3) == 0 {
		s = append(s, &elem{l: &layer{word: "relu"}})
	}
	return s
}

// auxHead draws an aux head from in, ending in fc to the classes.
func (g *gen) auxHead(c *ctx, in shape) *elem {
	r := g.r
	saved := g.used
	inner := &ctx{en: c.en, depth: 1}
	var chain []*elem
	cur := in
	if r.IntN(2) == 0 {
		chain, cur = g.chain(inner, in, 1+r.IntN(2))
	}
	chain = append(chain, g.tail(inner, cur, 0.6)...)
	e := &elem{aux: chain}
	if r.IntN(2) == 0 {
		e.weight = weights[r.IntN(len(weights))]
	}
	g.used = saved
	_, n, ok := simElem(e, c.en, in)
	if !ok || saved+n > g.cfg.MaxLayers {
		return nil
	}
	g.used += n
	g.register(e)
	return g.decorate(c, e)
}

var weights = []expr{
	lit{0.3, "0.3"}, lit{1, "1"}, lit{0.5, ".5"}, lit{0.1, "1e-1"}, lit{0.25, "0.25"},
	bin{op: "/", a: lit{0.6, "0.6"}, b: num(2), sp: ""}, bin{op: "*", a: lit{0.1, "0.1"}, b: num(3), sp: " "},
}

var paramNames = [][]string{
	roleChannels: {"c", "ch", "width", "planes", "outc", "f"},
	roleStride:   {"stride", "st", "step"},
	roleRepeat:   {"n", "reps", "times", "depth"},
}

var blockNames = []string{"blk", "unit", "stage", "cell", "mod", "basic"}

// newBlock defines a block whose body is drawn at in with its first
// arguments, and returns its call.
func (g *gen) newBlock(c *ctx, in shape) *elem {
	r := g.r
	g.nblocks++
	b := &block{name: fmt.Sprintf("%s%d", blockNames[r.IntN(len(blockNames))], g.nblocks)}
	taken := map[string]bool{}
	for i := range 1 + r.IntN(3) {
		ro := role(r.IntN(3))
		if i == 0 {
			ro = roleChannels
		}
		names := paramNames[ro]
		name := names[r.IntN(len(names))]
		for taken[name] {
			name += "x"
		}
		taken[name] = true
		b.params = append(b.params, name)
		b.roles = append(b.roles, ro)
		b.vals = append(b.vals, g.paramValue(ro))
	}
	inner := &ctx{en: inEnv(in), params: b.params, roles: b.roles, depth: c.depth + 1}
	if g.r.IntN(2) == 0 { // in.c, in.h, in.w in the body's arithmetic
		inner.params = append(append([]string{}, b.params...), "in.c", "in.h", "in.w")
		inner.roles = append(append([]role{}, b.roles...), roleChannels, roleChannels, roleChannels)
	}
	for i, p := range b.params {
		inner.en[p] = b.vals[i]
	}
	b.body, _ = g.chain(inner, in, 1+r.IntN(4))
	cl := &call{b: b}
	for _, v := range b.vals {
		cl.args = append(cl.args, g.expr(c, int(v)))
	}
	return &elem{call: cl}
}

func (g *gen) paramValue(ro role) float64 {
	switch ro {
	case roleStride, roleRepeat:
		return float64(1 + g.r.IntN(2))
	}
	return float64(1 + g.r.IntN(g.cfg.MaxChannels))
}

// reuse calls a defined block with arguments that are valid on in.
func (g *gen) reuse(c *ctx, in shape) *elem {
	r := g.r
	b := g.blocks[r.IntN(len(g.blocks))]
	for range 4 {
		cl := &call{b: b}
		for i, v := range b.vals {
			if r.IntN(2) == 0 {
				v = g.paramValue(b.roles[i])
			}
			cl.args = append(cl.args, g.expr(c, int(v)))
		}
		e := &elem{call: cl}
		if _, _, ok := simElem(e, c.en, in); ok {
			return e
		}
	}
	return nil
}

// expr writes the whole number v, as a number or, inside a block, often as
// arithmetic on a parameter.
func (g *gen) expr(c *ctx, v int) expr {
	r := g.r
	if len(c.params) == 0 || r.IntN(5) < 2 {
		return num(v)
	}
	// Prefer a parameter equal to v or dividing it.
	var best []string
	for _, p := range c.params {
		pv := int(c.en[p])
		if pv == v || (pv > 0 && v%pv == 0) {
			best = append(best, p)
		}
	}
	p := c.params[r.IntN(len(c.params))]
	if len(best) > 0 && r.IntN(4) > 0 {
		p = best[r.IntN(len(best))]
	}
	pv := int(c.en[p])
	sp := ""
	if r.IntN(3) == 0 {
		sp = " "
	}
	switch {
	case pv == v:
		return ref(p)
	case pv > 0 && v%pv == 0:
		if r.IntN(2) == 0 {
			return bin{op: "*", a: num(v / pv), b: ref(p), sp: sp}
		}
		return bin{op: "*", a: ref(p), b: num(v / pv), sp: sp}
	case v > 0 && pv%v == 0:
		return bin{op: "/", a: ref(p), b: num(pv / v), sp: sp}
	case v > pv:
		return bin{op: "+", a: ref(p), b: num(v - pv), sp: sp}
	}
	return bin{op: "-", a: ref(p), b: num(pv - v), sp: sp}
}
