package runtime

import (
	"fmt"
	"testing"
)

// Convs whose padding is wider than the input, so that whole kernel
// columns (or rows) read only padding: p same with a dilated or large kernel
// on small maps. Found by internal/netgen's TestGeneratedNetworksRun.
var convPaddingCases = []Conv{
	conv(1, 3, 3, 2, 5, 5, 1, 4, 2, 1, false), // 5x5 d2 p same on 3x3: pad 4
	conv(3, 2, 4, 4, 5, 5, 1, 2, 1, 1, true),  // 5x5 p same on 2x4
	conv(2, 1, 1, 3, 3, 3, 1, 1, 1, 1, false), // 3x3 p same on 1x1
	conv(2, 3, 3, 2, 1, 1, 1, 1, 2, 1, false), // 1x1 p1 (p same d2 of a 1x1 keeps p 0; p1 pads a ring)
	conv(2, 2, 2, 4, 3, 3, 2, 3, 1, 2, false), // strided, grouped, pad 3 on 2x2
	conv(2, 3, 2, 2, 3, 3, 3, 4, 2, 1, false), // stride 3, dilated, pad 4
}

func TestConvPaddingWiderThanInput(t *testing.T) {
	r := newRand(11)
	for ci, c := range convPaddingCases {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 2} {
			for mode, name := range []string{"plain", "packed", "indirect", "default"} {
				n := []int{3, 1}[(ci+mode)%2]
				t.Run(fmt.Sprintf("%d/w%d/%s/n%d", ci, workers, name, n), func(t *testing.T) {
					defer SetWorkers(SetWorkers(workers))
					defer parallelConvs()()
					defer func(oldP, oldI, oldR, oldM, oldA bool) {
						convPacked, convIndirect, convRows, convImages, convUnpackedA = oldP, oldI, oldR, oldM, oldA
					}(convPacked, convIndirect, convRows, convImages, convUnpackedA)
					convPacked, convIndirect, convRows, convImages, convUnpackedA = mode > 0, mode > 1, mode > 1, mode == 1 || mode == 3, mode > 1
					testConvFastVsRef(t, r, c, n)
				})
			}
		}
	}
}
