package op

import "testing"

// TestWindow holds the output-size rule against values PyTorch gives.
func TestWindow(t *testing.T) {
	for _, tc := range []struct {
		in, k, s, p, d int
		ceil           bool
		want           int
	}{
		{227, 11, 4, 0, 1, false, 55},
		{55, 3, 2, 0, 1, false, 27},
		{112, 3, 2, 0, 1, true, 56}, // GoogLeNet's ceil-mode pool
		{110, 3, 2, 0, 1, true, 55}, // ZFNet pool1
		{6, 2, 2, 1, 1, true, 4},    // last window starts in the padding: kept
		{5, 2, 2, 1, 1, true, 3},    // would start past input+pad: dropped
		{14, 5, 3, 0, 1, true, 4},   // GoogLeNet aux avgpool
		{7, 3, 1, 0, 3, false, 1},   // dilation 3: effective 7
		{4, 3, 1, 0, 3, false, 0},   // does not fit
		{224, 3, 1, 1, 1, false, 224},
	} {
		if got := window(tc.in, tc.k, tc.s, tc.p, tc.d, tc.ceil); got != tc.want {
			t.Errorf("window(in %d, k %d, s %d, p %d, d %d, ceil %v) = %d, want %d", tc.in, tc.k, tc.s, tc.p, tc.d, tc.ceil, got, tc.want)
		}
	}
}

func TestGroupHint(t *testing.T) {
	if h := groupHint(256, 384); h != "groups must divide both 256 (input) and 384 (filters); try g2 or g4 or g8 or g16" {
		t.Errorf("groupHint: %s", h)
	}
	if h := groupHint(10, 4); h != "groups must divide both 10 (input) and 4 (filters); try g2" {
		t.Errorf("groupHint: %s", h)
	}
	if h := groupHint(7, 5); h != "groups must divide both 7 (input) and 5 (filters); only g1 does" {
		t.Errorf("groupHint: %s", h)
	}
}
