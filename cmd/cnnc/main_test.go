package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/dsl"
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
	var stdout, stderr bytes.Buffer
	if code := run([]string{"summary", "--dot", "../../networks/inception_bottleneck.cnn"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	golden(t, "testdata/summary/inception_bottleneck.dot", stdout.Bytes())
}

// TestSummaryIR checks that `cnnc summary --ir` prints dsl.Dump of the file
// (the format itself has its golden cases in dsl/testdata), and that a file
// that fails the check prints its errors and no dump.
func TestSummaryIR(t *testing.T) {
	for _, path := range []string{"../../testdata/nets/mini_resnet.cnn", "../../networks/googlenet.cnn"} {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		net, errs := dsl.Load(path, src)
		if len(errs) > 0 {
			t.Fatal(errs.Render(src))
		}
		var want strings.Builder
		if err := dsl.Dump(&want, net); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"summary", "--ir", path}, {"summary", path, "-ir"}} {
			var stdout, stderr bytes.Buffer
			if code := run(args, &stdout, &stderr); code != exitOK {
				t.Fatalf("cnnc %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
			}
			if stdout.String() != want.String() {
				t.Errorf("cnnc %s printed\n%s\nwant\n%s", strings.Join(args, " "), stdout.String(), want.String())
			}
		}
	}
	// Errors of the resolver and of the shape check: errors, no dump.
	for _, path := range []string{"testdata/errors/empty.cnn", "testdata/errors/groups_not_dividing.cnn"} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"summary", "--ir", path}, &stdout, &stderr); code != exitInput {
			t.Errorf("summary --ir %s: exit %d, want %d", path, code, exitInput)
		}
		if stdout.Len() != 0 || !strings.HasPrefix(stderr.String(), path+":") {
			t.Errorf("summary --ir %s: stdout %q, stderr %q", path, stdout.String(), stderr.String())
		}
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

func TestGen(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"gen", "-o", dir, "-pkg", "lenet", "../../networks/lenet5.cnn"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"lenet.go", "lenet_test.go"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !bytes.HasPrefix(b, []byte("// Code generated by cnnc. DO NOT EDIT.")) {
			t.Errorf("%s: %v, %.40q", f, err, b)
		}
	}
	if code := run([]string{"gen", "-pkg", "main", "../../networks/lenet5.cnn"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("-pkg main: exit %d, want %d", code, exitUsage)
	}
	// A file with errors writes nothing.
	out := filepath.Join(dir, "bad")
	stderr.Reset()
	if code := run([]string{"gen", "-o", out, "testdata/errors/groups_not_dividing.cnn"}, &stdout, &stderr); code != exitInput {
		t.Errorf("gen of a bad file: exit %d, want %d", code, exitInput)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) || !strings.Contains(stderr.String(), "groups_not_dividing.cnn:5:4:") {
		t.Errorf("gen of a bad file: %v; stderr %s", err, stderr.String())
	}
}
