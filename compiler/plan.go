package compiler

import (
	"go/token"
	"strings"

	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/op"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Plan is the static memory plan and the fusion decisions the emitter
// follows. Every size is in floats per image unless it says otherwise;
// buffers are laid out one after another, so a buffer's offset in an arena
// sized for a batch of mb images is its per-image offset times mb.
type Plan struct {
	Model   *Model
	Steps   []*Step          // one per layer, in the model's order
	Tensors []*rt.TensorSpec // every parameter and buffer, in the .cnn's order
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

// Buf is a per-image region of an arena: offset and size.
type Buf struct{ Off, Size int }

// Step is one layer's part of the plan.
type Step struct {
	L        *Layer
	Op       op.Op
	Ident    string  // Go identifier of the layer: conv1, inception4a_conv3
	In       []*Step // producers, in input order
	Users    []*Step // consumers
	Aux      bool    // only in training
	Out      Buf     // training layout (also the layout of gradients)
	Inf      Buf     // inference layout
	Alias    bool    // in place: Out and Inf are the input's
	Skip     bool    // forward done by the producer (relu fused into conv/fc)
	Fused    bool    // conv/fc: applies the next relu in its forward epilogue
	Fold     *Step   // bn: the conv it is folded into at inference
	Folds    *Step   // conv: the bn folded into it at inference
	InfSkip  bool    // no work at inference (folded bn, fused relu, dropout)
	InfFused bool    // conv/fc: relu fused at inference
	InfOwn   bool    // the main output's softmax: its own buffer at inference, so that the logits stay (InferLogits)
	FoldOff  int     // conv with Folds: offset of its folded weights, then bias, in Fold
	Wino     int     // conv whose inference runs Winograd's algorithm: floats of its transformed weights (else 0)
	WinoOff  int     // their offset in Fold
	Tensors  []*rt.TensorSpec
	State    op.State
	Saved    int // offset in the saved arena (per image): dropout mask or lrn scale
	Fixed    int // offset in the fixed saved arena: bn mean then 1/std
	Argmax   int // maxpool: offset in the argmax arena (per image)
	Probs    Buf // an output the loss reads (main or aux head): where it writes the probabilities (training layout)
}

// Size of a shape in floats.
func size(s op.Shape) int { return s.Size() }

// NewPlan makes the memory plan of a checked model.
func NewPlan(m *Model) *Plan {
	p := &Plan{Model: m}
	steps := map[*Layer]*Step{}
	idents := map[string]bool{}
	for _, l := range m.Layers {
		s := &Step{L: l, Op: l.Node.Op, Aux: l.Node.Aux != nil, Ident: identFor(l.Node.Name, idents)}
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
	if main := steps[m.Output()]; main.Op.Kind().Final && main.Alias {
		main.InfOwn = true
	}
	p.trainLayout()
	p.probs()
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
	// the local names of generated functions: m, n, mb, a, d, o, t, prefix
	"m": true, "n": true, "mb": true, "a": true, "d": true, "o": true, "t": true, "prefix": true, "rt": true,
}

// params lays out every parameter and buffer in the .cnn's order, and the
// state each layer keeps for its backward.
func (p *Plan) params() {
	for _, s := range p.Steps {
		l := s.L
		for _, t := range s.Op.Tensors(l.In, l.Out) {
			ts := &rt.TensorSpec{Name: l.Node.Name + "." + t.Name, Shape: t.Shape, Buffer: t.Buffer, Init: t.Init, Value: t.Value}
			if t.Buffer {
				ts.Off = p.NumBuffers
				p.NumBuffers += ts.Size()
			} else {
				ts.Off = p.NumParams
				p.NumParams += ts.Size()
			}
			s.Tensors = append(s.Tensors, ts)
			p.Tensors = append(p.Tensors, ts)
		}
		s.State = s.Op.State(l.In, l.Out)
		s.Saved, s.Argmax, s.Fixed = p.Saved, p.Argmax, p.SavedFixed
		p.Saved += s.State.Saved
		p.Argmax += s.State.Argmax
		p.SavedFixed += s.State.Fixed
	}
}

// fuse decides what runs in place and what is fused.
func (p *Plan) fuse() {
	for _, s := range p.Steps {
		if !s.Op.Kind().InPlace || len(s.In) != 1 {
			continue
		}
		// A view (identity) writes nothing: it always shares its input's
		// buffer. An in-place op overwrites its input: only when it is the
		// only reader of that buffer, and not when the producer's backward
		// needs its own output.
		if s.Op.Kind().View || soleReader(s) {
			s.Alias = true
		}
	}
	for _, s := range p.Steps {
		switch s.Op.(type) {
		case *op.ReLU:
			// relu right after conv or fc: applied in the producer's epilogue.
			if in := s.In[0]; s.Alias && in.Op.Kind().Epilogue {
				in.Fused, s.Skip = true, true
			}
		case *op.Dropout, *op.DropPath:
			// The identity at inference: it passes its input's buffer on
			// when it runs in place. A dropout whose input has other
			// readers copies it, at inference too, so that an in-place op
			// after it cannot overwrite what they read.
			s.InfSkip = s.Alias
		case *op.BN:
			// bn right after a conv that feeds only it: folded at inference.
			in := s.In[0]
			if _, conv := in.Op.(*op.Conv); conv && len(in.Users) == 1 && in.Aux == s.Aux {
				s.Fold, in.Folds, s.InfSkip = in, s, true
				in.FoldOff = p.Fold
				p.Fold += in.Tensors[0].Size() + in.L.Out.C
			}
		}
	}
	// At inference a relu is fused into the conv or fc that produces its
	// input, looking through a folded bn.
	for _, s := range p.Steps {
		if _, relu := s.Op.(*op.ReLU); !relu || !s.Alias {
			continue
		}
		in := s.In[0]
		if in.Fold != nil {
			in = in.Fold
		}
		if in.Op.Kind().Epilogue {
			in.InfFused, s.InfSkip = true, true
		}
	}
	// A conv whose geometry runs Winograd's F(4x4, 3x3) at inference
	// (rt.Conv.Winograd) keeps its transformed weights in Fold too, after
	// its bn-folded weights: refold brings them up to date.
	for _, s := range p.Steps {
		c, ok := s.Op.(*op.Conv)
		if !ok || s.Aux {
			continue
		}
		if g := c.Runtime(s.L.In[0], s.L.Out, s.InfFused); g.Winograd() {
			s.Wino, s.WinoOff = g.WinogradSize(), p.Fold
			p.Fold += s.Wino
		}
	}
}

// soleReader reports whether s is the only reader of its input's buffer:
// the input's only user, and, through the views that share the buffer
// (identity), theirs; and no backward of theirs reads the buffer.
func soleReader(s *Step) bool {
	for in := s.In[0]; ; in = in.In[0] {
		if in.Op.Kind().KeepsOutput || len(in.Users) != 1 {
			return false
		}
		if !in.Op.Kind().View || !in.Alias {
			return true
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

// probs places the probabilities the loss writes for each output it reads
// (the main output and every aux head's): over the output itself (in place
// of its logits, or in a final softmax's buffer) when no backward reads that
// buffer, else in a buffer of their own. A relu or lrn producing the logits
// (fc -> relu, fc -> relu -> softmax) reads its output in its backward, which
// must not find probabilities there.
func (p *Plan) probs() {
	if !p.Classifier {
		return
	}
	outs := map[*dsl.Node]bool{p.Model.Net.Output: true}
	for _, a := range p.Model.Net.Aux {
		outs[a.Output] = true
	}
	for _, s := range p.Steps {
		if !outs[s.L.Node] {
			continue
		}
		s.Probs = s.Out
		for b := s; ; b = b.In[0] {
			k := b.Op.Kind()
			// A buffer an identity shares with other readers (an aux
			// head's input, a branch's) keeps its values too.
			if (k.KeepsOutput || k.ReadsOutput) && !(b == s && k.Final) || b != s && len(b.Users) > 1 {
				s.Probs = Buf{Off: p.Train, Size: size(s.L.Out)}
				p.Train += s.Probs.Size
				break
			}
			if !b.Alias {
				break
			}
		}
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
		for (s.Alias || s.InfSkip) && !s.InfOwn && len(s.In) == 1 {
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
	main := order[len(order)-1]
	lastUse[owner(main)] = len(order) // the output stays
	if main.Op.Kind().Final {
		lastUse[owner(main.In[0])] = len(order) // and its logits
	}
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
