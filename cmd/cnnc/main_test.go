package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected outputs in testdata/")

// TestErrors runs `cnnc check` on every file of testdata/errors and
// compares its stderr with the .stderr file beside it.
func TestErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.cnn")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("only %d error cases; want at least 30", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".cnn"), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"check", f}, &stdout, &stderr)
			if code != exitInput {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitInput, stderr.String())
			}
			if !strings.HasPrefix(stderr.String(), f+":") {
				t.Errorf("stderr does not start with the file's position:\n%s", stderr.String())
			}
			golden(t, strings.TrimSuffix(f, ".cnn")+".stderr", stderr.Bytes())
		})
	}
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, exitUsage},
		{[]string{"frobnicate"}, exitUsage},
		{[]string{"check"}, exitUsage},
		{[]string{"summary"}, exitUsage},
		{[]string{"summary", "a.cnn", "b.cnn"}, exitUsage},
		{[]string{"summary", "--bogus", "../../networks/lenet5.cnn"}, exitUsage},
		{[]string{"check", "../../networks/lenet5.cnn", "../../networks/alexnet.cnn"}, exitOK},
		{[]string{"check", "testdata/does-not-exist.cnn"}, exitInput},
		{[]string{"check", "../../networks/lenet5.cnn", "testdata/errors/empty.cnn"}, exitInput},
		{[]string{"summary", "../../networks/lenet5.cnn", "--json"}, exitOK},
		{[]string{"fmt", "../../networks/lenet5.cnn"}, exitOK},
		{[]string{"help"}, exitOK},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code {
			t.Errorf("cnnc %s: exit %d, want %d\nstderr: %s", strings.Join(tc.args, " "), code, tc.code, stderr.String())
		}
	}
}

// TestSummaryVGG16 holds the VGG16 table, which reproduces the lecture's row
// for row, as a golden file.
func TestSummaryTables(t *testing.T) {
	for _, name := range []string{"vgg16", "alexnet", "inception_bottleneck"} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"summary", "../../networks/" + name + ".cnn"}, &stdout, &stderr); code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		golden(t, "testdata/summary/"+name+".txt", stdout.Bytes())
	}
}

func TestFmtWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.cnn")
	src := "input   28x28x1\nconv 6 5x5 p2->relu   # c\n   -> fc 10\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"fmt", "-w", path}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, _ := os.ReadFile(path)
	want := "input 28x28x1\nconv 6 5x5 p2 -> relu # c\n-> fc 10\n"
	if string(got) != want {
		t.Errorf("fmt -w wrote %q, want %q", got, want)
	}
	// A file with a syntax error is left as it was.
	bad := "input 28x28x1\nconv 6 5x5 ->\n"
	os.WriteFile(path, []byte(bad), 0o600)
	if code := run([]string{"fmt", "-w", path}, &stdout, &stderr); code != exitInput {
		t.Errorf("fmt -w on a bad file: exit %d, want %d", code, exitInput)
	}
	if got, _ := os.ReadFile(path); string(got) != bad {
		t.Errorf("fmt -w changed a file it could not parse: %q", got)
	}
}
