package runtime

import (
	"fmt"
	"math"
)

// Softmax is the softmax over Classes logits per image, (N,Classes), and
// the fused softmax + cross-entropy loss used in training.
type Softmax struct{ Classes int }

// ForwardRef: x and y are (N,Classes); y = exp(x - max) / sum exp(x - max),
// float64 sums.
func (s Softmax) ForwardRef(n int, x, y []float32) {
	check("Softmax.ForwardRef", "x", x, n*s.Classes)
	check("Softmax.ForwardRef", "y", y, n*s.Classes)
	for i := 0; i < n; i++ {
		xs, ys := x[i*s.Classes:(i+1)*s.Classes], y[i*s.Classes:(i+1)*s.Classes]
		m := math.Inf(-1)
		for _, v := range xs {
			m = max(m, float64(v))
		}
		var z float64
		for _, v := range xs {
			z += math.Exp(float64(v) - m)
		}
		for j, v := range xs {
			ys[j] = float32(math.Exp(float64(v)-m) / z)
		}
	}
}

// Forward: x and y are (N,Classes) (y may alias x); the numerically stable
// softmax of each row.
func (s Softmax) Forward(n int, x, y []float32) {
	check("Softmax.Forward", "x", x, n*s.Classes)
	check("Softmax.Forward", "y", y, n*s.Classes)
	for i := 0; i < n; i++ {
		xs, ys := x[i*s.Classes:(i+1)*s.Classes], y[i*s.Classes:(i+1)*s.Classes]
		m := xs[0]
		for _, v := range xs {
			m = max(m, v)
		}
		var z float32
		for j, v := range xs {
			e := float32(math.Exp(float64(v - m)))
			ys[j] = e
			z += e
		}
		inv := 1 / z
		for j := range ys {
			ys[j] *= inv
		}
	}
}

func (s Softmax) checkLabels(op string, n int, labels []int32) {
	if len(labels) != n {
		panic(fmt.Sprintf("runtime.%s: len(labels) = %d, want %d", op, len(labels), n))
	}
	for i, l := range labels {
		if l < 0 || int(l) >= s.Classes {
			panic(fmt.Sprintf("runtime.%s: labels[%d] = %d outside [0, %d)", op, i, l, s.Classes))
		}
	}
}

// Loss: logits and probs are (N,Classes), labels (N). It writes the
// softmax into probs (which may alias logits) and returns the cross-entropy
// averaged over the batch, -1/N sum log p[label], computed as
// logsumexp(x) - x[label] (stable for any logits).
func (s Softmax) Loss(n int, logits []float32, labels []int32, probs []float32) float32 {
	s.checkLabels("Softmax.Loss", n, labels)
	check("Softmax.Loss", "logits", logits, n*s.Classes)
	check("Softmax.Loss", "probs", probs, n*s.Classes)
	if n == 0 {
		return 0
	}
	var loss float64
	for i := 0; i < n; i++ {
		xs, ps := logits[i*s.Classes:(i+1)*s.Classes], probs[i*s.Classes:(i+1)*s.Classes]
		m := math.Inf(-1)
		for _, v := range xs {
			m = max(m, float64(v))
		}
		var z float64
		for _, v := range xs {
			z += math.Exp(float64(v) - m)
		}
		loss += m + math.Log(z) - float64(xs[labels[i]])
		for j, v := range xs {
			ps[j] = float32(math.Exp(float64(v)-m) / z)
		}
	}
	return float32(loss / float64(n))
}

// LossBackward: probs (from Loss) and dlogits are (N,Classes), labels (N);
// dlogits += weight * (probs - onehot(labels)) / N. weight is 1 for the main
// loss and the head's weight for an auxiliary classifier.
func (s Softmax) LossBackward(n int, probs []float32, labels []int32, weight float32, dlogits []float32) {
	s.checkLabels("Softmax.LossBackward", n, labels)
	check("Softmax.LossBackward", "probs", probs, n*s.Classes)
	check("Softmax.LossBackward", "dlogits", dlogits, n*s.Classes)
	if n == 0 {
		return
	}
	k := weight / float32(n)
	for i := 0; i < n; i++ {
		ps, ds := probs[i*s.Classes:(i+1)*s.Classes], dlogits[i*s.Classes:(i+1)*s.Classes]
		for j, p := range ps {
			ds[j] += k * p
		}
		ds[labels[i]] -= k
	}
}

// Accuracy counts the rows whose largest value is at the label (the first
// of equal maxima wins).
func (s Softmax) Accuracy(n int, x []float32, labels []int32) int {
	s.checkLabels("Softmax.Accuracy", n, labels)
	check("Softmax.Accuracy", "x", x, n*s.Classes)
	hits := 0
	for i := 0; i < n; i++ {
		xs := x[i*s.Classes : (i+1)*s.Classes]
		best := 0
		for j, v := range xs {
			if v > xs[best] {
				best = j
			}
		}
		if best == int(labels[i]) {
			hits++
		}
	}
	return hits
}
