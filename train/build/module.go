package build

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/cnnc-dev/cnnc/compiler"
)

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
		if err != nil || !bytes.Contains(gomod, []byte("module "+Module+"\n")) {
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
		return moduleRef{}, fmt.Errorf("$CNNC_ROOT %s is not a checkout of %s", env, Module)
	}
	if out, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		if r, ok := try(filepath.Dir(strings.TrimSpace(string(out)))); ok {
			return r, nil
		}
	}
	// This file is train/build/module.go of the checkout: two levels below
	// the module's root.
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		if r, ok := try(filepath.Join(filepath.Dir(file), "..", "..")); ok {
			return r, nil
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == Module && strings.HasPrefix(bi.Main.Version, "v") {
		return moduleRef{version: bi.Main.Version}, nil
	}
	return moduleRef{}, fmt.Errorf("cannot find the cnnc module to build the network against: run cnnc inside its checkout or set $CNNC_ROOT to one")
}

// sourceHash hashes what the training binary links from a cnnc checkout:
// go.mod, go.sum and every file of runtime/, train/ and serve/.
func (r moduleRef) sourceHash() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", r.dir, r.gomod, r.gosum)
	if r.dir == "" {
		fmt.Fprintf(h, "version %s\n", r.version)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	for _, sub := range []string{"runtime", "train", "serve"} {
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

// moduleFiles returns the files of the training module, by slash-separated
// name: go.mod, go.sum (with a checkout), main.go and the generated package
// in net/.
func moduleFiles(m *compiler.Model, path string, src []byte, ov Overrides, ref moduleRef) (map[string][]byte, error) {
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
	main, err := renderMain(pkg, path, src, ov)
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
		fmt.Fprintf(&gomod, "require %s v0.0.0-00010101000000-000000000000\n\nreplace %s => %s\n", Module, Module, ref.dir)
		files["go.sum"] = ref.gosum
	} else {
		fmt.Fprintf(&gomod, "module cnnctrain\n\ngo 1.26\n\nrequire %s %s\n", Module, ref.version)
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
