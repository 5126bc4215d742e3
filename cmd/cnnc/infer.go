package main

// cnnc infer: the flags and the input are checked here, before any build;
// the binary is the training binary of cnnc train (train/build), whose
// train.Main runs "infer" (train.Infer).

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/internal/cli"
	"github.com/cnnc-dev/cnnc/runtime/npy"
	"github.com/cnnc-dev/cnnc/train"
	"github.com/cnnc-dev/cnnc/train/build"
)

const inferUsage = `cnnc infer FILE.cnn --weights W.safetensors --input X.npy [-o Y.npy] [--probs] [--top K] [--batch N]

Runs the network in inference mode on X.npy, a float32 (or float64) array
of shape (N, C, H, W), and writes its logits (the input of the final
softmax), float32 (N, classes), to Y.npy; --probs writes probabilities
instead (a softmax per image, also for a network that does not end in one).
--top K prints the K most probable classes of each image. The weights are a
weights file (a generated Net's Save) or a checkpoint of cnnc train.`

func cmdInfer(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("infer", stderr, inferUsage)
	get := train.InferFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\nflags:\n", inferUsage)
		fs.PrintDefaults()
	}
	if !parseFlags(fs, cli.Reorder(fs, args), func() bool { return fs.NArg() != 1 }) {
		return exitUsage
	}
	cfg := get()
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "cnnc infer: "+format+"\n", a...)
		return exitUsage
	}
	switch {
	case cfg.Weights == "":
		return usageErr("--weights is required: an untrained network's outputs mean nothing")
	case cfg.Input == "":
		return usageErr("--input X.npy is required")
	case cfg.Output == "" && cfg.Top == 0:
		return usageErr("nothing to do: give -o OUT.npy, --top K or both")
	case cfg.Top < 0:
		return usageErr("--top %d: want at least 0", cfg.Top)
	case cfg.Batch < 0:
		return usageErr("--batch %d: want at least 1 (or 0: the recipe's)", cfg.Batch)
	}
	path := fs.Arg(0)
	src, err := readSource(path)
	if err != nil {
		fmt.Fprintf(stderr, "cnnc: %v\n", err)
		return exitInput
	}
	m, errs := compiler.CompileSource(path, src)
	if len(errs) > 0 {
		fmt.Fprint(stderr, errs.Render(src))
		return exitInput
	}
	// The input's header and size, the weights file and the output's
	// directory are checked before the build, which can take a while.
	if err := checkInferFiles(m, cfg); err != nil {
		fmt.Fprintf(stderr, "cnnc infer: %v\n", err)
		return exitInput
	}
	pass := []string{"infer"}
	fs.Visit(func(f *flag.Flag) { pass = append(pass, "--"+f.Name+"="+f.Value.String()) })
	return runModel("infer", m, path, src, build.Overrides{}, pass, stdout, stderr)
}

// checkInferFiles checks what cnnc infer reads and writes against m.
func checkInferFiles(m *compiler.Model, cfg train.InferConfig) error {
	in := m.Net.Input
	info, err := npy.Stat(cfg.Input)
	if err != nil {
		return err
	}
	if s := info.Shape; len(s) != 4 || s[1] != in.C || s[2] != in.H || s[3] != in.W {
		return fmt.Errorf("%s: shape %s, but %s takes (N, %d, %d, %d): N images of %s (HxWxC), float32 in NCHW order",
			cfg.Input, shapeTuple(s), m.Net.Name, in.C, in.H, in.W, in)
	}
	if out := m.ByNode[m.Net.Output].Out; (cfg.Probs || cfg.Top > 0) && (out.H != 1 || out.W != 1) {
		return fmt.Errorf("--probs and --top need a classifier; %s's output is %s, not 1x1xClasses", m.Net.Name, out)
	}
	if st, err := os.Stat(cfg.Weights); err != nil {
		return err
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("--weights %s: not a regular file", cfg.Weights)
	}
	if cfg.Output != "" {
		dir := filepath.Dir(cfg.Output)
		if st, err := os.Stat(dir); err != nil {
			return fmt.Errorf("-o %s: %w", cfg.Output, err)
		} else if !st.IsDir() {
			return fmt.Errorf("-o %s: %s is not a directory", cfg.Output, dir)
		}
	}
	return nil
}

func shapeTuple(s []int) string {
	t := "("
	for i, d := range s {
		if i > 0 {
			t += ", "
		}
		t += fmt.Sprint(d)
	}
	if len(s) == 1 {
		t += ","
	}
	return t + ")"
}
