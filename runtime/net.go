package runtime

import (
	"errors"
	"fmt"
	"math"

	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

// Net is a network with its parameters and every buffer, sized at
// construction for a maximum batch: a Program with its memory. A generated
// package's Net embeds it, so its methods are the package's API. Its
// methods do not allocate after the first call of each. A Net is not safe
// for concurrent use.
type Net struct {
	p       *Program
	m       Memory
	tensors []Tensor
	grads   []Tensor
	st      []safetensors.Tensor
	opt     optimizer
	state   TrainState
	stale   bool // the folded weights are older than the parameters
}

// Tensor is one parameter or buffer of a network: its name (conv1.weight,
// bn1.running_var), its shape in PyTorch's layout (conv OIHW, fc [out, in])
// and its data, which aliases the network's memory.
type Tensor struct {
	Name   string
	Shape  []int
	Data   []float32
	Buffer bool // a running statistic, not trained
}

// TrainState is the schedule's state: what a checkpoint needs besides the
// tensors and the optimizer's state.
type TrainState struct {
	Epoch   int
	LR      float64
	BaseLR  float64 // the rate step schedules divide
	Plateau Plateau
}

// optimizer is SGD or Adam.
type optimizer interface {
	Step()
	State() OptimState
	SetState(OptimState) error
	setLR(float32)
}

func (o *SGD) setLR(lr float32)  { o.LR = lr }
func (o *Adam) setLR(lr float32) { o.LR = lr }

// ErrNonFinite is returned by TrainStep when the loss or a gradient is NaN
// or infinite; the parameters are then left as they were.
var ErrNonFinite = errors.New("loss is not finite")

// NewNet returns the network of p for batches of up to maxBatch images,
// initialised from seed as the program's recipe says. It panics if
// maxBatch < 1 or if p is malformed.
func NewNet(p *Program, maxBatch int, seed uint64) *Net {
	if maxBatch < 1 {
		panic(fmt.Sprintf("%s.New: maxBatch = %d, want at least 1", p.Package, maxBatch))
	}
	p.check()
	mb := maxBatch
	n := &Net{p: p, stale: true}
	n.m = Memory{
		MaxBatch: mb,
		Params:   make([]float32, p.Params),
		Buffers:  make([]float32, p.Buffers),
		Act:      make([]float32, p.Infer*mb),
		Fold:     make([]float32, p.Fold),
		Scratch:  make([]float32, max(1, p.Scratch(mb))),
		Argmax:   make([]int32, p.Argmax*mb),
		Saved:    make([]float32, p.Saved*mb),
		Fixed:    make([]float32, p.SavedFixed),
	}
	rc := p.Recipe
	n.state = TrainState{LR: rc.LR, BaseLR: rc.LR, Plateau: Plateau{}}
	if rc.Schedule.Kind == "plateau" {
		n.state.Plateau = NewPlateau(rc.LR)
		n.state.Plateau.Factor = 1 / rc.Schedule.Divide
		n.state.Plateau.Patience = rc.Schedule.Patience
	}
	for _, t := range p.Tensors {
		data := n.tensorData(t, false)
		n.tensors = append(n.tensors, Tensor{Name: t.Name, Shape: t.Shape, Data: data, Buffer: t.Buffer})
		n.st = append(n.st, safetensors.Tensor{Name: t.Name, Shape: t.Shape, Data: data})
	}
	n.initParams(seed)
	return n
}

// tensorData is the slice of t in its arena (or in Grads).
func (n *Net) tensorData(t TensorSpec, grad bool) []float32 {
	size := t.Size()
	arena := n.m.Params
	switch {
	case t.Buffer:
		arena = n.m.Buffers
	case grad:
		arena = n.m.Grads
	}
	return arena[t.Off : t.Off+size : t.Off+size]
}

// initParams fills the tensors as InitTensors does.
func (n *Net) initParams(seed uint64) {
	data := make([][]float32, len(n.tensors))
	for i := range n.tensors {
		data[i] = n.tensors[i].Data
	}
	InitTensors(n.p.Tensors, data, n.p.Recipe.Init, seed)
	n.stale = true
}

// Program is the network's description; it must not be changed.
func (n *Net) Program() *Program { return n.p }

// MaxBatch is the largest batch the network takes.
func (n *Net) MaxBatch() int { return n.m.MaxBatch }

// batch checks the size of x and returns its number of images.
func (n *Net) batch(x []float32) (int, error) {
	p := n.p
	size := p.InputH * p.InputW * p.InputC
	if len(x) == 0 || len(x)%size != 0 {
		return 0, fmt.Errorf("%s: input has %d floats, not a positive multiple of %d (%dx%dx%d per image)", p.Package, len(x), size, p.InputH, p.InputW, p.InputC)
	}
	k := len(x) / size
	if k > n.m.MaxBatch {
		return 0, fmt.Errorf("%s: batch of %d images, more than the %d the network was made for", p.Package, k, n.m.MaxBatch)
	}
	return k, nil
}

// Forward runs inference on the images of x, (N, C, H, W) with N <=
// MaxBatch, and returns the outputs, (N, OutputSize): probabilities when the
// network ends in softmax. The result is the network's memory: it is valid
// until the next call.
func (n *Net) Forward(x []float32) ([]float32, error) {
	k, err := n.batch(x)
	if err != nil {
		return nil, err
	}
	if n.stale {
		n.p.Refold(&n.m)
		n.stale = false
	}
	mb, in, out := n.m.MaxBatch, n.p.InferIn, n.p.InferOut
	copy(n.m.Act[in*mb:in*mb+len(x)], x)
	n.p.ForwardInfer(&n.m, k)
	return n.m.Act[out*mb : out*mb+k*n.p.OutputSize], nil
}

// Logits runs inference as Forward does and returns the main output's
// logits, the input of its final softmax, (N, OutputSize); for a network
// without one, the output. The result is valid until the next call.
func (n *Net) Logits(x []float32) ([]float32, error) {
	k := len(x) / max(1, n.p.InputH*n.p.InputW*n.p.InputC)
	if _, err := n.Forward(x); err != nil {
		return nil, err
	}
	at := n.p.InferLogits * n.m.MaxBatch
	return n.m.Act[at : at+k*n.p.OutputSize], nil
}

// ensureTrain allocates the training state on first use.
func (n *Net) ensureTrain() {
	if n.m.TAct != nil {
		return
	}
	p, rc := n.p, n.p.Recipe
	n.m.TAct = make([]float32, max(p.Train, p.InputH*p.InputW*p.InputC)*n.m.MaxBatch)
	n.m.DAct = make([]float32, len(n.m.TAct))
	n.m.Grads = make([]float32, p.Params)
	var ps []Param
	for _, t := range p.Tensors {
		if t.Buffer {
			continue
		}
		g := n.tensorData(t, true)
		ps = append(ps, Param{Name: t.Name, W: n.tensorData(t, false), G: g})
		n.grads = append(n.grads, Tensor{Name: t.Name, Shape: t.Shape, Data: g})
	}
	if rc.Optimizer == "adam" {
		a := NewAdam(ps, float32(rc.LR), float32(rc.Decay))
		a.B1, a.B2, a.Eps = float32(rc.Beta1), float32(rc.Beta2), float32(rc.Eps)
		n.opt = a
	} else {
		n.opt = NewSGD(ps, float32(rc.LR), float32(rc.Momentum), float32(rc.Decay), rc.Nesterov)
	}
	n.m.RNG = NewRNG(SeedFor(rc.Seed, "dropout"))
}

// TrainForward runs the network in training mode (batch statistics,
// dropout, auxiliary heads) on the images of x and returns the main
// output's logits (before its softmax), (N, OutputSize). Backward then
// propagates a gradient of those logits.
func (n *Net) TrainForward(x []float32) ([]float32, error) {
	k, err := n.batch(x)
	if err != nil {
		return nil, err
	}
	n.ensureTrain()
	copy(n.m.TAct, x)
	n.p.ForwardTrain(&n.m, k)
	lg := n.p.TrainLogits * n.m.MaxBatch
	return n.m.TAct[lg : lg+k*n.p.OutputSize], nil
}

// Backward propagates dlogits, the gradient of a loss with respect to the
// logits of the last TrainForward (N, OutputSize), through the network, and
// leaves the gradient of every parameter in Gradients (overwriting what was
// there). Auxiliary heads get no gradient.
func (n *Net) Backward(dlogits []float32) error {
	if n.m.TAct == nil {
		return fmt.Errorf("%s: Backward before TrainForward", n.p.Package)
	}
	size := n.p.OutputSize
	k := len(dlogits) / size
	if k < 1 || k > n.m.MaxBatch || len(dlogits)%size != 0 {
		return fmt.Errorf("%s: dlogits has %d floats, want N*%d", n.p.Package, len(dlogits), size)
	}
	clear(n.m.DAct)
	clear(n.m.Grads)
	lg := n.p.TrainLogits * n.m.MaxBatch
	copy(n.m.DAct[lg:lg+k*size], dlogits)
	n.p.Backward(&n.m, k)
	return nil
}

// Gradients lists the gradient of every trainable parameter after Backward
// or TrainStep, in the order of Tensors (buffers excluded); nil before
// training.
func (n *Net) Gradients() []Tensor { return n.grads }

// LossGradients runs the network in training mode on x, returns the loss
// on labels (auxiliary heads included with their weights) and leaves the
// gradient of that loss with respect to every parameter in Gradients.
// Nothing is updated; TrainStep is LossGradients and the optimizer's step.
func (n *Net) LossGradients(x []float32, labels []int32) (float32, error) {
	p := n.p
	if !p.Classifier {
		return 0, fmt.Errorf("%s: the loss needs a classifier (an output of 1x1xClasses); use TrainForward and Backward", p.Package)
	}
	k, err := n.batch(x)
	if err != nil {
		return 0, err
	}
	if len(labels) != k {
		return 0, fmt.Errorf("%s: %d labels for %d images", p.Package, len(labels), k)
	}
	for i, l := range labels {
		if l < 0 || int(l) >= p.OutputSize {
			return 0, fmt.Errorf("%s: label %d of image %d is outside [0, %d)", p.Package, l, i, p.OutputSize)
		}
	}
	n.ensureTrain()
	copy(n.m.TAct, x)
	p.ForwardTrain(&n.m, k)
	loss := p.Loss(&n.m, k, labels)
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		return loss, ErrNonFinite
	}
	clear(n.m.DAct)
	clear(n.m.Grads)
	p.LossBackward(&n.m, k, labels)
	p.Backward(&n.m, k)
	if !AllFinite(n.m.Grads) {
		return loss, ErrNonFinite
	}
	return loss, nil
}

// TrainStep trains on one batch: forward in training mode, the loss
// (auxiliary heads included with their weights), backward, and the
// optimizer's update at the current learning rate. It returns the loss
// before the update, or ErrNonFinite with the parameters as they were.
func (n *Net) TrainStep(x []float32, labels []int32) (float32, error) {
	loss, err := n.LossGradients(x, labels)
	if err != nil {
		return loss, err
	}
	n.opt.setLR(float32(n.state.LR))
	n.opt.Step()
	n.stale = true
	return loss, nil
}

// Predict writes the most probable class of each image of x into dst,
// which it grows if needed, and returns it.
func (n *Net) Predict(x []float32, dst []int32) ([]int32, error) {
	out, err := n.Forward(x)
	if err != nil {
		return dst, err
	}
	dst = dst[:0]
	c := n.p.OutputSize
	for i := 0; i < len(out); i += c {
		var top [1]int
		dst = append(dst, int32(TopK(out[i:i+c], top[:])[0]))
	}
	return dst, nil
}

// TopK writes the indices of the len(dst) largest values of row into dst,
// largest first, and returns dst.
func TopK(row []float32, dst []int) []int {
	k := min(len(dst), len(row))
	for j := 0; j < k; j++ {
		best := -1
		for i, v := range row {
			taken := false
			for _, t := range dst[:j] {
				taken = taken || t == i
			}
			if !taken && (best < 0 || v > row[best]) {
				best = i
			}
		}
		dst[j] = best
	}
	return dst[:k]
}

// Tensors lists every parameter and buffer in the .cnn's order, in
// PyTorch's layouts and with PyTorch's names for bn (weight, bias,
// running_mean, running_var). The data alias the network.
func (n *Net) Tensors() []Tensor { return n.tensors }

// Save writes every tensor to a safetensors file, atomically.
func (n *Net) Save(path string) error {
	return safetensors.Save(path, n.st, map[string]string{"network": n.p.Name})
}

// Load reads every tensor from a safetensors file. Every name, shape and
// dtype is checked first; on a mismatch the error names each offending
// tensor and the network is unchanged.
func (n *Net) Load(path string) error {
	if err := safetensors.LoadInto(path, n.st); err != nil {
		return err
	}
	n.stale = true
	return nil
}

// ParamsChanged tells the network that its tensors were written through
// Tensors, so that inference refolds bn into the convs.
func (n *Net) ParamsChanged() { n.stale = true }
