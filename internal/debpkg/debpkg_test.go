package debpkg

import "testing"

func TestNeedFound(t *testing.T) {
	if got := Need(t, "some-package", "this test", func() string { return "/found" }); got != "/found" {
		t.Fatalf("Need = %q, want find's /found", got)
	}
}

// TestNeedSkips: outside CI a missing package skips the test that needs
// it, and nothing after Need runs.
func TestNeedSkips(t *testing.T) {
	t.Setenv("CI", "") // outside CI, even on a CI machine
	went := false
	t.Run("missing", func(t *testing.T) {
		Need(t, "no-such-package", "this test", func() string { return "" })
		went = true
	})
	if went {
		t.Fatal("Need returned without the package")
	}
}
