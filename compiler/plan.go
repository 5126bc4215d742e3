package compiler

import (
	"go/token"
	"strings"

	"github.com/cnnc-dev/cnnc/dsl"
)

// Plan is the static memory plan and the fusion decisions the emitter
// follows. Every size is in floats per image unless it says otherwise;
// buffers are laid out one after another, so a buffer's offset in an arena
// sized for a batch of mb images is its per-image offset times mb.
type Plan struct {
	Model  *Model
	Steps  []*Step // one per layer, in the model's order
	Params []*Tensor
	// NumParams and NumBuffers are the arena sizes of the trainable
	// parameters and of the buffers (BN running statistics).
	NumParams, NumBuffers int
	// Train and Infer are the per-image sizes of the activation arena in
	// the training layout (every output kept for backward) and in the
	// inference layout (buffers reused once dead).
	Train, Infer int
	Saved        int // per-image floats saved for backward: dropout masks, lrn scales
	SavedFixed   int // floats saved independently of the batch: bn mean and 1/std
	Argmax       int // per-image int32 argmax indices of the max pools
	Fold         int // floats of the BN-folded conv weights and biases (inference)
	Classifier   bool
	Classes      int
}

// Tensor is one parameter or buffer in the .cnn's order, in PyTorch's
// layout.
type Tensor struct {
	Name   string // conv1.weight, bn1.running_mean
	Shape  []int
	Off    int // in the params or buffers arena
	Size   int
	Buffer bool // a running statistic, not trained
}

// Buf is a per-image region of an arena: offset and size.
type Buf struct{ Off, Size int }

// Step is one layer's part of the plan.
type Step struct {
	L         *Layer
	Ident     string  // Go identifier of the layer: conv1, inception4a_conv3
	In        []*Step // producers, in input order
	Users     []*Step // consumers
	Aux       bool    // only in training
	Out       Buf     // training layout (also the layout of gradients)
	Inf       Buf     // inference layout
	Alias     bool    // in place: Out and Inf are the input's
	Skip      bool    // forward done by the producer (relu fused into conv/fc)
	Fused     bool    // conv/fc: applies the next relu in its forward epilogue
	Fold      *Step   // bn: the conv it is folded into at inference
	Folds     *Step   // conv: the bn folded into it at inference
	InfSkip   bool    // no work at inference (folded bn, fused relu, dropout)
	InfFused  bool    // conv/fc: relu fused at inference
	FoldOff   int     // conv with Folds: offset of its folded weights, then bias, in Fold
	W, B      *Tensor // conv, fc: weight and bias (nil without bias); bn: gamma, beta
	Mean, Var *Tensor // bn running statistics
	Saved     int     // offset in the saved arena (per image), dropout mask or lrn scale
	SavedFix  int     // bn: offset of mean then 1/std in the fixed saved arena
	Argmax    int     // maxpool: offset in the argmax arena (per image)
}

// Size of a shape in floats.
func size(s dsl.Shape) int { return s.H * s.W * s.C }

// NewPlan makes the memory plan of a checked model.
func NewPlan(m *Model) *Plan {
	p := &Plan{Model: m}
	steps := map[*Layer]*Step{}
	idents := map[string]bool{}
	for _, l := range m.Layers {
		s := &Step{L: l, Aux: l.Node.Aux != nil, Ident: identFor(l.Node.Name, idents)}
		for _, in := range l.Inputs {
			ps := steps[in]
			s.In = append(s.In, ps)
			ps.Users = append(ps.Users, s)
		}
		steps[l] = s
		p.Steps = append(p.Steps, s)
	}
	out := m.Output().Out
	p.Classes = size(out)
	p.Classifier = out.H == 1 && out.W == 1
	p.params()
	p.fuse()
	p.trainLayout()
	p.inferLayout()
	return p
}

// identFor turns a layer name into a unique Go identifier.
func identFor(name string, used map[string]bool) string {
	id := strings.Map(func(r rune) rune {
		if r == '.' || r == '-' {
			return '_'
		}
		return r
	}, name)
	if token.Lookup(id).IsKeyword() || predeclared[id] {
		id += "_"
	}
	for used[id] {
		id += "_"
	}
	used[id] = true
	return id
}

var predeclared = map[string]bool{
	"any": true, "append": true, "bool": true, "byte": true, "cap": true, "clear": true, "close": true,
	"complex": true, "copy": true, "delete": true, "error": true, "false": true, "float32": true,
	"float64": true, "imag": true, "int": true, "int32": true, "iota": true, "len": true, "make": true,
	"max": true, "min": true, "new": true, "nil": true, "panic": true, "print": true, "println": true,
	"real": true, "recover": true, "rune": true, "string": true, "true": true, "uint": true,
	"m": true, "n": true, "x": true, "y": true, "rt": true, "mb": true, "safetensors": true,
}

func (p *Plan) addTensor(name string, buffer bool, shape ...int) *Tensor {
	t := &Tensor{Name: name, Shape: shape, Size: 1, Buffer: buffer}
	for _, d := range shape {
		t.Size *= d
	}
	if buffer {
		t.Off = p.NumBuffers
		p.NumBuffers += t.Size
	} else {
		t.Off = p.NumParams
		p.NumParams += t.Size
	}
	p.Params = append(p.Params, t)
	return t
}

// params lays out every parameter and buffer in the .cnn's order.
func (p *Plan) params() {
	for _, s := range p.Steps {
		n, l := s.L.Node, s.L
		switch n.Op {
		case dsl.OpConv:
			c := n.Conv
			s.W = p.addTensor(n.Name+".weight", false, c.Filters, l.In[0].C/c.Groups, c.KH, c.KW)
			if c.Bias {
				s.B = p.addTensor(n.Name+".bias", false, c.Filters)
			}
		case dsl.OpFC:
			s.W = p.addTensor(n.Name+".weight", false, n.Units, size(l.In[0]))
			s.B = p.addTensor(n.Name+".bias", false, n.Units)
		case dsl.OpBN:
			c := l.Out.C
			s.W = p.addTensor(n.Name+".weight", false, c)
			s.B = p.addTensor(n.Name+".bias", false, c)
			s.Mean = p.addTensor(n.Name+".running_mean", true, c)
			s.Var = p.addTensor(n.Name+".running_var", true, c)
		}
	}
}

// fuse decides what runs in place and what is fused.
func (p *Plan) fuse() {
	for _, s := range p.Steps {
		op := s.L.Node.Op
		if !op.InPlace() || len(s.In) != 1 {
			continue
		}
		in := s.In[0]
		// An in-place op overwrites its input: only when it is the input's
		// only reader, and not when the producer's backward needs its own
		// output (lrn, relu, softmax).
		switch in.L.Node.Op {
		case dsl.OpLRN, dsl.OpSoftmax:
			continue
		}
		if len(in.Users) == 1 {
			s.Alias = true
		}
	}
	for _, s := range p.Steps {
		op := s.L.Node.Op
		// relu right after conv or fc: applied in the producer's epilogue.
		if op == dsl.OpReLU && s.Alias {
			if in := s.In[0]; in.L.Node.Op == dsl.OpConv || in.L.Node.Op == dsl.OpFC {
				in.Fused, s.Skip = true, true
			}
		}
		if op == dsl.OpDropout {
			s.InfSkip = true
		}
		// bn right after a conv that feeds only it: folded at inference.
		if op == dsl.OpBN {
			if in := s.In[0]; in.L.Node.Op == dsl.OpConv && len(in.Users) == 1 && in.Aux == s.Aux {
				s.Fold, in.Folds, s.InfSkip = in, s, true
				in.FoldOff = p.Fold
				p.Fold += in.W.Size + in.L.Out.C
			}
		}
	}
	// At inference a relu is fused into the conv or fc that produces its
	// input, looking through a folded bn.
	for _, s := range p.Steps {
		if s.L.Node.Op != dsl.OpReLU || !s.Alias {
			continue
		}
		in := s.In[0]
		if in.Fold != nil {
			in = in.Fold
		}
		if op := in.L.Node.Op; op == dsl.OpConv || op == dsl.OpFC {
			in.InfFused, s.InfSkip = true, true
		}
	}
	for _, s := range p.Steps {
		switch s.L.Node.Op {
		case dsl.OpDropout, dsl.OpLRN: // the mask, the scale
			s.Saved = p.Saved
			p.Saved += size(s.L.Out)
		case dsl.OpMaxPool:
			s.Argmax = p.Argmax
			p.Argmax += size(s.L.Out)
		case dsl.OpBN:
			s.SavedFix = p.SavedFixed
			p.SavedFixed += 2 * s.L.Out.C
		}
	}
}

// trainLayout gives every output that is not in place its own buffer.
func (p *Plan) trainLayout() {
	for _, s := range p.Steps {
		if s.Alias {
			s.Out = s.In[0].Out
			continue
		}
		s.Out = Buf{Off: p.Train, Size: size(s.L.Out)}
		p.Train += s.Out.Size
	}
}

// inferLayout reuses buffers once their last reader has run: a greedy
// best-fit allocation over slots in execution order. Auxiliary heads do not
// run at inference; in-place, fused, folded and dropout steps write into
// the buffer of their input.
func (p *Plan) inferLayout() {
	var order []*Step
	for _, s := range p.Steps {
		if !s.Aux {
			order = append(order, s)
		}
	}
	owner := func(s *Step) *Step {
		for (s.Alias || s.InfSkip) && len(s.In) == 1 {
			s = s.In[0]
		}
		return s
	}
	lastUse := map[*Step]int{}
	for i, s := range order {
		for _, in := range s.In {
			lastUse[owner(in)] = i
		}
	}
	lastUse[owner(order[len(order)-1])] = len(order) // the output stays
	type slot struct {
		size int
		free bool
	}
	var slots []*slot
	where := map[*Step]int{}
	for i, s := range order {
		if owner(s) == s {
			need := size(s.L.Out)
			best := -1
			for j, sl := range slots {
				switch {
				case !sl.free:
				case best < 0:
					best = j
				case sl.size >= need && (slots[best].size < need || sl.size < slots[best].size):
					best = j // the smallest slot that fits
				case slots[best].size < need && sl.size > slots[best].size:
					best = j // else the largest, which grows
				}
			}
			if best < 0 {
				slots = append(slots, &slot{})
				best = len(slots) - 1
			}
			slots[best].size = max(slots[best].size, need)
			slots[best].free = false
			where[s] = best
		}
		for _, in := range s.In {
			if o := owner(in); lastUse[o] == i {
				slots[where[o]].free = true
			}
		}
	}
	offs := make([]int, len(slots))
	for j, sl := range slots {
		offs[j] = p.Infer
		p.Infer += sl.size
	}
	for _, s := range order {
		s.Inf = Buf{Off: offs[where[owner(s)]], Size: size(s.L.Out)}
	}
}
