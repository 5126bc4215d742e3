// Package examples tests the example modules of this folder: each is a
// module of its own, as a user's would be, so `go test ./...` at the root
// does not reach into it; this test runs its go generate and go test.
package examples

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %v in %s: %v\n%s", args, dir, err, out)
	}
}

// TestDownstream regenerates the downstream module's package with the
// cnnc tool its go.mod records (go tool cnnc, built from this checkout
// through its replace directive), checks that the committed code is fresh,
// and runs the module's tests.
func TestDownstream(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a separate module")
	}
	dir := "downstream"
	files, _ := filepath.Glob(filepath.Join(dir, "digits", "*.go"))
	if len(files) == 0 {
		t.Fatal("no generated package in downstream/digits")
	}
	before := map[string][]byte{}
	for _, f := range files {
		before[f], _ = os.ReadFile(f)
	}
	goCmd(t, dir, "generate", "./...")
	for _, f := range files {
		after, _ := os.ReadFile(f)
		if !bytes.Equal(before[f], after) {
			t.Errorf("%s changed under go generate: commit the regenerated code", f)
		}
	}
	goCmd(t, dir, "vet", "./...")
	goCmd(t, dir, "test", "./...")
}
