// Command paritytrain is the Go side of `sh scripts/parity.sh --train`: one
// training step of a generated network on the weights and the batch that
// scripts/parity.py wrote, with everything PyTorch needs to check it.
//
//	paritytrain NET DIR
//
// reads DIR/cnnc.safetensors (the PyTorch twin's weights, mapped by cnnc
// weights), DIR/x.npy (N, C, H, W) and DIR/labels.npy (N integers, as
// float32), runs Net.TrainStep once (the loss, the backward, the recipe's
// optimizer step at its initial learning rate) and writes:
//
//	DIR/go_after.safetensors  every tensor after the step (Net.Save)
//	DIR/go_grads.safetensors  every parameter's gradient of that step under the
//	                          parameter's name (Net.Gradients); a bn running
//	                          statistic, which has no gradient, is written with
//	                          its value after the step so that the file has the
//	                          network's tensors and cnnc weights --names maps it
//	DIR/go_dropout.u64        the dropout stream the step consumed: every
//	                          RNG.Uint64 drawn, little-endian; runtime.Dropout
//	                          zeroes element i when (u_i>>11)/2^53 < P and
//	                          scales it by 1/(1-P) otherwise, layer after layer
//	                          in the training forward's order
//	DIR/go_step.json          the loss, the number of draws and the recipe
//
// The draws are counted, not assumed: the dropout RNG's state after the step
// is found by replaying the stream from its state before it.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cnnc-dev/cnnc/gen/alexnet"
	"github.com/cnnc-dev/cnnc/gen/efficientnet_b0"
	"github.com/cnnc-dev/cnnc/gen/googlenet"
	"github.com/cnnc-dev/cnnc/gen/lenet5"
	"github.com/cnnc-dev/cnnc/gen/mobilenet_v2"
	"github.com/cnnc-dev/cnnc/gen/mobilenet_v3_large"
	"github.com/cnnc-dev/cnnc/gen/resnet18"
	"github.com/cnnc-dev/cnnc/gen/resnet50"
	"github.com/cnnc-dev/cnnc/gen/shufflenet_v2_x1_0"
	"github.com/cnnc-dev/cnnc/gen/zfnet"
	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/npy"
	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

// nets are the networks this command knows (the seed does not matter: the
// weights are loaded).
var nets = map[string]func(batch int) *rt.Net{
	"lenet5":             func(b int) *rt.Net { return lenet5.New(b, 1).Net },
	"alexnet":            func(b int) *rt.Net { return alexnet.New(b, 1).Net },
	"zfnet":              func(b int) *rt.Net { return zfnet.New(b, 1).Net },
	"googlenet":          func(b int) *rt.Net { return googlenet.New(b, 1).Net },
	"resnet18":           func(b int) *rt.Net { return resnet18.New(b, 1).Net },
	"resnet50":           func(b int) *rt.Net { return resnet50.New(b, 1).Net },
	"mobilenet_v2":       func(b int) *rt.Net { return mobilenet_v2.New(b, 1).Net },
	"mobilenet_v3_large": func(b int) *rt.Net { return mobilenet_v3_large.New(b, 1).Net },
	"shufflenet_v2_x1_0": func(b int) *rt.Net { return shufflenet_v2_x1_0.New(b, 1).Net },
	"efficientnet_b0":    func(b int) *rt.Net { return efficientnet_b0.New(b, 1).Net },
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: paritytrain NET DIR   (NET: "+names()+")")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "paritytrain:", err)
		os.Exit(1)
	}
}

func names() string {
	var s []string
	for k := range nets {
		s = append(s, k)
	}
	slices.Sort(s)
	return strings.Join(s, ", ")
}

// step is go_step.json.
type step struct {
	Net       string  `json:"net"`
	Loss      float32 `json:"loss"`
	Draws     int     `json:"dropout_draws"`
	Optimizer string  `json:"optimizer"`
	LR        float64 `json:"lr"`
	Momentum  float64 `json:"momentum"`
	Decay     float64 `json:"decay"`
	Nesterov  bool    `json:"nesterov"`
}

func run(name, dir string) error {
	newNet, ok := nets[name]
	if !ok {
		return fmt.Errorf("no network %q (known: %s)", name, names())
	}
	x, err := npy.ReadFile(filepath.Join(dir, "x.npy"))
	if err != nil {
		return err
	}
	lf, err := npy.ReadFile(filepath.Join(dir, "labels.npy"))
	if err != nil {
		return err
	}
	if len(x.Shape) != 4 || x.Shape[0] < 1 || len(lf.Shape) != 1 || lf.Shape[0] != x.Shape[0] {
		return fmt.Errorf("x.npy has shape %v and labels.npy %v: want (N, C, H, W) and (N,)", x.Shape, lf.Shape)
	}
	batch := x.Shape[0]
	n := newNet(batch)
	p := n.Program()
	if x.Shape[1] != p.InputC || x.Shape[2] != p.InputH || x.Shape[3] != p.InputW {
		return fmt.Errorf("x.npy has shape %v, but %s takes (N, %d, %d, %d)", x.Shape, name, p.InputC, p.InputH, p.InputW)
	}
	labels := make([]int32, batch)
	for i, v := range lf.Data {
		if v != float32(math.Trunc(float64(v))) || v < 0 || int(v) >= p.OutputSize {
			return fmt.Errorf("labels.npy: label %d is %v, not an integer in [0, %d)", i, v, p.OutputSize)
		}
		labels[i] = int32(v)
	}
	if err := n.Load(filepath.Join(dir, "cnnc.safetensors")); err != nil {
		return err
	}
	before, err := n.DropoutRNGState()
	if err != nil {
		return err
	}
	loss, err := n.TrainStep(x.Data, labels)
	if err != nil {
		return fmt.Errorf("TrainStep: %v", err)
	}
	after, err := n.DropoutRNGState()
	if err != nil {
		return err
	}
	// Every draw of a training step is a dropout mask's element, and the
	// masks are at most p.Saved floats per image.
	stream, err := replay(before, after, p.Saved*batch)
	if err != nil {
		return err
	}
	var b []byte
	for _, u := range stream {
		b = binary.LittleEndian.AppendUint64(b, u)
	}
	if err := os.WriteFile(filepath.Join(dir, "go_dropout.u64"), b, 0o644); err != nil {
		return err
	}
	if err := n.Save(filepath.Join(dir, "go_after.safetensors")); err != nil {
		return err
	}
	grads := map[string][]float32{}
	for _, g := range n.Gradients() {
		grads[g.Name] = g.Data
	}
	var gs []safetensors.Tensor
	for _, t := range n.Tensors() {
		d, ok := grads[t.Name]
		if !ok && !t.Buffer {
			return fmt.Errorf("parameter %s has no gradient", t.Name)
		}
		if t.Buffer {
			d = t.Data
		}
		gs = append(gs, safetensors.Tensor{Name: t.Name, Shape: t.Shape, Data: d})
	}
	if err := safetensors.Save(filepath.Join(dir, "go_grads.safetensors"), gs, map[string]string{"network": p.Name}); err != nil {
		return err
	}
	rc := p.Recipe
	js, err := json.MarshalIndent(step{name, loss, len(stream), rc.Optimizer, rc.LR, rc.Momentum, rc.Decay, rc.Nesterov}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "go_step.json"), append(js, '\n'), 0o644)
}

// replay returns the values an RNG in state before drew to reach state
// after, at most limit of them.
func replay(before, after []byte, limit int) ([]uint64, error) {
	var r rt.RNG
	if err := r.UnmarshalBinary(before); err != nil {
		return nil, err
	}
	var out []uint64
	for {
		s, err := r.MarshalBinary()
		if err != nil {
			return nil, err
		}
		if string(s) == string(after) {
			return out, nil
		}
		if len(out) == limit {
			return nil, fmt.Errorf("the dropout RNG's state after the step is not within %d draws of its state before", limit)
		}
		out = append(out, r.Uint64())
	}
}
