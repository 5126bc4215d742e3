// Package weights maps the tensors of a PyTorch state_dict onto a network's
// tensors (cnnc weights): by name where the names agree, otherwise by order
// and shape. It works on descriptions only (name, shape, dtype); reading and
// writing the files is the command's.
//
// The rules, in order:
//
//  1. Bookkeeping in the file is dropped: a name ending in
//     num_batches_tracked, and every tensor whose dtype is not a float
//     (integers, BOOL). Float dtypes the runtime cannot convert (F8) are an
//     error.
//  2. Exact name matches pair first; their shapes must agree.
//  3. The rest pair in order: PyTorch's state_dict order is the modules'
//     registration order, which for torchvision's models is the .cnn's. A
//     pair needs the same shape and, when both names end in a known role
//     (weight, bias, running_mean, running_var), the same role. The pairs
//     are the longest alignment that keeps both orders (a longest common
//     subsequence), so a tensor missing on one side is reported as missing
//     instead of shifting every pair after it; when the counts agree and
//     every position fits, that is the i-th with the i-th, and no other
//     pairing is possible. What is left over is an error: as many tensors
//     on both sides between two pairs are mismatches of one position (the
//     shapes; a 2-D shape reversed is "transposed"; two roles that differ);
//     otherwise missing or extra, with a hint when the missing tensor's
//     twin is elsewhere in the file (two tensors that could swap, such as
//     a bn's bias and running mean in another order).
//  4. When some tensors pair by name and some by order, the pairs must keep
//     both orders (a name that agrees by accident would pair out of turn).
//
// Every error names both sides; Map returns all it finds, and no pairs then.
package weights

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Spec describes one tensor: its name, shape and dtype (as in a safetensors
// header: F32, F16, BF16, F64, I64, ...; empty means F32).
type Spec struct {
	Name  string
	Shape []int
	Dtype string
}

// How a pair was made.
const (
	ByName  = "name"
	ByOrder = "order"
)

// Pair is one tensor of the network (Want) and the tensor of the file that
// fills it (Have).
type Pair struct {
	Want, Have Spec
	By         string // ByName or ByOrder
}

// leafPairs pairs, in order among themselves, the tensors whose last name
// is not a role but is the same on both sides, as many on each
// (ConvNeXt's layer_scale: torchvision's CNBlock registers it before its
// block's modules, the .cnn writes it last). It fills haveOf and used and
// returns the network's tensors it paired.
func leafPairs(want, have []Spec, kept, haveOf []int, used []bool) map[int]bool {
	leaf := func(n string) string { return n[strings.LastIndexByte(n, '.')+1:] }
	ws, hs := map[string][]int{}, map[string][]int{}
	for j, w := range want {
		if haveOf[j] < 0 && role(w.Name) == "" && strings.Contains(w.Name, ".") {
			ws[leaf(w.Name)] = append(ws[leaf(w.Name)], j)
		}
	}
	for _, i := range kept {
		if !used[i] && role(have[i].Name) == "" && strings.Contains(have[i].Name, ".") {
			hs[leaf(have[i].Name)] = append(hs[leaf(have[i].Name)], i)
		}
	}
	paired := map[int]bool{}
	for l, js := range ws {
		is := hs[l]
		if len(is) != len(js) {
			continue
		}
		ok := true
		for k := range js {
			ok = ok && sameShape(want[js[k]].Shape, have[is[k]].Shape)
		}
		if !ok {
			continue
		}
		for k, j := range js {
			haveOf[j], used[is[k]], paired[j] = is[k], true, true
		}
	}
	return paired
}

// Bookkeeping reports whether a tensor of a file is not a weight and is
// dropped: num_batches_tracked, and any tensor that is not a float.
func Bookkeeping(s Spec) bool {
	if s.Name == "num_batches_tracked" || strings.HasSuffix(s.Name, ".num_batches_tracked") {
		return true
	}
	switch s.Dtype {
	case "", "F32", "F16", "BF16", "F64", "F8_E4M3", "F8_E5M2":
		return false
	}
	return true
}

func convertible(dtype string) bool {
	switch dtype {
	case "", "F32", "F16", "BF16", "F64":
		return true
	}
	return false
}

// role is the last component of a name when it is one of the roles every
// PyTorch layer with tensors uses, else "".
func role(name string) string {
	r := name[strings.LastIndexByte(name, '.')+1:]
	switch r {
	case "weight", "bias", "running_mean", "running_var":
		return r
	}
	return ""
}

func shape(s []int) string { return fmt.Sprint(s) }

func transposed(want, have []int) bool {
	return len(want) == 2 && len(have) == 2 && want[0] == have[1] && want[1] == have[0] && want[0] != want[1]
}

// sameShape: the shapes are equal, or the network's is the file's with
// trailing 1s: an nn.Linear applied at every pixel (ConvNeXt's (4C, C))
// is the network's 1x1 conv (4C, C, 1, 1), the same values in the same
// order.
func sameShape(want, have []int) bool {
	if len(want) > len(have) && len(have) >= 2 {
		for _, d := range want[len(have):] {
			if d != 1 {
				return false
			}
		}
		want = want[:len(have)]
	}
	return slices.Equal(want, have)
}

// compatible reports whether an order pair is allowed: the same shape
// (sameShape), and the same role when both names have one.
func compatible(w, h Spec) bool {
	rw, rh := role(w.Name), role(h.Name)
	return sameShape(w.Shape, h.Shape) && (rw == "" || rh == "" || rw == rh)
}

// align pairs restW with restH in order: the longest run of compatible pairs
// that keeps both orders (a longest common subsequence), so that a tensor
// missing on one side does not shift every pair after it. It fills haveOf
// and returns an error for everything left over: within a gap between two
// pairs, as many tensors on both sides are mismatches of one position
// (shape, transposed, role); otherwise they are missing or extra.
func align(want, have []Spec, restW, restH []int, haveOf []int, hints bool) []error {
	n, m := len(restW), len(restH)
	// l[a][b]: the longest alignment of restW[a:] and restH[b:].
	l := make([][]int32, n+1)
	for a := range l {
		l[a] = make([]int32, m+1)
	}
	for a := n - 1; a >= 0; a-- {
		for b := m - 1; b >= 0; b-- {
			best := max(l[a+1][b], l[a][b+1])
			if compatible(want[restW[a]], have[restH[b]]) {
				best = max(best, l[a+1][b+1]+1)
			}
			l[a][b] = best
		}
	}
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	var gapW, gapH []int
	flush := func() {
		if len(gapW) == len(gapH) {
			for k := range gapW {
				w, h := want[gapW[k]], have[gapH[k]]
				switch {
				case transposed(w.Shape, h.Shape):
					fail("%s: file's %s is %s, the network's %s transposed (fc weights are [out, in])", w.Name, h.Name, shape(h.Shape), shape(w.Shape))
				case !sameShape(w.Shape, h.Shape):
					fail("%s %s: paired by order with the file's %s, whose shape is %s", w.Name, shape(w.Shape), h.Name, shape(h.Shape))
				default:
					fail("%s: paired by order with the file's %s, a %s, not a %s: the orders differ (two tensors of shape %s that could swap)",
						w.Name, h.Name, role(h.Name), role(w.Name), shape(w.Shape))
				}
			}
		} else {
			if len(gapW) > 0 {
				h := ""
				if hints {
					h = hint(want, have, gapW, restH, haveOf)
				}
				fail("%d tensor(s) of the network not in the file: %s%s", len(gapW), list(want, gapW), h)
			}
			if len(gapH) > 0 {
				fail("%d tensor(s) of the file not in the network: %s", len(gapH), list(have, gapH))
			}
		}
		gapW, gapH = gapW[:0], gapH[:0]
	}
	a, b := 0, 0
	for a < n || b < m {
		switch {
		case a < n && b < m && compatible(want[restW[a]], have[restH[b]]) && l[a][b] == l[a+1][b+1]+1:
			flush()
			haveOf[restW[a]] = restH[b]
			a++
			b++
		case b < m && (a == n || l[a][b+1] >= l[a+1][b]):
			gapH = append(gapH, restH[b])
			b++
		default:
			gapW = append(gapW, restW[a])
			a++
		}
	}
	flush()
	return errs
}

// hint says where a missing tensor's likely counterpart is: a tensor of the
// file of the same shape and role that is not paired, out of order.
func hint(want, have []Spec, missing, restH []int, haveOf []int) string {
	used := map[int]bool{}
	for _, i := range haveOf {
		used[i] = true
	}
	for _, j := range missing {
		for _, i := range restH {
			if !used[i] && compatible(want[j], have[i]) {
				return fmt.Sprintf(" (the file's %s has %s's shape but comes elsewhere in the file's order: two tensors that could swap?)", have[i].Name, want[j].Name)
			}
			if !used[i] && transposed(want[j].Shape, have[i].Shape) {
				return fmt.Sprintf(" (the file's %s is %s, %s's shape transposed: fc weights are [out, in])", have[i].Name, shape(have[i].Shape), want[j].Name)
			}
		}
	}
	return ""
}

// Map pairs every tensor of want (the network's, in its order) with one of
// have (a file's, in its order). It returns the pairs in want's order, or
// an error listing every mismatch (errors.Join of one error per line).
func Map(want, have []Spec) ([]Pair, error) {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	var kept []int // indexes into have
	for i, h := range have {
		if Bookkeeping(h) {
			continue
		}
		if !convertible(h.Dtype) {
			fail("%s: dtype %s in file cannot be converted to float32 (F32, F16, BF16 and F64 can)", h.Name, h.Dtype)
			continue
		}
		kept = append(kept, i)
	}

	byName := map[string]int{}
	for _, i := range kept {
		byName[have[i].Name] = i
	}
	haveOf := make([]int, len(want)) // index into have, or -1
	used := make([]bool, len(have))
	names := 0
	for j, w := range want {
		haveOf[j] = -1
		i, ok := byName[w.Name]
		if !ok {
			continue
		}
		if !sameShape(w.Shape, have[i].Shape) {
			fail("%s: shape %s in file, network wants %s", w.Name, shape(have[i].Shape), shape(w.Shape))
		}
		haveOf[j], used[i] = i, true
		names++
	}

	byLeaf := leafPairs(want, have, kept, haveOf, used)

	var restW, restH []int
	for j := range want {
		if haveOf[j] < 0 {
			restW = append(restW, j)
		}
	}
	for _, i := range kept {
		if !used[i] {
			restH = append(restH, i)
		}
	}
	if len(restW) != len(restH) {
		fail("the file has %d tensors the names do not pair, the network %d", len(restH), len(restW))
	}
	errs = append(errs, align(want, have, restW, restH, haveOf, len(restW) == len(restH))...)
	if len(errs) > 10 {
		errs = append(errs[:10], fmt.Errorf("and %d more", len(errs)-10))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	// Mixed name and order pairs must keep the file's order.
	if names > 0 && names < len(want) {
		last := -1
		for j, i := range haveOf {
			if byLeaf[j] {
				continue
			}
			if i < last {
				return nil, fmt.Errorf("%s pairs with the file's %s (by %s) out of the file's order: the names agree by accident or the orders differ",
					want[j].Name, have[i].Name, how(want[j].Name, have[i].Name))
			}
			last = i
		}
	}
	pairs := make([]Pair, len(want))
	for j, i := range haveOf {
		pairs[j] = Pair{Want: want[j], Have: have[i], By: how(want[j].Name, have[i].Name)}
	}
	return pairs, nil
}

func how(w, h string) string {
	if w == h {
		return ByName
	}
	return ByOrder
}

// list names the first few tensors of idx, with their shapes.
func list(s []Spec, idx []int) string {
	var b strings.Builder
	for k, i := range idx {
		if k == 3 {
			fmt.Fprintf(&b, ", and %d more", len(idx)-k)
			break
		}
		if k > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", s[i].Name, shape(s[i].Shape))
	}
	return b.String()
}
