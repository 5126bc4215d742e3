package main

// cnnc train and cnnc eval. Generated code must be compiled, so these
// commands generate the network's package into a small module in the user's
// cache directory, with a main.go that calls train.Main, build it with the
// go command, and run the binary with the user's flags (stdout and stderr
// pass through). See the package doc of github.com/cnnc-dev/cnnc/train and
// docs/training.md.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/internal/cli"
	"github.com/cnnc-dev/cnnc/train"
)

const cnncModule = "github.com/cnnc-dev/cnnc"

// overrides are the flags compiled into the generated package (the
// optimizer's constants and the schedule's base LR live there).
type overrides struct {
	LR       *float64 `json:"lr,omitempty"`
	Momentum *float64 `json:"momentum,omitempty"`
	Decay    *float64 `json:"decay,omitempty"`
	Nesterov *bool    `json:"nesterov,omitempty"`
}

func (o overrides) String() string {
	if o == (overrides{}) {
		return ""
	}
	b, _ := json.Marshal(o)
	return string(b)
}

func parseOverrides(s string) (overrides, error) {
	var o overrides
	if s == "" {
		return o, nil
	}
	err := json.Unmarshal([]byte(s), &o)
	return o, err
}

// apply writes the overrides into the recipe the code is generated from.
func (o overrides) apply(rc *dsl.Recipe) error {
	if o.LR != nil {
		if !(*o.LR > 0) {
			return fmt.Errorf("--lr %g: want a positive learning rate", *o.LR)
		}
		rc.LR = *o.LR
	}
	if o.Momentum != nil || o.Nesterov != nil {
		if rc.Optimizer != "sgd" {
			return fmt.Errorf("--momentum and --nesterov apply to sgd; the .cnn's optimizer is %s", rc.Optimizer)
		}
	}
	if o.Momentum != nil {
		if *o.Momentum < 0 || *o.Momentum >= 1 {
			return fmt.Errorf("--momentum %g: want 0 <= momentum < 1", *o.Momentum)
		}
		rc.Momentum = *o.Momentum
	}
	if o.Decay != nil {
		if *o.Decay < 0 {
			return fmt.Errorf("--decay %g: want a non-negative weight decay", *o.Decay)
		}
		rc.Decay = *o.Decay
	}
	if o.Nesterov != nil {
		rc.Nesterov = *o.Nesterov
	}
	return nil
}

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
	var ov overrides
	fs.Var(floatFlag{&ov.LR}, "lr", "learning rate (compiled in)")
	fs.Var(floatFlag{&ov.Momentum}, "momentum", "SGD momentum (compiled in)")
	fs.Var(floatFlag{&ov.Decay}, "decay", "weight decay (compiled in)")
	fs.Var(boolFlag{&ov.Nesterov}, "nesterov", "Nesterov momentum (compiled in)")
	// The binary's own flags, parsed here too so that mistakes show before
	// any build; the recipe defaults do not matter for that.
	check := train.TrainFlags(fs, train.Recipe{})
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\nflags:\n", trainUsage)
		fs.PrintDefaults()
	}
	if fs.Parse(cli.Reorder(fs, args)) != nil || fs.NArg() != 1 {
		fs.Usage()
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
	if fs.Parse(cli.Reorder(fs, args)) != nil || fs.NArg() == 0 {
		fs.Usage()
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
	ov, err := parseOverrides(ovText)
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

// buildAndRun compiles src (errors as cnnc check prints them), generates
// its package with the overrides, builds the training binary (cached) and
// runs it with args.
func buildAndRun(cmd, path string, src []byte, ov overrides, args []string, stdout, stderr io.Writer) int {
	m, errs := compiler.CompileSource(path, src)
	if len(errs) > 0 {
		fmt.Fprint(stderr, errs.Render(src))
		return exitInput
	}
	if err := ov.apply(&m.Net.Train); err != nil {
		fmt.Fprintf(stderr, "cnnc %s: %v\n", cmd, err)
		return exitUsage
	}
	bin, err := trainBinary(m, path, src, ov, stderr)
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

// moduleRef says how the training module finds cnnc: a directory (replace)
// or a released version.
type moduleRef struct {
	dir     string // the cnnc module's root, or ""
	version string // a release of cnnc in the module cache, when dir is ""
	gomod   []byte // cnnc's go.mod (dir) or nil
	gosum   []byte
}

// findCNNC locates the cnnc module the training binary is built against:
//
//  1. $CNNC_ROOT, a checkout of cnnc;
//  2. the module of the current directory (`go env GOMOD`) when it is cnnc:
//     `go run ./cmd/cnnc` in a checkout;
//  3. the directory this cnnc was compiled from, when it still holds cnnc
//     (`go install ./cmd/cnnc` from a checkout);
//  4. the release of cnnc this binary is (`go install ...@vX.Y.Z`), from the
//     module cache.
func findCNNC() (moduleRef, error) {
	try := func(dir string) (moduleRef, bool) {
		if dir == "" {
			return moduleRef{}, false
		}
		gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err != nil || !bytes.Contains(gomod, []byte("module "+cncModuleLine())) {
			return moduleRef{}, false
		}
		gosum, _ := os.ReadFile(filepath.Join(dir, "go.sum"))
		abs, err := filepath.Abs(dir)
		if err != nil {
			return moduleRef{}, false
		}
		return moduleRef{dir: abs, gomod: gomod, gosum: gosum}, true
	}
	if env := os.Getenv("CNNC_ROOT"); env != "" {
		if r, ok := try(env); ok {
			return r, nil
		}
		return moduleRef{}, fmt.Errorf("$CNNC_ROOT %s is not a checkout of %s", env, cnncModule)
	}
	if out, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		if r, ok := try(filepath.Dir(strings.TrimSpace(string(out)))); ok {
			return r, nil
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		if r, ok := try(filepath.Join(filepath.Dir(file), "..", "..")); ok {
			return r, nil
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == cnncModule && strings.HasPrefix(bi.Main.Version, "v") {
		return moduleRef{version: bi.Main.Version}, nil
	}
	return moduleRef{}, fmt.Errorf("cannot find the cnnc module to build the network against: run cnnc inside its checkout or set $CNNC_ROOT to one")
}

func cncModuleLine() string { return cnncModule + "\n" }

// sourceHash hashes what the training binary links from a cnnc checkout:
// go.mod, go.sum and every file of runtime/ and train/.
func (r moduleRef) sourceHash() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", r.dir, r.gomod, r.gosum)
	if r.dir == "" {
		fmt.Fprintf(h, "version %s\n", r.version)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	for _, sub := range []string{"runtime", "train"} {
		err := filepath.WalkDir(filepath.Join(r.dir, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if n := d.Name(); n == "testdata" || strings.HasPrefix(n, ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if n := d.Name(); strings.HasSuffix(n, "_test.go") || !(strings.HasSuffix(n, ".go") || strings.HasSuffix(n, ".s") || strings.HasSuffix(n, ".h")) {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s %d\n", p, len(b))
			h.Write(b)
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

var mainTemplate = template.Must(template.New("main").Parse(`// Code generated by cnnc train. DO NOT EDIT.

// Command {{.Pkg}} trains and evaluates the network of {{.SourcePath}} (cnnc train, cnnc eval).
package main

import (
	net "cnnctrain/{{.Pkg}}"
	"github.com/cnnc-dev/cnnc/train"
)

func main() {
	train.Main(&train.Spec{
		Name:       net.Name,
		Source:     {{printf "%q" .Source}},
		SourcePath: {{printf "%q" .SourcePath}},
		Overrides:  {{printf "%q" .Overrides}},
		InputH:     net.InputH,
		InputW:     net.InputW,
		InputC:     net.InputC,
		Classes:    net.Classes,
		Recipe: train.Recipe{
			Batch:     net.DefaultBatch,
			Epochs:    net.DefaultEpochs,
			Seed:      {{.Seed}},
			Optimizer: net.Optimizer,
			LR:        net.DefaultLR,
			Momentum:  net.Momentum,
			Decay:     net.WeightDecay,
			Nesterov:  net.Nesterov,
			Schedule:  net.Schedule,
			Augment: train.Augment{
				Crop:      net.AugmentCrop,
				Pad:       net.AugmentPad,
				Translate: net.AugmentTranslate,
				Mirror:    net.AugmentMirror,
			},
		},
		New: func(maxBatch int, seed uint64) *train.Model {
			return train.Adapt[net.TrainState, net.Tensor](net.New(maxBatch, seed))
		},
		ErrNonFinite: net.ErrNonFinite,
	})
}
`))

// trainMain renders the main.go of the training binary.
func trainMain(pkg, sourcePath string, src []byte, ov overrides, seed uint64) ([]byte, error) {
	var b bytes.Buffer
	err := mainTemplate.Execute(&b, map[string]any{
		"Pkg": pkg, "Source": string(src), "SourcePath": sourcePath, "Overrides": ov.String(), "Seed": seed,
	})
	return b.Bytes(), err
}

// trainModule returns the files of the training module: go.mod, go.sum,
// main.go and the generated package in net/.
func trainModule(m *compiler.Model, path string, src []byte, ov overrides, ref moduleRef) (map[string][]byte, error) {
	const pkg = "net"
	gen, err := compiler.Generate(m, pkg, filepath.ToSlash(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	files := map[string][]byte{}
	for _, f := range gen {
		if strings.HasSuffix(f.Name, "_test.go") {
			continue
		}
		files[pkg+"/"+f.Name] = f.Data
	}
	main, err := trainMain(pkg, path, src, ov, m.Net.Train.Seed)
	if err != nil {
		return nil, err
	}
	files["main.go"] = main
	var gomod bytes.Buffer
	if ref.dir != "" {
		// cnnc's own requirements, so that the build list is cnnc's.
		lines := strings.Split(string(ref.gomod), "\n")
		for _, l := range lines {
			if strings.HasPrefix(l, "module ") {
				l = "module cnnctrain"
			}
			gomod.WriteString(l + "\n")
		}
		fmt.Fprintf(&gomod, "require %s v0.0.0-00010101000000-000000000000\n\nreplace %s => %s\n", cnncModule, cnncModule, ref.dir)
		files["go.sum"] = ref.gosum
	} else {
		fmt.Fprintf(&gomod, "module cnnctrain\n\ngo 1.26\n\nrequire %s %s\n", cnncModule, ref.version)
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, d := range bi.Deps {
				if d.Replace == nil {
					fmt.Fprintf(&gomod, "require %s %s\n", d.Path, d.Version)
				}
			}
		}
	}
	files["go.mod"] = gomod.Bytes()
	return files, nil
}

// cacheRoot is $CNNC_CACHE, else the user's cache directory's cnnc/train.
func cacheRoot() (string, error) {
	if d := os.Getenv("CNNC_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set $CNNC_CACHE): %w", err)
	}
	return filepath.Join(d, "cnnc", "train"), nil
}

// trainBinary returns the path of the built training binary for m, building
// it when the cache does not hold it. The cache key hashes the generated
// files, main.go, go.mod and the cnnc sources the binary links.
func trainBinary(m *compiler.Model, path string, src []byte, ov overrides, stderr io.Writer) (string, error) {
	ref, err := findCNNC()
	if err != nil {
		return "", err
	}
	files, err := trainModule(m, path, src, ov, ref)
	if err != nil {
		return "", err
	}
	sh, err := ref.sourceHash()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "cnnc train 1\n%s\n", sh)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "%s %d\n", n, len(files[n]))
		h.Write(files[n])
	}
	root, err := cacheRoot()
	if err != nil {
		return "", err
	}
	key := hex.EncodeToString(h.Sum(nil))[:20]
	dir := filepath.Join(root, key)
	bin := filepath.Join(dir, "bin", "cnnc-"+strings.ToLower(m.Net.Name))
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil
	}
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := writeFileAtomic(p, files[n]); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(stderr, "cnnc: building %s in %s\n", m.Net.Name, dir)
	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	c := exec.Command("go", "build", "-o", tmp, ".")
	c.Dir = dir
	c.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go build in %s: %v\n%s", dir, err, out.String())
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}
