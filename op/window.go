package op

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// window computes a conv or pool output size along one axis with PyTorch's
// rule: floor or ceil of (in + 2p - d(k-1) - 1)/s, plus one; in ceil mode
// the last window must start inside the input or the left padding.
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

// spatial computes the output height and width of a sliding window over in
// and reports a kernel that does not fit or an output that vanishes.
func spatial(c Checker, in Shape, kh, kw, sh, sw, ph, pw, dh, dw int, ceil bool) (Shape, bool) {
	text := c.Text()
	eh, ew := dh*(kh-1)+1, dw*(kw-1)+1
	if eh > in.H+2*ph || ew > in.W+2*pw {
		need := max((eh-in.H+1)/2, (ew-in.W+1)/2)
		hint := fmt.Sprintf("use a smaller kernel, or pad by at least %d (p%d)", need, need)
		msg := fmt.Sprintf("%s: the %dx%d window does not fit the %dx%d input (padded to %dx%d)",
			text, eh, ew, in.H, in.W, in.H+2*ph, in.W+2*pw)
		if in.H <= 2 || in.W <= 2 {
			msg = fmt.Sprintf("%s: the maps have shrunk to %dx%d, too small for its %dx%d window", text, in.H, in.W, eh, ew)
			hint = "remove a pooling or striding layer before it, or use a larger input"
		}
		c.Errorf(hint, "%s", msg)
		return Shape{}, false
	}
	out := Shape{H: window(in.H, kh, sh, ph, dh, ceil), W: window(in.W, kw, sw, pw, dw, ceil)}
	if out.H < 1 || out.W < 1 {
		c.Errorf("the network shrinks to nothing here: remove a pooling or striding layer, or use a larger input",
			"%s: the output of %s input would be %dx%d", text, in, out.H, out.W)
		return out, false
	}
	return out, true
}

// groupHint suggests group counts that divide both channel counts: the
// smallest divisors of their greatest common divisor.
func groupHint(in, filters int) string {
	a, b := in, filters
	for b != 0 {
		a, b = b, a%b
	}
	var divs []int
	for d := 2; d*d <= a; d++ {
		if a%d == 0 {
			divs = append(divs, d, a/d)
		}
	}
	if a > 1 {
		divs = append(divs, a)
	}
	slices.Sort(divs)
	divs = slices.Compact(divs)
	var good []string
	for _, d := range divs[:min(4, len(divs))] {
		good = append(good, fmt.Sprintf("g%d", d))
	}
	h := fmt.Sprintf("groups must divide both %d (input) and %d (filters)", in, filters)
	if len(good) > 0 {
		h += "; try " + strings.Join(good, " or ")
	} else {
		h += "; only g1 does"
	}
	return h
}

// pair prints a flag whose value may differ along height and width: s2, or
// s2x1.
func pair(flag string, h, w int) string {
	if h == w {
		return fmt.Sprintf("%s%d", flag, h)
	}
	return fmt.Sprintf("%s%dx%d", flag, h, w)
}

// num prints a float in Go's shortest form.
func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// choose is yes or no.
func choose(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
