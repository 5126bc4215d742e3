package diagram

import "math"

// colour is an RGB colour, written #rrggbb in SVG and DOT.
type colour struct{ r, g, b uint8 }

func (c colour) hex() string {
	const digits = "0123456789abcdef"
	return string([]byte{'#', digits[c.r>>4], digits[c.r&15], digits[c.g>>4], digits[c.g&15], digits[c.b>>4], digits[c.b&15]})
}

// palette gives each family its fill and border.
var palette = map[Family][2]colour{
	Input:  {{0xee, 0xee, 0xee}, {0x80, 0x80, 0x80}},
	Conv:   {{0xdb, 0xe9, 0xf6}, {0x3f, 0x6f, 0xa8}},
	Pool:   {{0xfd, 0xe6, 0xcf}, {0xc0, 0x72, 0x26}},
	Norm:   {{0xec, 0xe3, 0xf5}, {0x80, 0x62, 0xa6}},
	Act:    {{0xf7, 0xf7, 0xf7}, {0xa0, 0xa0, 0xa0}},
	FC:     {{0xdc, 0xf1, 0xdc}, {0x47, 0x94, 0x47}},
	Join:   {{0xff, 0xf3, 0xbf}, {0xb0, 0x92, 0x10}},
	Output: {{0xf8, 0xd9, 0xd9}, {0xaa, 0x44, 0x44}},
	Block:  {{0xd8, 0xee, 0xf0}, {0x2f, 0x7c, 0x8c}},
	Other:  {{0xff, 0xff, 0xff}, {0x70, 0x70, 0x70}},
}

var (
	ink       = colour{0x1a, 0x1a, 0x1a} // a box's first line
	greyInk   = colour{0x55, 0x55, 0x55} // its other lines, edges
	skipInk   = colour{0xd0, 0x5a, 0x00} // residual shortcuts
	auxInk    = colour{0x77, 0x77, 0x77}
	paper     = colour{0xff, 0xff, 0xff}
	frameFill = colour{0xf6, 0xf8, 0xfa} // a block call's frame
	frameInk  = colour{0x8a, 0x96, 0xa3}
	headSize  = 12.0 // captions
)

// cards is how many cards a grouped conv's box is drawn as (its groups,
// at most four): the lecture's towers.
func cards(groups int) int { return min(groups, 4) }

const cardOffset = 4.0

// roundPath turns a polyline into path segments with rounded corners:
// for every interior point, the line stops r before it and a quadratic
// curve goes round it.
type segment struct {
	quad     bool
	ctrl, to Point
}

func roundPath(pts []Point, r float64) []segment {
	var segs []segment
	for i := 1; i < len(pts); i++ {
		if i == len(pts)-1 {
			segs = append(segs, segment{to: pts[i]})
			continue
		}
		a, b, c := pts[i-1], pts[i], pts[i+1]
		r1 := min(r, dist(a, b)/2, dist(b, c)/2)
		segs = append(segs, segment{to: toward(b, a, r1)}, segment{quad: true, ctrl: b, to: toward(b, c, r1)})
	}
	return segs
}

func dist(a, b Point) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }

// toward is the point d away from a in the direction of b.
func toward(a, b Point, d float64) Point {
	l := dist(a, b)
	if l == 0 {
		return a
	}
	return Point{a.X + (b.X-a.X)*d/l, a.Y + (b.Y-a.Y)*d/l}
}
