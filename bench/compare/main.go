// Command compare times one case of bench/compare.sh with a generated
// package: inference (Net.Forward) or training (Net.TrainStep) of a zoo
// network at one batch size, and prints
//
//	cnnc NET MODE BATCH IMG/S PEAK_RSS_KB
//
// The peak resident memory is the process's (getrusage), so each case is
// its own process.
//
//	go run ./bench/compare NET infer|train BATCH [SECONDS]
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/cnnc-dev/cnnc/gen/alexnet"
	"github.com/cnnc-dev/cnnc/gen/efficientnet_b0"
	"github.com/cnnc-dev/cnnc/gen/googlenet"
	"github.com/cnnc-dev/cnnc/gen/lenet5"
	"github.com/cnnc-dev/cnnc/gen/mobilenet_v2"
	"github.com/cnnc-dev/cnnc/gen/resnet18"
	"github.com/cnnc-dev/cnnc/gen/resnet50"
	"github.com/cnnc-dev/cnnc/gen/vgg16"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

var nets = map[string]func(batch int) *rt.Net{
	"lenet5":          func(b int) *rt.Net { return lenet5.New(b, 1).Net },
	"alexnet":         func(b int) *rt.Net { return alexnet.New(b, 1).Net },
	"vgg16":           func(b int) *rt.Net { return vgg16.New(b, 1).Net },
	"googlenet":       func(b int) *rt.Net { return googlenet.New(b, 1).Net },
	"resnet18":        func(b int) *rt.Net { return resnet18.New(b, 1).Net },
	"resnet50":        func(b int) *rt.Net { return resnet50.New(b, 1).Net },
	"mobilenet_v2":    func(b int) *rt.Net { return mobilenet_v2.New(b, 1).Net },
	"efficientnet_b0": func(b int) *rt.Net { return efficientnet_b0.New(b, 1).Net },
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 3 {
		return fmt.Errorf("usage: compare NET infer|train BATCH [SECONDS]")
	}
	newNet, ok := nets[args[0]]
	if !ok {
		return fmt.Errorf("no network %q", args[0])
	}
	batch, err := strconv.Atoi(args[2])
	if err != nil || batch < 1 {
		return fmt.Errorf("batch %q", args[2])
	}
	secs := 2.0
	if len(args) > 3 {
		if secs, err = strconv.ParseFloat(args[3], 64); err != nil {
			return err
		}
	}
	m := newNet(batch)
	p := m.Program()
	r := rt.NewRNG(7)
	x := make([]float32, batch*p.InputH*p.InputW*p.InputC)
	for i := range x {
		x[i] = float32(r.Normal())
	}
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(i % p.OutputSize)
	}
	var step func() error
	switch args[1] {
	case "infer":
		step = func() error { _, err := m.Forward(x); return err }
	case "train":
		step = func() error { _, err := m.TrainStep(x, labels); return err }
	default:
		return fmt.Errorf("mode %q: infer or train", args[1])
	}
	if err := step(); err != nil { // warm-up: allocates the training state, touches the memory
		return err
	}
	n, start := 0, time.Now()
	for time.Since(start).Seconds() < secs || n < 2 {
		if err := step(); err != nil {
			return err
		}
		n++
	}
	rate := float64(n*batch) / time.Since(start).Seconds()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("cnnc %s %s %d %.1f %d\n", args[0], args[1], batch, rate, ru.Maxrss)
	return nil
}
