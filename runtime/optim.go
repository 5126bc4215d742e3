package runtime

import (
	"fmt"
	"math"
)

// Param is one trainable tensor and its gradient buffer (same length).
type Param struct {
	Name string
	W, G []float32
}

// OptimState is an optimiser's state for checkpoints: the step count and
// one tensor per parameter and kind, keyed "<param name>.<kind>" with
// PyTorch's kinds: momentum_buffer (SGD), exp_avg and exp_avg_sq (Adam).
type OptimState struct {
	Step    int64
	Tensors map[string][]float32
}

func checkParams(op string, ps []Param) {
	seen := map[string]bool{}
	for _, p := range ps {
		if len(p.W) != len(p.G) {
			panic(fmt.Sprintf("runtime.%s: %s: len(W) = %d != len(G) = %d", op, p.Name, len(p.W), len(p.G)))
		}
		if seen[p.Name] {
			panic(fmt.Sprintf("runtime.%s: parameter %q listed twice", op, p.Name))
		}
		seen[p.Name] = true
	}
}

// SGD is torch.optim.SGD (dampening 0): g += WeightDecay*w; with momentum
// v = Momentum*v + g (v = g on the first step); Nesterov uses g + Momentum*v,
// plain momentum v; w -= LR*that. LR may be changed between steps.
type SGD struct {
	LR, Momentum, WeightDecay float32
	Nesterov                  bool
	params                    []Param
	v                         [][]float32
	step                      int64
}

// NewSGD allocates the momentum buffers for params.
func NewSGD(params []Param, lr, momentum, weightDecay float32, nesterov bool) *SGD {
	checkParams("NewSGD", params)
	o := &SGD{LR: lr, Momentum: momentum, WeightDecay: weightDecay, Nesterov: nesterov, params: params}
	for _, p := range params {
		o.v = append(o.v, make([]float32, len(p.W)))
	}
	return o
}

// Step updates every parameter from its gradient (the gradients are not
// zeroed).
func (o *SGD) Step() {
	mu, wd, lr := o.Momentum, o.WeightDecay, o.LR
	for pi, p := range o.params {
		v := o.v[pi]
		w, g := p.W, p.G[:len(p.W)]
		v = v[:len(w)]
		for i := range w {
			d := g[i] + wd*w[i]
			if mu != 0 {
				if o.step == 0 {
					v[i] = d
				} else {
					v[i] = mu*v[i] + d
				}
				if o.Nesterov {
					d += mu * v[i]
				} else {
					d = v[i]
				}
			}
			w[i] -= lr * d
		}
	}
	o.step++
}

// State returns the step count and copies of the momentum buffers.
func (o *SGD) State() OptimState {
	s := OptimState{Step: o.step, Tensors: map[string][]float32{}}
	for i, p := range o.params {
		s.Tensors[p.Name+".momentum_buffer"] = append([]float32(nil), o.v[i]...)
	}
	return s
}

// SetState restores a state returned by State.
func (o *SGD) SetState(s OptimState) error {
	for i, p := range o.params {
		if err := restore(s, p.Name+".momentum_buffer", o.v[i]); err != nil {
			return err
		}
	}
	o.step = s.Step
	return nil
}

func restore(s OptimState, key string, dst []float32) error {
	t, ok := s.Tensors[key]
	if !ok {
		return fmt.Errorf("optimiser state: no tensor %q", key)
	}
	if len(t) != len(dst) {
		return fmt.Errorf("optimiser state: %q has %d values, want %d", key, len(t), len(dst))
	}
	copy(dst, t)
	return nil
}

// Adam is torch.optim.Adam with L2 weight decay (g += WeightDecay*w) and
// bias correction: m = B1*m + (1-B1)g, v = B2*v + (1-B2)g^2,
// w -= LR/(1-B1^t) * m / (sqrt(v)/sqrt(1-B2^t) + Eps).
type Adam struct {
	LR, B1, B2, Eps, WeightDecay float32
	params                       []Param
	m, v                         [][]float32
	step                         int64
}

// NewAdam allocates the moment buffers; B1, B2, Eps are torch's defaults
// (0.9, 0.999, 1e-8) and may be changed.
func NewAdam(params []Param, lr, weightDecay float32) *Adam {
	checkParams("NewAdam", params)
	o := &Adam{LR: lr, B1: 0.9, B2: 0.999, Eps: 1e-8, WeightDecay: weightDecay, params: params}
	for _, p := range params {
		o.m = append(o.m, make([]float32, len(p.W)))
		o.v = append(o.v, make([]float32, len(p.W)))
	}
	return o
}

// Step updates every parameter from its gradient.
func (o *Adam) Step() {
	o.step++
	t := float64(o.step)
	bc1 := 1 - math.Pow(float64(o.B1), t)
	bc2 := 1 - math.Pow(float64(o.B2), t)
	stepSize := float32(float64(o.LR) / bc1)
	sq := float32(math.Sqrt(bc2))
	b1, b2, wd, eps := o.B1, o.B2, o.WeightDecay, o.Eps
	for pi, p := range o.params {
		w, g := p.W, p.G[:len(p.W)]
		m, v := o.m[pi][:len(w)], o.v[pi][:len(w)]
		for i := range w {
			d := g[i] + wd*w[i]
			m[i] = b1*m[i] + (1-b1)*d
			v[i] = b2*v[i] + (1-b2)*d*d
			w[i] -= stepSize * m[i] / (float32(math.Sqrt(float64(v[i])))/sq + eps)
		}
	}
}

// State returns the step count and copies of the moments.
func (o *Adam) State() OptimState {
	s := OptimState{Step: o.step, Tensors: map[string][]float32{}}
	for i, p := range o.params {
		s.Tensors[p.Name+".exp_avg"] = append([]float32(nil), o.m[i]...)
		s.Tensors[p.Name+".exp_avg_sq"] = append([]float32(nil), o.v[i]...)
	}
	return s
}

// SetState restores a state returned by State.
func (o *Adam) SetState(s OptimState) error {
	for i, p := range o.params {
		if err := restore(s, p.Name+".exp_avg", o.m[i]); err != nil {
			return err
		}
		if err := restore(s, p.Name+".exp_avg_sq", o.v[i]); err != nil {
			return err
		}
	}
	o.step = s.Step
	return nil
}

// StepLR is torch's StepLR (Milestones empty: LR = base * Gamma^(epoch /
// StepSize)) or MultiStepLR (LR = base * Gamma^(milestones <= epoch)).
// Gamma 0.1 divides by 10.
type StepLR struct {
	Gamma      float64
	StepSize   int
	Milestones []int
}

// LR returns the learning rate of epoch (0-based) for a base rate.
func (s StepLR) LR(base float64, epoch int) float64 {
	k := 0
	if len(s.Milestones) > 0 {
		for _, m := range s.Milestones {
			if epoch >= m {
				k++
			}
		}
	} else if s.StepSize > 0 {
		k = epoch / s.StepSize
	}
	return base * math.Pow(s.Gamma, float64(k))
}

// Plateau is torch.optim.lr_scheduler.ReduceLROnPlateau in mode "max" with
// threshold_mode "rel": when the metric (validation accuracy) has not
// improved on the best by more than Threshold (relative) for more than
// Patience epochs, LR is multiplied by Factor (not below MinLR, and only if
// the change exceeds Eps), then Cooldown epochs pass before counting again.
// All fields are exported, so the state is checkpointed by copying (or
// JSON-encoding) the value; Seen == false stands for torch's best = -Inf
// (which JSON cannot encode).
type Plateau struct {
	LR        float64
	Factor    float64
	Patience  int
	Threshold float64
	Cooldown  int
	MinLR     float64
	Eps       float64

	Best            float64 // best metric so far, valid when Seen
	Seen            bool
	NumBad          int
	CooldownCounter int
	Epochs          int
}

// NewPlateau returns torch's defaults: factor 0.1, patience 10, threshold
// 1e-4, cooldown 0, min_lr 0, eps 1e-8, no best yet.
func NewPlateau(lr float64) Plateau {
	return Plateau{LR: lr, Factor: 0.1, Patience: 10, Threshold: 1e-4, Eps: 1e-8}
}

// Step records one epoch's metric and returns the (possibly reduced) LR.
func (p *Plateau) Step(metric float64) float64 {
	p.Epochs++
	if !p.Seen || metric > p.Best*(1+p.Threshold) {
		p.Best, p.Seen = metric, true
		p.NumBad = 0
	} else {
		p.NumBad++
	}
	if p.CooldownCounter > 0 {
		p.CooldownCounter--
		p.NumBad = 0
	}
	if p.NumBad > p.Patience {
		nl := max(p.LR*p.Factor, p.MinLR)
		if p.LR-nl > p.Eps {
			p.LR = nl
		}
		p.CooldownCounter = p.Cooldown
		p.NumBad = 0
	}
	return p.LR
}
