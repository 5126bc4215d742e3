// Package build builds the training binary of a compiled network: the
// program that `cnnc train`, `cnnc eval` and `cnnc infer` run.
//
// Generated code must be compiled, so Binary writes a small Go module into
// the user's cache directory ($CNNC_CACHE, else the user cache directory's
// cnnc/train): the network's package generated into net/, a main.go that
// fills a train.Spec from the package's constants and calls train.Main, and
// a go.mod that requires cnnc (a replace of a checkout, or a release; see
// findCNNC). It builds the module with the go command and returns the
// binary's path; running it with the user's flags is up to the caller. The
// cache key hashes every file of the module and the cnnc sources the binary
// links (go.mod, go.sum, runtime/ and train/ of a checkout), so a binary is
// built once per network, overrides and cnnc version. Files are written
// atomically, and the binary is renamed into place once built, so that a
// crash or a concurrent cnnc never leaves a half-written file in the cache.
//
// Overrides are the flags compiled into the generated package (--lr,
// --momentum, --decay, --nesterov): the caller applies them to the compiled
// model's recipe (Overrides.Apply) before Binary generates the code.
package build

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

// Module is cnnc's module path.
const Module = "github.com/cnnc-dev/cnnc"

// Binary returns the path of the training binary of m, compiled from src
// (the .cnn text, read from path), building it when the cache does not hold
// it yet; a build says so on log ("cnnc: building NAME in DIR"). ov must be
// the overrides already applied to m.Net.Train: Binary records them in
// main.go (and so in every checkpoint the binary writes). A failed go build
// returns an error with the go command's output.
func Binary(m *compiler.Model, path string, src []byte, ov Overrides, log io.Writer) (string, error) {
	ref, err := findCNNC()
	if err != nil {
		return "", err
	}
	mod, err := newModule(m, path, src, ov, ref)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(mod.bin); err == nil && fi.Mode().IsRegular() {
		return mod.bin, nil
	}
	if err := mod.build(log); err != nil {
		return "", err
	}
	return mod.bin, nil
}

// module is the training module of one network and its place in the cache.
type module struct {
	name  string            // the network's name
	files map[string][]byte // by slash-separated name (moduleFiles)
	names []string          // of files, sorted
	dir   string            // the module's directory in the cache
	bin   string            // the binary, in dir/bin
}

// newModule renders the training module of m against ref and finds its
// directory in the cache: the cache key hashes the generated files, main.go,
// go.mod and the cnnc sources the binary links.
func newModule(m *compiler.Model, path string, src []byte, ov Overrides, ref moduleRef) (*module, error) {
	files, err := moduleFiles(m, path, src, ov, ref)
	if err != nil {
		return nil, err
	}
	sh, err := ref.sourceHash()
	if err != nil {
		return nil, err
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
		return nil, err
	}
	key := hex.EncodeToString(h.Sum(nil))[:20]
	dir := filepath.Join(root, key)
	return &module{
		name:  m.Net.Name,
		files: files,
		names: names,
		dir:   dir,
		bin:   filepath.Join(dir, "bin", "cnnc-"+strings.ToLower(m.Net.Name)),
	}, nil
}

// build writes the module's files into its directory and runs go build,
// which writes a temporary binary that is then renamed to mod.bin.
func (mod *module) build(log io.Writer) error {
	for _, n := range mod.names {
		p := filepath.Join(mod.dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(p, mod.files[n]); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "cnnc: building %s in %s\n", mod.name, mod.dir)
	tmp := fmt.Sprintf("%s.tmp%d", mod.bin, os.Getpid())
	c := exec.Command("go", "build", "-o", tmp, ".")
	c.Dir = mod.dir
	c.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("go build in %s: %v\n%s", mod.dir, err, out.String())
	}
	return os.Rename(tmp, mod.bin)
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

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over the original
// (safetensors.WriteFileAtomic).
func writeFileAtomic(path string, data []byte) error {
	return safetensors.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
