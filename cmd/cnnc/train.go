package main

// cnnc train and cnnc eval (and cnnc infer, infer.go): the flags are parsed and checked here, the
// training binary is built by github.com/cnnc-dev/cnnc/train/build (a small
// module in the user's cache with the network's package and a main.go that
// calls train.Main), and the binary runs with the user's flags (stdout and
// stderr pass through). See the package doc of github.com/cnnc-dev/cnnc/train
// and docs/training.md.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/internal/cli"
	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/train"
	"github.com/cnnc-dev/cnnc/train/build"
)

// floatFlag records whether it was set.
type floatFlag struct{ p **float64 }

func (f floatFlag) String() string {
	if f.p == nil || *f.p == nil {
		return ""
	}
	return strconv.FormatFloat(**f.p, 'g', -1, 64)
}

func (f floatFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	*f.p = &v
	return nil
}

type boolFlag struct{ p **bool }

func (f boolFlag) String() string {
	if f.p == nil || *f.p == nil {
		return ""
	}
	return strconv.FormatBool(**f.p)
}
func (f boolFlag) IsBoolFlag() bool { return true }
func (f boolFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*f.p = &v
	return nil
}

const trainUsage = `cnnc train FILE.cnn [flags]

Trains the network with the .cnn's recipe; flags override it:
  --data mnist | idx:IMAGES,LABELS[,TESTIMAGES,TESTLABELS] | folder:DIR
  --epochs N --batch N --lr X --momentum X --decay X --nesterov --seed N
  --augment none|"[crop N] [pad N] [translate N] [mirror]"
  --out DIR (checkpoints, log.jsonl, plot.png)  --resume[=CKPT]
  --subset N --test-subset N --max-batches N --val N --progress auto|on|off`

func cmdTrain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("train", stderr, trainUsage)
	var ov build.Overrides
	fs.Var(floatFlag{&ov.LR}, "lr", "learning rate (compiled in)")
	fs.Var(floatFlag{&ov.Momentum}, "momentum", "SGD momentum (compiled in)")
	fs.Var(floatFlag{&ov.Decay}, "decay", "weight decay (compiled in)")
	fs.Var(boolFlag{&ov.Nesterov}, "nesterov", "Nesterov momentum (compiled in)")
	// The binary's own flags, parsed here too so that mistakes show before
	// any build; the recipe defaults do not matter for that.
	check := train.TrainFlags(fs, rt.Recipe{})
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\nflags:\n", trainUsage)
		fs.PrintDefaults()
	}
	if !parseFlags(fs, cli.Reorder(fs, args), func() bool { return fs.NArg() != 1 }) {
		return exitUsage
	}
	if _, err := check(); err != nil {
		fmt.Fprintf(stderr, "cnnc train: %v\n", err)
		return exitUsage
	}
	// Everything but the file and the compiled-in flags goes to the binary.
	pass := []string{"train"}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "lr", "momentum", "decay", "nesterov":
		case "resume":
			if v := f.Value.String(); v != "" {
				pass = append(pass, "--resume="+v)
			} else {
				pass = append(pass, "--resume")
			}
		default:
			pass = append(pass, "--"+f.Name+"="+f.Value.String())
		}
	})
	path := fs.Arg(0)
	src, err := readSource(path)
	if err != nil {
		fmt.Fprintf(stderr, "cnnc: %v\n", err)
		return exitInput
	}
	return buildAndRun("train", path, src, ov, pass, stdout, stderr)
}

const evalUsage = `cnnc eval CKPT... [--data D] [--net FILE.cnn] [--test-subset N] [--batch N]

Evaluates checkpoints on the test set; with several, also their ensemble
(the mean of their softmax outputs). The network is the .cnn recorded in the
first checkpoint unless --net names one.`

func cmdEval(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("eval", stderr, evalUsage)
	netPath := fs.String("net", "", "the .cnn file (default: the one recorded in the checkpoint)")
	fs.String("data", "mnist", "test data")
	fs.Int("test-subset", 0, "the first N test images only")
	fs.Int("batch", 0, "evaluation batch")
	if !parseFlags(fs, cli.Reorder(fs, args), func() bool { return fs.NArg() == 0 }) {
		return exitUsage
	}
	pass := []string{"eval"}
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "net" {
			pass = append(pass, "--"+f.Name+"="+f.Value.String())
		}
	})
	var path, ovText string
	var src []byte
	for i, ck := range fs.Args() {
		c, err := train.ReadCheckpoint(ck)
		if err != nil {
			fmt.Fprintf(stderr, "cnnc eval: %v\n", err)
			return exitInput
		}
		s, p, o := c.Source()
		if *netPath != "" {
			continue
		}
		if s == "" {
			fmt.Fprintf(stderr, "cnnc eval: %s records no .cnn source (a weights file): give --net FILE.cnn\n", ck)
			return exitInput
		}
		if i == 0 {
			path, src, ovText = p, []byte(s), o
		} else if s != string(src) || o != ovText {
			fmt.Fprintf(stderr, "cnnc eval: %s was trained from another network than %s: an ensemble needs one network (give --net to force one)\n", ck, fs.Arg(0))
			return exitInput
		}
	}
	if *netPath != "" {
		var err error
		if src, err = readSource(*netPath); err != nil {
			fmt.Fprintf(stderr, "cnnc: %v\n", err)
			return exitInput
		}
		path = *netPath
	}
	ov, err := build.ParseOverrides(ovText)
	if err != nil {
		fmt.Fprintf(stderr, "cnnc eval: bad overrides %q in the checkpoint: %v\n", ovText, err)
		return exitInput
	}
	for _, ck := range fs.Args() {
		a, _ := filepath.Abs(ck)
		pass = append(pass, a)
	}
	return buildAndRun("eval", path, src, ov, pass, stdout, stderr)
}

// buildAndRun compiles src (errors as cnnc check prints them), applies the
// overrides to its recipe, builds the training binary (build.Binary: cached)
// and runs it with args.
func buildAndRun(cmd, path string, src []byte, ov build.Overrides, args []string, stdout, stderr io.Writer) int {
	m, errs := compiler.CompileSource(path, src)
	if len(errs) > 0 {
		fmt.Fprint(stderr, errs.Render(src))
		return exitInput
	}
	return runModel(cmd, m, path, src, ov, args, stdout, stderr)
}

// runModel applies the overrides to m's recipe, builds the training binary
// of m (build.Binary: cached) and runs it with args.
func runModel(cmd string, m *compiler.Model, path string, src []byte, ov build.Overrides, args []string, stdout, stderr io.Writer) int {
	if err := ov.Apply(&m.Net.Train); err != nil {
		fmt.Fprintf(stderr, "cnnc %s: %v\n", cmd, err)
		return exitUsage
	}
	bin, err := build.Binary(m, path, src, ov, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "cnnc %s: %v\n", cmd, err)
		return exitInput
	}
	c := exec.Command(bin, args...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, stdout, stderr
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return ee.ExitCode()
		}
		fmt.Fprintf(stderr, "cnnc %s: %v\n", cmd, err)
		return exitInput
	}
	return exitOK
}
