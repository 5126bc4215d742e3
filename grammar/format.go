package grammar

import (
	"bytes"
	"strings"
)

// Format prints f in canonical form: one space between words, " -> "
// between the elements of a line, continuation lines starting with "-> ",
// two spaces of indentation per nesting level, at most one blank line in a
// row, and every comment kept where it was. The author's line breaks are
// kept; Format(Parse(Format(x))) == Format(Parse(x)).
func Format(f *File) []byte {
	p := &printer{}
	head := gapLines(f.Head)
	if head.trailing != "" {
		head.body = append([]string{head.trailing}, head.body...)
	}
	lead := trimBlanks(head.body, true, true)
	p.comments(lead, "")
	if len(f.Stmts) > 0 && len(lead) > 0 && head.body[len(head.body)-1] == "" {
		p.w("\n")
	}
	for i, st := range f.Stmts {
		p.stmt(st)
		g := st.After
		if i == len(f.Stmts)-1 {
			gl := gapLines(g)
			p.w(comment(gl.trailing))
			p.w("\n")
			p.comments(trimBlanks(gl.body, false, true), "")
			continue
		}
		p.brk(g, "", false)
	}
	out := p.b.Bytes()
	if len(out) == 0 || out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return out
}

type printer struct{ b bytes.Buffer }

func (p *printer) w(s string) { p.b.WriteString(s) }

// gap is the content of an NL token: the comment that ends the current
// line, and the blank and comment lines after it.
type gap struct {
	trailing string
	body     []string // "" for a blank line, "# ..." for a comment line
}

func gapLines(nl string) gap {
	if nl == "" {
		return gap{}
	}
	lines := strings.Split(nl, "\n")
	g := gap{trailing: strings.TrimSpace(lines[0])}
	blank := false
	for _, l := range lines[1 : len(lines)-1] {
		l = strings.TrimSpace(l)
		if l == "" {
			if !blank {
				g.body = append(g.body, "")
			}
			blank = true
			continue
		}
		blank = false
		g.body = append(g.body, l)
	}
	return g
}

func trimBlanks(body []string, lead, trail bool) []string {
	for lead && len(body) > 0 && body[0] == "" {
		body = body[1:]
	}
	for trail && len(body) > 0 && body[len(body)-1] == "" {
		body = body[:len(body)-1]
	}
	return body
}

func comment(c string) string {
	if c == "" {
		return ""
	}
	return " " + c
}

func (p *printer) comments(body []string, indent string) {
	for _, l := range body {
		if l == "" {
			p.w("\n")
		} else {
			p.w(indent + l + "\n")
		}
	}
}

// brk ends the line: the trailing comment of nl, a newline, and nl's blank
// and comment lines at indent. closing trims blank lines before a "}".
func (p *printer) brk(nl string, indent string, closing bool) {
	g := gapLines(nl)
	p.w(comment(g.trailing))
	p.w("\n")
	p.comments(trimBlanks(g.body, false, closing), indent)
}

func (p *printer) stmt(st *Stmt) {
	switch {
	case st.Network != nil:
		p.w("network " + st.Network.Name)
	case st.Input != nil:
		p.w("input " + st.Input.Size)
	case st.Block != nil:
		b := st.Block
		p.w("block " + string(b.Name) + "(")
		for i, q := range b.Params {
			if i > 0 {
				p.w(", ")
			}
			p.w(q.Name)
		}
		p.w(") {")
		p.brk(b.Open, "  ", false)
		p.w("  ")
		p.chain(b.Body, "  ")
		p.brk(b.Close, "  ", true)
		p.w("}")
	case st.Train != nil:
		t := st.Train
		p.w("train {")
		p.brk(t.Open, "  ", len(t.Settings) == 0)
		for i, s := range t.Settings {
			p.w("  " + s.Key)
			for _, a := range s.Args {
				p.w(" ")
				p.arg(a)
			}
			p.brk(s.After, "  ", i == len(t.Settings)-1)
		}
		p.w("}")
	case st.Chain != nil:
		p.chain(st.Chain, "")
	}
}

// chain prints a chain whose first element is at the current position and
// whose continuation lines start at indent.
func (p *printer) chain(c *Chain, indent string) {
	p.element(c.First, indent)
	for _, l := range c.Rest {
		if l.Before != "" || l.After != "" {
			p.brk(l.Before+l.After, indent, false)
			p.w(indent + "-> ")
		} else {
			p.w(" -> ")
		}
		p.element(l.Elem, indent)
	}
}

func (p *printer) element(e *Element, indent string) {
	if e.Label != nil {
		p.w(*e.Label + ": ")
	}
	switch {
	case e.Layer != nil:
		p.w(e.Layer.Word)
		for _, a := range e.Layer.Args {
			p.w(" ")
			p.arg(a)
		}
	case e.Call != nil:
		p.w(string(e.Call.Name) + "(")
		for i, a := range e.Call.Args {
			if i > 0 {
				p.w(", ")
			}
			p.expr(a)
		}
		p.w(")")
	case e.Concat != nil:
		c := e.Concat
		if c.Open == "" {
			p.w(c.Word + " { ")
			p.chain(c.First, indent)
			for _, b := range c.Branches {
				if b.Before != "" || b.After != "" {
					p.brk(b.Before+b.After, indent+"  ", false)
					p.w(indent + "| ")
				} else {
					p.w(" | ")
				}
				p.chain(b.Chain, indent+"  ")
			}
			if c.Close != "" {
				p.brk(c.Close, indent+"  ", true)
				p.w(indent + "}")
			} else {
				p.w(" }")
			}
			break
		}
		p.w(c.Word + " {")
		p.brk(c.Open, indent+"  ", false)
		p.w(indent + "  ")
		p.chain(c.First, indent+"  ")
		for _, b := range c.Branches {
			p.brk(b.Before+b.After, indent+"  ", false)
			p.w(indent + "| ")
			p.chain(b.Chain, indent+"  ")
		}
		p.brk(c.Close, indent+"  ", true)
		p.w(indent + "}")
	case e.Residual != nil:
		r := e.Residual
		p.w("residual ")
		if r.If != nil {
			p.w("if ")
			p.cond(r.If)
			p.w(" ")
		}
		p.braced(r.Open, r.Body, r.Close, indent)
		if r.Shortcut != nil {
			p.w(" shortcut ")
			p.braced(r.Shortcut.Open, r.Shortcut.Chain, r.Shortcut.Close, indent)
		}
	case e.Scale != nil:
		p.w("scale ")
		b := e.Scale.Body
		p.braced(b.Open, b.Chain, b.Close, indent)
	case e.If != nil:
		p.w("if ")
		p.cond(e.If.Cond)
		p.w(" ")
		b := e.If.Body
		p.braced(b.Open, b.Chain, b.Close, indent)
	case e.Group != nil:
		g := e.Group
		if g.Open == "" {
			p.w("(")
			p.chain(g.Chain, indent+"  ")
			if g.Close != "" {
				p.brk(g.Close, indent+"  ", true)
				p.w(indent)
			}
			p.w(")")
			break
		}
		p.w("(")
		p.brk(g.Open, indent+"  ", false)
		p.w(indent + "  ")
		p.chain(g.Chain, indent+"  ")
		p.brk(g.Close, indent+"  ", true)
		p.w(indent + ")")
	case e.Aux != nil:
		p.w("aux ")
		if e.Aux.Weight != nil {
			p.w("weight ")
			p.expr(e.Aux.Weight)
			p.w(" ")
		}
		h := e.Aux.Head
		p.braced(h.Open, h.Chain, h.Close, indent)
	}
	if e.Repeat != nil {
		if e.Repeat.Count != nil {
			p.w(" " + *e.Repeat.Count)
		} else {
			p.w(" x(")
			p.expr(e.Repeat.Expr)
			p.w(")")
		}
	}
}

// braced prints `{ chain }`, on one line when it was written on one line.
func (p *printer) braced(open string, c *Chain, close string, indent string) {
	if open == "" {
		p.w("{ ")
		p.chain(c, indent+"  ")
		if close != "" {
			p.brk(close, indent+"  ", true)
			p.w(indent + "}")
		} else {
			p.w(" }")
		}
		return
	}
	p.w("{")
	p.brk(open, indent+"  ", false)
	p.w(indent + "  ")
	p.chain(c, indent+"  ")
	p.brk(close, indent+"  ", true)
	p.w(indent + "}")
}

func (p *printer) arg(a *Arg) {
	switch {
	case a.Size != nil:
		p.w(*a.Size)
	case a.Flag != nil:
		p.w(string(a.Flag.Name) + "(")
		p.expr(a.Flag.Value)
		p.w(")")
	default:
		p.term(a.Term)
	}
}

func (p *printer) expr(e *Expr) {
	p.term(e.Left)
	for _, t := range e.Rest {
		p.w(t.Op)
		p.term(t.Term)
	}
}

func (p *printer) term(t *Term) {
	p.factor(t.Left)
	for _, f := range t.Rest {
		p.w(f.Op)
		p.factor(f.Factor)
	}
}

func (p *printer) factor(f *Factor) {
	if f.Neg {
		p.w("-")
	}
	switch {
	case f.Number != nil:
		p.w(*f.Number)
	case f.Ident != nil:
		p.w(*f.Ident)
	case f.Sub != nil:
		p.w("(")
		p.cond(f.Sub)
		p.w(")")
	}
}

// cond prints a condition: one space around the comparisons and the
// logical words, none inside the expressions (`s == 1 and in.c == c`).
func (p *printer) cond(c *Cond) {
	p.conj(c.Left)
	for _, x := range c.Rest {
		p.w(" or ")
		p.conj(x)
	}
}

func (p *printer) conj(c *Conj) {
	p.neg(c.Left)
	for _, x := range c.Rest {
		p.w(" and ")
		p.neg(x)
	}
}

func (p *printer) neg(n *Neg) {
	if n.Not {
		p.w("not ")
	}
	p.expr(n.Cmp.Left)
	if n.Cmp.Op != nil {
		p.w(" " + *n.Cmp.Op + " ")
		p.expr(n.Cmp.Right)
	}
}
