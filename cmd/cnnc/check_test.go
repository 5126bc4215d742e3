package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckNotes runs `cnnc check -v` on every file of testdata/notes and
// compares its stdout with the .stdout file beside it (go test -update
// rewrites them).
func TestCheckNotes(t *testing.T) {
	files, err := filepath.Glob("testdata/notes/*.cnn")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in testdata/notes (%v)", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".cnn"), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run([]string{"check", "-v", f}, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitOK, stderr.String())
			}
			golden(t, strings.TrimSuffix(f, ".cnn")+".stdout", stdout.Bytes())
			stdout.Reset()
			if code := run([]string{"check", f}, &stdout, &stderr); code != exitOK || stdout.Len()+stderr.Len() > 0 {
				t.Errorf("plain check: exit %d, output %q %q; want 0 and nothing", code, stdout.String(), stderr.String())
			}
		})
	}
}
