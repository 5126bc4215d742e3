package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/compiler/diagram"
)

// TestGraph writes each format and checks it is the diagram package's
// picture of the file; the golden SVG is that of the bottleneck module.
func TestGraph(t *testing.T) {
	dir := t.TempDir()
	const net = "../../networks/inception_bottleneck.cnn"
	src, err := os.ReadFile(net)
	if err != nil {
		t.Fatal(err)
	}
	m, errs := compiler.CompileSource(net, src)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, tc := range []struct {
		out      string
		collapse bool
	}{{"net.svg", false}, {"net.dot", false}, {"net.png", false}, {"blocks.SVG", true}} {
		args := []string{"graph", net, "-o", filepath.Join(dir, tc.out)}
		if tc.collapse {
			args = append(args, "--collapse")
		}
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != exitOK {
			t.Fatalf("cnnc %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
		}
		got, err := os.ReadFile(filepath.Join(dir, tc.out))
		if err != nil {
			t.Fatal(err)
		}
		d, err := diagram.Layout(m, diagram.Options{Collapse: tc.collapse})
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(tc.out) {
		case ".svg":
			golden(t, "testdata/graph/inception_bottleneck.svg", got)
		case ".SVG":
			if !bytes.Equal(got, d.SVG()) {
				t.Errorf("%s is not the collapsed diagram's SVG", tc.out)
			}
		case ".dot":
			if !bytes.Equal(got, d.DOT()) {
				t.Errorf("%s is not the diagram's DOT", tc.out)
			}
		case ".png":
			if _, err := png.Decode(bytes.NewReader(got)); err != nil {
				t.Errorf("%s: %v", tc.out, err)
			}
		}
	}
}

func TestGraphErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "net.svg")
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"graph"}, exitUsage, "usage: cnnc graph"},
		{[]string{"graph", "../../networks/lenet5.cnn"}, exitUsage, "-o needs a file ending in .svg, .png or .dot"},
		{[]string{"graph", "../../networks/lenet5.cnn", "-o", filepath.Join(dir, "net.jpg")}, exitUsage, `not "`},
		{[]string{"graph", "../../networks/lenet5.cnn", "../../networks/alexnet.cnn", "-o", out}, exitUsage, "usage: cnnc graph"},
		{[]string{"graph", "testdata/does-not-exist.cnn", "-o", out}, exitInput, "does-not-exist.cnn"},
		{[]string{"graph", "testdata/errors/groups_not_dividing.cnn", "-o", out}, exitInput, "testdata/errors/groups_not_dividing.cnn:"},
		{[]string{"graph", "../../networks/lenet5.cnn", "-o", filepath.Join(dir, "no", "such", "dir.svg")}, exitInput, "cnnc: "},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("cnnc %s: exit %d, want %d\nstderr: %s", strings.Join(tc.args, " "), code, tc.code, stderr.String())
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a failed cnnc graph wrote %s", out)
	}
}
