package importer

import (
	"regexp"
	"strconv"
	"strings"
)

// A layer's text as tokens: the word, then its arguments. Filter counts
// (conv N, fc N) and the flags s, g are slots, the numbers a block may take
// as parameters; the rest is literal. A conv without a stride gets s1, so
// that strided and unstrided instances share one template.
type token struct {
	lit  string // literal text, or the flag letter of a flag slot ("s"), "" for a positional slot
	slot bool
	v    int
	def  bool // the flag may be left out at 1 (a conv's stride and groups; a pool's stride defaults to its window)
}

var flagSlot = regexp.MustCompile(`^([sg])(\d+)$`)

func tokens(l *node) []token {
	f := strings.Fields(l.text)
	ts := []token{{lit: f[0]}}
	hasStride := false
	for _, w := range f[1:] {
		hasStride = hasStride || strings.HasPrefix(w, "s") && flagSlot.MatchString(w)
	}
	for i, w := range f[1:] {
		if i == 0 && (f[0] == "conv" || f[0] == "fc") {
			if v, err := strconv.Atoi(w); err == nil {
				ts = append(ts, token{slot: true, v: v})
				continue
			}
		}
		if m := flagSlot.FindStringSubmatch(w); m != nil {
			v, _ := strconv.Atoi(m[2])
			ts = append(ts, token{lit: m[1], slot: true, v: v, def: f[0] == "conv"})
			continue
		}
		ts = append(ts, token{lit: w})
		if i == 1 && f[0] == "conv" && !hasStride {
			ts = append(ts, token{lit: "s", slot: true, v: 1, def: true})
			hasStride = true
		}
	}
	return ts
}

// writer writes elements as .cnn text; args, when set, are the slots'
// texts (block parameters), taken in order.
type writer struct {
	b    strings.Builder
	args []string
	k    int
}

func (w *writer) slot(t token) string {
	v := strconv.Itoa(t.v)
	if w.args != nil {
		v = w.args[w.k]
		w.k++
	}
	if t.lit == "" {
		return v
	}
	_, err := strconv.Atoi(v)
	if err != nil {
		v = "(" + v + ")"
	} else if t.def && v == "1" {
		return "" // the default
	}
	return t.lit + v
}

func (w *writer) layer(l *node) {
	var parts []string
	for _, t := range tokens(l) {
		s := t.lit
		if t.slot {
			s = w.slot(t)
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	w.b.WriteString(strings.Join(parts, " "))
}

// lineWidth is where chains of layers break.
const lineWidth = 88

// chain writes es joined by arrows, each composite on its own lines and
// the layers between them wrapped at lineWidth, before a conv, fc or pool
// (a layer and the activations after it stay on one line).
func (w *writer) chain(es []*elem, indent string, breakAll bool) {
	starts := func(e *elem) bool {
		if e.layer == nil {
			return true
		}
		switch e.layer.opType {
		case "Conv", "Gemm", "MaxPool", "AveragePool", "GlobalAveragePool":
			return true
		}
		return false
	}
	for i, e := range es {
		if i > 0 {
			br := breakAll || e.layer == nil || es[i-1].layer == nil
			if !br && starts(e) {
				n := 0 // the width of the group that starts here
				for j := i; j < len(es) && es[j].layer != nil && (j == i || !starts(es[j])); j++ {
					sub := &writer{args: w.args, k: w.k}
					sub.layer(es[j].layer)
					n += 4 + sub.b.Len()
				}
				s := w.b.String()
				line := len(s) - strings.LastIndexByte(s, '\n') - 1
				br = line+n > lineWidth
			}
			if br {
				w.b.WriteString("\n" + indent + "-> ")
			} else {
				w.b.WriteString(" -> ")
			}
		}
		w.elem(e, indent)
	}
}

func (w *writer) elem(e *elem, indent string) {
	in := indent + "  "
	switch {
	case e.layer != nil:
		w.layer(e.layer)
	case e.branches != nil:
		w.b.WriteString("concat {\n" + in)
		for i, br := range e.branches {
			if i > 0 {
				w.b.WriteString("\n" + indent + "| ")
			}
			w.chain(br, in, false)
		}
		w.b.WriteString("\n" + indent + "}")
	default:
		w.b.WriteString("residual {\n" + in)
		w.chain(e.body, in, false)
		w.b.WriteString("\n" + indent + "}")
		if e.shortcut != nil {
			w.b.WriteString(" shortcut { ")
			w.chain(e.shortcut, in, false)
			w.b.WriteString(" }")
		}
	}
}

// slotTokens lists the slots of es in writing order (their values and
// flag letters).
func slotTokens(es []*elem) []token {
	var ts []token
	for _, e := range es {
		switch {
		case e.layer != nil:
			for _, t := range tokens(e.layer) {
				if t.slot {
					ts = append(ts, t)
				}
			}
		case e.branches != nil:
			for _, b := range e.branches {
				ts = append(ts, slotTokens(b)...)
			}
		default:
			ts = append(ts, slotTokens(e.body)...)
			ts = append(ts, slotTokens(e.shortcut)...)
		}
	}
	return ts
}

// slots lists the slot values of es in writing order.
func slots(es []*elem) []int {
	var vs []int
	for _, t := range slotTokens(es) {
		vs = append(vs, t.v)
	}
	return vs
}

// template is the text of es with every slot a '#': units with the same
// template differ in their numbers only.
func template(es []*elem) string {
	vs := slots(es)
	args := make([]string, len(vs))
	for i := range args {
		args[i] = "#"
	}
	w := &writer{args: args}
	w.chain(es, "", false)
	return w.b.String()
}

// tensorsOf lists the tensors of es in the order the compiled network
// has them: a layer's in its order, a body before its shortcut (written or
// implied), branches in order.
func tensorsOf(es []*elem) []tensor {
	var ts []tensor
	for _, e := range es {
		switch {
		case e.layer != nil:
			ts = append(ts, e.layer.tensors...)
		case e.branches != nil:
			for _, b := range e.branches {
				ts = append(ts, tensorsOf(b)...)
			}
		default:
			ts = append(ts, tensorsOf(e.body)...)
			ts = append(ts, tensorsOf(e.shortcut)...)
			ts = append(ts, tensorsOf(e.implied)...)
		}
	}
	return ts
}

func quoteName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9' && b.Len() > 0, r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "imported"
	}
	return b.String()
}
