package cli

import (
	"flag"
	"strings"
	"testing"
)

func TestReorder(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Bool("json", false, "")
	fs.String("o", "", "")
	for _, tc := range []struct{ in, want string }{
		{"a.cnn --json", "--json a.cnn"},
		{"a.cnn -o dir b.cnn", "-o dir a.cnn b.cnn"},
		{"-o=dir a.cnn --json", "-o=dir --json a.cnn"},
		{"a.cnn -- -x.cnn", "a.cnn -x.cnn"},
		{"--unknown a.cnn", "--unknown a.cnn"},
	} {
		if got := strings.Join(Reorder(fs, strings.Fields(tc.in)), " "); got != tc.want {
			t.Errorf("Reorder(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
