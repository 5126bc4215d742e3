package train

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"github.com/cnnc-dev/cnnc/internal/cli"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Exit codes of Main, as cnnc's.
const (
	exitOK    = 0
	exitInput = 1
	exitUsage = 2
)

// Main is the whole program that `cnnc train` builds for a network:
//
//	PROG train [flags]        train (see Config; flags --data --epochs --batch --seed --augment --out --resume ...)
//	PROG eval [flags] CKPT... evaluate checkpoints and their ensemble
//	PROG infer [flags]        run inference on a .npy array (see Infer; flags --weights --input -o --probs --top --batch)
//	PROG serve [flags]        serve predictions over HTTP (see Serve; flags --weights --addr --batch --max-delay --queue ...)
//
// It exits with 0, 1 (an error) or 2 (usage).
func Main(spec *Spec) {
	os.Exit(Command(spec, os.Args[1:], os.Stdout, os.Stderr))
}

// resumeFlag is --resume (the last checkpoint of --out) or --resume=CKPT.
type resumeFlag struct{ set, path string }

func (r *resumeFlag) String() string   { return r.path }
func (r *resumeFlag) IsBoolFlag() bool { return true }
func (r *resumeFlag) Set(s string) error {
	r.set = "y"
	switch s {
	case "true":
		r.path = ""
	case "false":
		r.set = ""
	default:
		r.path = s
	}
	return nil
}

// Command runs Main's command line with the given output streams.
func Command(spec *Spec, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: train|eval|infer|serve [flags]")
		return exitUsage
	}
	switch args[0] {
	case "train":
		return cmdTrain(spec, args[1:], stdout, stderr)
	case "eval":
		return cmdEval(spec, args[1:], stdout, stderr)
	case "infer":
		return cmdInfer(spec, args[1:], stdout, stderr)
	case "serve":
		return cmdServe(spec, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "unknown command %q: want train, eval, infer or serve\n", args[0])
	return exitUsage
}

// TrainFlags defines the flags of `cnnc train` on fs and returns a function
// that builds the Config once fs is parsed. --lr, --momentum, --decay and
// --nesterov are not here: cnnc compiles them into the network.
func TrainFlags(fs *flag.FlagSet, rc rt.Recipe) func() (Config, error) {
	var c Config
	fs.StringVar(&c.Data, "data", "mnist", "training data: mnist | idx:IMAGES,LABELS[,TESTIMAGES,TESTLABELS] | folder:DIR (DIR/train, DIR/test)")
	fs.IntVar(&c.Epochs, "epochs", rc.Epochs, "total number of epochs (default: the .cnn's)")
	fs.IntVar(&c.Batch, "batch", rc.Batch, "batch size (default: the .cnn's, else 128)")
	seed := fs.Uint64("seed", rc.Seed, "seed of the initialisation, the data order, augmentation and dropout (default: the .cnn's)")
	aug := fs.String("augment", "", `augmentation: none | "[crop N] [pad N] [translate N] [mirror]" (default: the .cnn's)`)
	fs.StringVar(&c.Out, "out", "", "directory of the checkpoints, log.jsonl and plot.png (created)")
	var resume resumeFlag
	fs.Var(&resume, "resume", "continue from --out's last.safetensors, or --resume=CKPT")
	fs.IntVar(&c.Subset, "subset", 0, "train on the first N training images only (0: all)")
	fs.IntVar(&c.TestSubset, "test-subset", 0, "evaluate on the first N test images only (0: all)")
	fs.IntVar(&c.MaxBatches, "max-batches", 0, "end each epoch after N batches (0: a whole pass)")
	fs.IntVar(&c.Val, "val", 0, "hold out the last N training images as the schedule's validation set (0: the test set)")
	fs.BoolVar(&c.Deterministic, "deterministic", false, "bit-for-bit reproducible runs (and resumes): the runtime's kernels on one goroutine")
	progress := fs.String("progress", "on", "progress bars on stderr: on | off | auto (on when stderr is a terminal)")
	return func() (Config, error) {
		c.Seed = *seed
		if *aug != "" {
			a, err := ParseAugment(*aug)
			if err != nil {
				return c, err
			}
			c.Augment = &a
		}
		if resume.set != "" {
			c.Resume = resume.path
			if c.Resume == "" {
				if c.Out == "" {
					return c, fmt.Errorf("--resume without a checkpoint needs --out")
				}
				c.Resume = filepath.Join(c.Out, LastName)
			}
		}
		switch *progress {
		case "on":
			c.Progress = true
		case "off":
		case "auto":
			c.Progress = term.IsTerminal(int(os.Stderr.Fd()))
		default:
			return c, fmt.Errorf("--progress %q: want auto, on or off", *progress)
		}
		return c, nil
	}
}

func cmdTrain(spec *Spec, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	build := TrainFlags(fs, spec.Program.Recipe)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "cnnc train: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	cfg, err := build()
	if err != nil {
		fmt.Fprintf(stderr, "cnnc train: %v\n", err)
		return exitUsage
	}
	cfg.Stdout, cfg.Stderr = stdout, stderr
	fmt.Fprintf(stdout, "%s: batch %d, lr %g, momentum %g, decay %g, schedule %s, augment %s, data %s, seed %d\n",
		spec.Program.Name, cfg.Batch, spec.Program.Recipe.LR, spec.Program.Recipe.Momentum, spec.Program.Recipe.Decay, spec.Program.Recipe.Schedule.Kind,
		augString(cfg.Augment, spec.Program.Recipe.Augment), cfg.Data, cfg.Seed)
	if _, err := Run(spec, cfg); err != nil {
		fmt.Fprintf(stderr, "cnnc train: %v\n", err)
		return exitInput
	}
	return exitOK
}

func augString(a *rt.Augment, def rt.Augment) string {
	if a != nil {
		return augmentString(*a)
	}
	return augmentString(def)
}

func cmdEval(spec *Spec, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c EvalConfig
	fs.StringVar(&c.Data, "data", "mnist", "test data: mnist | idx:IMAGES,LABELS[,TESTIMAGES,TESTLABELS] | folder:DIR")
	fs.IntVar(&c.TestSubset, "test-subset", 0, "evaluate on the first N test images only (0: all)")
	fs.IntVar(&c.Batch, "batch", 0, "evaluation batch size (0: the recipe's)")
	if err := fs.Parse(cli.Reorder(fs, args)); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: cnnc eval CKPT... [--data D] [--net FILE.cnn]")
		return exitUsage
	}
	c.Stdout = stdout
	if _, err := Eval(spec, fs.Args(), c); err != nil {
		fmt.Fprintf(stderr, "cnnc eval: %v\n", err)
		return exitInput
	}
	return exitOK
}
