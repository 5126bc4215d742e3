package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/networks")

// TestFresh regenerates docs/networks in memory and fails on any
// difference with the committed files, or a file no network writes:
// run go run ./internal/netdocs (or go test ./internal/netdocs -update).
func TestFresh(t *testing.T) {
	const root = "../.."
	files, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := write(root, files); err != nil {
			t.Fatal(err)
		}
	}
	keep := map[string]bool{}
	for _, f := range files {
		path := filepath.Join(root, filepath.FromSlash(f.Name))
		keep[path] = true
		have, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(have, f.Data) {
			t.Errorf("%s is stale or missing: run go run ./internal/netdocs", f.Name)
		}
	}
	for _, p := range stale(root, keep) {
		t.Errorf("%s: no network writes it (go run ./internal/netdocs removes it)", p)
	}
}

// TestPages checks what every page holds, and the lecture's figures.
func TestPages(t *testing.T) {
	files, err := Generate("../..")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for _, f := range files {
		byName[strings.TrimPrefix(f.Name, pagesDir+"/")] = string(f.Data)
	}
	nets, _ := filepath.Glob("../../networks/*.cnn")
	if !strings.HasPrefix(byName[picturesDir+"/resnet_bottleneck.svg"], "<svg") {
		t.Error("no picture of docs/pictures/resnet_bottleneck.cnn")
	}
	if len(byName) < 2*len(nets)+1 {
		t.Fatalf("%d files for %d networks", len(byName), len(nets))
	}
	for _, p := range nets {
		name := strings.TrimSuffix(filepath.Base(p), ".cnn")
		md := byName[name+".md"]
		for _, want := range []string{"](" + name + ".svg)", "parameters: ", "conv+fc multiply-accumulates per image: "} {
			if !strings.Contains(md, want) {
				t.Errorf("%s.md has no %q", name, want)
			}
		}
		if !strings.HasPrefix(byName[name+".svg"], "<svg") {
			t.Errorf("%s.svg is not an SVG", name)
		}
	}
	for name, want := range map[string][]string{
		"vgg16":                {"24M values, ~96 MB | 15,237,608 values, 61.0 MB | 15,237,608 values, 61.0 MB", "| 138M | 138,344,128 (weights) | 138,357,544"},
		"inception_bottleneck": {"the slide: **358M**; its terms add up to 271.2M | | **271,351,808**", "not the sum of its own terms"},
		"inception_naive":      {"the slide: **854M**", "is right"},
		"googlenet":            {"](googlenet.collapsed.svg)"},
	} {
		for _, w := range want {
			if !strings.Contains(byName[name+".md"], w) {
				t.Errorf("%s.md has no %q", name, w)
			}
		}
	}
	if strings.Contains(byName["vgg16.md"], "(differs)") {
		t.Error("a VGG16 layer's weights differ from the lecture's")
	}
}
