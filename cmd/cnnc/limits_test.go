package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cnnc-dev/cnnc/dsl"
)

// TestLimits checks the limits that need large files (written into a
// temporary directory): each is reported at a position, and a network at
// the limits checks clean. bench/limits.sh measures their time and memory.
func TestLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("large files")
	}
	chain := func(layers int) string {
		var b strings.Builder
		b.WriteString("input 8x8x3\nrelu\n")
		for i := 1; i < layers; i++ {
			b.WriteString("-> relu\n")
		}
		return b.String()
	}
	words := "input 8x8x3\nconv 8" + strings.Repeat(" 1", dsl.MaxWords) + "\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"at_limit", chain(dsl.MaxNodes), ""},
		{"too_large", strings.Repeat("# comment\n", dsl.MaxFileSize/10+1), ":1:1: the file is larger than 4 MB, the limit of a .cnn file\n"},
		{"layers_written", chain(dsl.MaxNodes + 1), fmt.Sprintf(":%d:4: the file writes more than %d layers, the limit of a network\n", dsl.MaxNodes+2, dsl.MaxNodes)},
		{"words", words, fmt.Sprintf(":2:%d: the file has more than %d words, numbers and symbols, the limit of a .cnn file\n", len("conv 8")+2*(dsl.MaxWords-3), dsl.MaxWords)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.name+".cnn")
			if err := os.WriteFile(path, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := run([]string{"check", path}, &stdout, &stderr)
			t.Logf("%d bytes: %v", len(tc.src), time.Since(start))
			first, _, _ := strings.Cut(stderr.String(), "\n")
			switch {
			case tc.want == "" && code != exitOK:
				t.Fatalf("exit %d: %s", code, first)
			case tc.want != "" && (code != exitInput || first+"\n" != path+tc.want):
				t.Fatalf("exit %d, first line %q; want %q", code, first, path+tc.want)
			}
		})
	}
}
