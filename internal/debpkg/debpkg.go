// Package debpkg gives tests what a Debian package installs: found where it
// is, installed with apt-get under CI (as root) where it is not, and the
// test skipped elsewhere. The project's own files install what its tests
// need: nothing is installed by hand.
package debpkg

import (
	"os"
	"os/exec"
	"testing"
)

// Need returns find's answer, a path the package provides. When find
// returns "", under CI as root it installs pkg with apt-get (updating the
// package lists once if the first attempt fails) and asks find again,
// failing the test if that is still ""; elsewhere it skips the test, saying
// that it needs pkg for what.
func Need(t testing.TB, pkg, what string, find func() string) string {
	t.Helper()
	if p := find(); p != "" {
		return p
	}
	if os.Getenv("CI") == "" || os.Geteuid() != 0 {
		t.Skipf("%s needs Debian's %s (apt-get install %s)", what, pkg, pkg)
	}
	for _, args := range [][]string{{"install", "-y", "-q", pkg}, {"update", "-q"}, {"install", "-y", "-q", pkg}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err == nil && args[0] == "install" {
			break
		}
		if err != nil && args[0] == "update" {
			t.Fatalf("apt-get update: %v\n%s", err, out)
		}
	}
	if p := find(); p != "" {
		return p
	}
	t.Fatalf("apt-get install %s did not provide what %s needs", pkg, what)
	return ""
}
