package dsl

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/cnnc-dev/cnnc/grammar"
)

// Expressions: block arguments, flag values and conditions, evaluated when
// the file is read.

// eval evaluates an expression in sc's environment.
func (r *resolver) eval(sc *scope, e *grammar.Expr) (float64, bool) {
	v, ok := r.term(sc, e.Left)
	for _, t := range e.Rest {
		w, ok2 := r.term(sc, t.Term)
		ok = ok && ok2
		if t.Op == "+" {
			v += w
		} else {
			v -= w
		}
	}
	if ok && (math.IsInf(v, 0) || math.IsNaN(v)) {
		p, end := span(e.Tokens)
		r.errorIn(sc, p, end, "", "number out of range")
		return 0, false
	}
	return v, ok
}

func (r *resolver) term(sc *scope, t *grammar.Term) (float64, bool) {
	v, ok := r.factor(sc, t.Left)
	for _, f := range t.Rest {
		w, ok2 := r.factor(sc, f.Factor)
		ok = ok && ok2
		if !ok {
			continue
		}
		if f.Op == "*" {
			v *= w
		} else if w == 0 {
			r.errorIn(sc, f.Factor.Pos, f.Factor.Pos, "", "division by zero")
			ok = false
		} else {
			v /= w
		}
	}
	return v, ok
}

func (r *resolver) factor(sc *scope, f *grammar.Factor) (float64, bool) {
	var v float64
	switch {
	case f.Number != nil:
		var err error
		v, err = strconv.ParseFloat(*f.Number, 64)
		if err != nil {
			end := f.Pos
			end.Column += len(*f.Number) + boolInt(f.Neg)
			r.errorIn(sc, f.Pos, end, "", "number %s is out of range", *f.Number)
			return 0, false
		}
	case f.Ident != nil && strings.Contains(*f.Ident, "."):
		var ok bool
		if v, ok = r.field(sc, f); !ok {
			return 0, false
		}
	case f.Ident != nil:
		val, ok := sc.env[*f.Ident]
		if !ok {
			end := f.Pos
			end.Column += len(*f.Ident) + boolInt(f.Neg)
			r.errorIn(sc, f.Pos, end, r.paramHint(sc), "undefined name %q", *f.Ident)
			return 0, false
		}
		v = val
	case f.Sub != nil:
		var ok bool
		if v, ok = r.number(sc, f.Sub); !ok {
			return 0, false
		}
	}
	if f.Neg {
		v = -v
	}
	return v, true
}

func (r *resolver) paramHint(sc *scope) string {
	if len(sc.env) == 0 {
		return ""
	}
	var names []string
	for n := range sc.env {
		names = append(names, n)
	}
	sort.Strings(names)
	return "parameters in scope: " + strings.Join(names, ", ")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e21 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
