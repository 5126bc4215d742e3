package main

// cnnc weights: a PyTorch state dict, saved as safetensors under any names,
// rewritten under the network's names (compiler/weights does the mapping);
// with --names, the other way.

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/cnnc-dev/cnnc/compiler"
	wmap "github.com/cnnc-dev/cnnc/compiler/weights"
	"github.com/cnnc-dev/cnnc/internal/cli"
	"github.com/cnnc-dev/cnnc/runtime/safetensors"
	"github.com/cnnc-dev/cnnc/train"
)

const weightsUsage = `cnnc weights [-v] NET.cnn FROM.safetensors -o TO.safetensors [--names REF.safetensors]

Maps the tensors of FROM, a PyTorch state_dict saved as safetensors under
any names (torchvision's, timm's, an nn.Sequential's numbers), onto the
network's and writes them to TO under the network's names, as float32:
by name where the names agree, otherwise in the file's order (the
state_dict's) with every shape checked. num_batches_tracked and tensors
that are not floats are ignored, and so is the optimizer's state in a
checkpoint of cnnc train. Any mismatch is an error naming both
sides, and nothing is written. -v prints the mapping.

With --names REF.safetensors (a state dict of the PyTorch model, such as
scripts/torchvision_weights.py writes), TO gets FROM's tensors (the
network's, mapped as above) under REF's names and in REF's order, for
PyTorch's load_state_dict (strict=False: REF's num_batches_tracked are not
written).`

func cmdWeights(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("weights", stderr, weightsUsage)
	verbose := fs.Bool("v", false, "print the mapping table")
	out := fs.String("o", "", "the file to write (required)")
	names := fs.String("names", "", "write under the names of this reference state dict (to PyTorch)")
	if !parseFlags(fs, cli.Reorder(fs, args), func() bool { return fs.NArg() != 2 }) {
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintf(stderr, "cnnc weights: -o TO.safetensors is required\n")
		return exitUsage
	}
	m, ok := compileFile(fs.Arg(0), stderr)
	if !ok {
		return exitInput
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "cnnc weights: %v\n", err)
		return exitInput
	}
	from := fs.Arg(1)
	tensors, err := mapFile(m, from, *verbose, stdout)
	if err != nil {
		return fail(err)
	}
	meta := map[string]string{"network": m.Net.Name, "from": filepath.Base(from)}
	if *names != "" {
		ref, err := safetensors.Load(*names)
		if err != nil {
			return fail(err)
		}
		var want []wmap.Spec
		for _, t := range tensors {
			want = append(want, wmap.Spec{Name: t.Name, Shape: t.Shape})
		}
		pairs, err := wmap.Map(want, specs(ref))
		if err != nil {
			return fail(fmt.Errorf("%s onto %s: %w", m.Net.Name, *names, err))
		}
		if *verbose {
			fmt.Fprintf(stdout, "\n%s -> %s:\n", m.Net.Name, *names)
			table(stdout, pairs)
		}
		// In REF's order: Map's pairs keep both orders unless all matched by name.
		at := map[string]int{}
		for i, n := range ref.Names() {
			at[n] = i
		}
		byRef := make([]safetensors.Tensor, len(ref.Names()))
		for k, p := range pairs {
			t := tensors[k]
			t.Name = p.Have.Name
			byRef[at[p.Have.Name]] = t
		}
		tensors = tensors[:0]
		for _, t := range byRef {
			if t.Name != "" {
				tensors = append(tensors, t)
			}
		}
	}
	if err := safetensors.Save(*out, tensors, meta); err != nil {
		return fail(err)
	}
	return exitOK
}

// mapFile reads the file at path and returns its tensors under m's names,
// in m's order, as float32.
func mapFile(m *compiler.Model, path string, verbose bool, stdout io.Writer) ([]safetensors.Tensor, error) {
	f, err := safetensors.Load(path)
	if err != nil {
		return nil, err
	}
	var want []wmap.Spec
	for _, ts := range compiler.NewPlan(m).Tensors {
		want = append(want, wmap.Spec{Name: ts.Name, Shape: ts.Shape})
	}
	have := specs(f)
	optim := 0
	if f.Meta["format"] == train.CheckpointFormat {
		// A checkpoint of cnnc train: its optimizer's state is not weights.
		have = slices.DeleteFunc(have, func(s wmap.Spec) bool { return strings.HasPrefix(s.Name, "optim.") })
		optim = len(f.Names()) - len(have)
	}
	pairs, err := wmap.Map(want, have)
	if err != nil {
		return nil, fmt.Errorf("%s onto %s:\n\t%s", path, m.Net.Name, strings.ReplaceAll(err.Error(), "\n", "\n\t"))
	}
	if verbose {
		table(stdout, pairs)
		for _, s := range have {
			if wmap.Bookkeeping(s) {
				fmt.Fprintf(stdout, "ignored: %s %v %s\n", s.Name, s.Shape, s.Dtype)
			}
		}
		if optim > 0 {
			fmt.Fprintf(stdout, "ignored: %d tensors of the checkpoint's optimizer (optim.*)\n", optim)
		}
	}
	tensors := make([]safetensors.Tensor, len(pairs))
	for k, p := range pairs {
		t, err := f.Get(p.Have.Name)
		if err != nil {
			return nil, err
		}
		tensors[k] = safetensors.Tensor{Name: p.Want.Name, Shape: p.Want.Shape, Data: t.Data}
	}
	return tensors, nil
}

func specs(f *safetensors.File) []wmap.Spec {
	var s []wmap.Spec
	for _, n := range f.Names() {
		info, _ := f.Info(n)
		s = append(s, wmap.Spec{Name: n, Shape: info.Shape, Dtype: string(info.Dtype)})
	}
	return s
}

// table prints one line per pair: the network's name, the file's, the
// shape and how they were paired.
func table(w io.Writer, pairs []wmap.Pair) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "network\tfile\tshape\tby")
	for _, p := range pairs {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", p.Want.Name, p.Have.Name, p.Want.Shape, p.By)
	}
	tw.Flush()
}
