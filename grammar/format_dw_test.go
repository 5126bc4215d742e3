package grammar

import "testing"

// TestFormatDepthwise: cnnc fmt prints dwconv, gap HxW and fc nobias as
// written, spaced canonically.
func TestFormatDepthwise(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"dwconv   3x3 s2  p1 nobias->relu\n", "dwconv 3x3 s2 p1 nobias -> relu\n"},
		{"dwconv 5x5 p same d2->gap 2x2 ->fc 10 nobias\n", "dwconv 5x5 p same d2 -> gap 2x2 -> fc 10 nobias\n"},
		{"gap 7->gap\n", "gap 7 -> gap\n"},
	} {
		f, err := Parse("t.cnn", []byte(tc.in))
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := string(Format(f)); got != tc.want {
			t.Errorf("Format(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
		}
	}
}
