// Command netdocs writes docs/networks/: for every network of networks/, a
// page (its description, pictures, per-layer table and totals, and for
// VGG16 and the inception modules the lecture's figures beside the true
// ones), the pictures beside it (SVG, expanded, and collapsed where the
// network has blocks), and an index; and the picture of every .cnn file
// of docs/pictures/ beside it (the README's). From the repository root:
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
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	files, err := Generate(*root)
	if err == nil {
		err = write(*root, files)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "netdocs:", err)
		os.Exit(1)
	}
}

// The directories read and written, under the repository's root.
const (
	netsDir     = "networks"
	pagesDir    = "docs/networks"
	picturesDir = "docs/pictures"
)

// File is one generated file: its path under the repository's root and
// its contents.
type File struct {
	Name string
	Data []byte
}

// Generate renders every page and picture into memory; nothing is
// written unless every network renders.
func Generate(root string) ([]File, error) {
	files, err := pages(root)
	if err != nil {
		return nil, err
	}
	paths, _ := filepath.Glob(filepath.Join(root, picturesDir, "*.cnn"))
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".cnn")
		m, err := compile(path, picturesDir+"/"+filepath.Base(path))
		if err != nil {
			return nil, err
		}
		d, err := diagram.Layout(m, diagram.Options{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		files = append(files, File{picturesDir + "/" + name + ".svg", d.SVG()})
	}
	return files, nil
}

// compile reads and checks the file at path, named rel in its errors.
func compile(path, rel string) (*compiler.Model, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, errs := compiler.CompileSource(rel, src)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", errs.Render(src))
	}
	return m, nil
}

// pages renders the page and pictures of every network of networks/.
func pages(root string) ([]File, error) {
	paths, err := filepath.Glob(filepath.Join(root, netsDir, "*.cnn"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no .cnn files in %s", filepath.Join(root, netsDir))
	}
	var files []File
	var index []row
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".cnn")
		m, err := compile(path, netsDir+"/"+filepath.Base(path))
		if err != nil {
			return nil, err
		}
		p := page{name: name, m: m, src: m.Net.Source}
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
			files = append(files, File{pagesDir + "/" + svg, d.SVG()})
			p.pictures = append(p.pictures, svg)
		}
		md, err := p.markdown()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		files = append(files, File{pagesDir + "/" + name + ".md", md})
		index = append(index, row{name, m})
	}
	files = append(files, File{pagesDir + "/README.md", indexPage(index)})
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

// write replaces the generated files under root with files, and removes
// the stale ones (pages and pictures of networks that are gone).
func write(root string, files []File) error {
	keep := map[string]bool{}
	for _, f := range files {
		path := filepath.Join(root, filepath.FromSlash(f.Name))
		keep[path] = true
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		old, err := os.ReadFile(path)
		if err == nil && bytes.Equal(old, f.Data) {
			continue
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return err
		}
	}
	for _, p := range stale(root, keep) {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	return nil
}

// stale lists the pages and pictures under root that no file of keep is.
func stale(root string, keep map[string]bool) []string {
	var out []string
	for _, pattern := range []string{pagesDir + "/*.md", pagesDir + "/*.svg", picturesDir + "/*.svg"} {
		paths, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
		for _, p := range paths {
			if !keep[p] {
				out = append(out, p)
			}
		}
	}
	return out
}
