// Command netdocs writes docs/networks/: for every network of networks/, a
// page (its description, pictures, per-layer table and totals, and for
// VGG16 and the bottleneck inception module the lecture's figures beside
// the true ones), the pictures beside it (SVG, expanded, and collapsed
// where the network has blocks), and an index. From the repository root:
//
//	go run ./internal/netdocs
//
// TestFresh fails when the committed pages differ from what it writes.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/compiler/diagram"
)

func main() {
	out := flag.String("o", "docs/networks", "the directory to write")
	nets := flag.String("nets", "networks", "the directory of the .cnn files")
	flag.Parse()
	files, err := Generate(*nets)
	if err == nil {
		err = write(*out, files)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "netdocs:", err)
		os.Exit(1)
	}
}

// File is one generated file: its name in the output directory and its
// contents.
type File struct {
	Name string
	Data []byte
}

// Generate renders every .cnn file of dir into memory; nothing is written
// unless every network renders.
func Generate(dir string) ([]File, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.cnn"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no .cnn files in %s", dir)
	}
	var files []File
	var index []row
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".cnn")
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		rel := "networks/" + filepath.Base(path) // as the repository names it, wherever dir is
		m, errs := compiler.CompileSource(rel, src)
		if len(errs) > 0 {
			return nil, fmt.Errorf("%s", errs.Render(src))
		}
		p := page{name: name, m: m, src: src}
		for _, collapse := range []bool{false, true} {
			if collapse && !hasBlocks(m) {
				continue
			}
			d, err := diagram.Layout(m, diagram.Options{Collapse: collapse})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			svg := name + ".svg"
			if collapse {
				svg = name + ".collapsed.svg"
			}
			files = append(files, File{svg, d.SVG()})
			p.pictures = append(p.pictures, svg)
		}
		md, err := p.markdown()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		files = append(files, File{name + ".md", md})
		index = append(index, row{name, m})
	}
	files = append(files, File{"README.md", indexPage(index)})
	return files, nil
}

func hasBlocks(m *compiler.Model) bool {
	for _, l := range m.Layers {
		if len(l.Node.Calls) > 0 {
			return true
		}
	}
	return false
}

// write replaces dir's generated files with files, and removes the stale
// ones (pages of networks that are gone).
func write(dir string, files []File) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, f := range files {
		keep[f.Name] = true
		old, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err == nil && bytes.Equal(old, f.Data) {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			return err
		}
	}
	stale, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, p := range stale {
		if ext := filepath.Ext(p); !keep[filepath.Base(p)] && (ext == ".md" || ext == ".svg") {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	return nil
}
