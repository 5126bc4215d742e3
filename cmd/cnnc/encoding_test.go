package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A byte-order mark at the start of a file is skipped by every command;
// cnnc fmt drops it.
func TestBOM(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bom.cnn")
	src := "\ufeffnetwork Bom\ninput 28x28x1\nconv 6 5x5 -> relu -> fc 10\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", path}, {"summary", path}, {"summary", "--ir", path}, {"fmt", path}, {"gen", "-o", filepath.Join(dir, "out"), path}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != exitOK {
			t.Errorf("cnnc %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"fmt", "-w", path}, &stdout, &stderr); code != exitOK {
		t.Fatalf("fmt -w: exit %d: %s", code, stderr.String())
	}
	if got, _ := os.ReadFile(path); string(got) != strings.TrimPrefix(src, "\ufeff") {
		t.Errorf("fmt -w wrote %q, want the file without its BOM", got)
	}
}

// Tabs in a layer's text do not break the columns of cnnc summary; a file
// name that is not a name gives one by the rule of the network line.
func TestSummaryTabsAndFileName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "réseau-1.cnn")
	if err := os.WriteFile(path, []byte("input 28x28x1\nconv 6\t3x3\tp1 -> relu\t-> fc 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"summary", path}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if strings.Contains(out, "\t") || !strings.Contains(out, " conv 6 3x3 p1 ") || !strings.HasPrefix(out, "reseau_1 (") {
		t.Errorf("summary:\n%s", out)
	}
	// The output column (right-aligned) ends at the same place in every row.
	end := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		for name, shape := range map[string]string{"conv1": "28x28x6", "fc1": "1x1x10"} {
			if strings.Contains(line, name+" ") {
				end[name] = strings.Index(line, shape) + len(shape)
			}
		}
	}
	if end["conv1"] != end["fc1"] || end["fc1"] < len("1x1x10") {
		t.Errorf("columns not aligned (%v):\n%s", end, out)
	}
}

// A usage error prints the usage once.
func TestUsageOnce(t *testing.T) {
	for _, args := range [][]string{{"check", "--bogus"}, {"check"}, {"summary", "--bogus", "x.cnn"}, {"fmt", "-bogus"}, {"gen", "--bogus", "x.cnn"}, {"train", "--bogus", "x.cnn"}, {"eval", "--bogus"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != exitUsage {
			t.Errorf("cnnc %s: exit %d, want %d", strings.Join(args, " "), code, exitUsage)
		}
		if n := strings.Count(stderr.String(), "usage:"); n != 1 {
			t.Errorf("cnnc %s: usage printed %d times:\n%s", strings.Join(args, " "), n, stderr.String())
		}
	}
}

func TestPackageName(t *testing.T) {
	for path, want := range map[string]string{"x/réseau.cnn": "reseau", "resnet-18.cnn": "resnet18", "3d.cnn": "net3d", "LeNet_5.cnn": "lenet5"} {
		if got := packageName(path); got != want {
			t.Errorf("packageName(%q) = %q, want %q", path, got, want)
		}
	}
}
