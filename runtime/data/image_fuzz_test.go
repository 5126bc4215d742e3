package data

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// FuzzAppendImage: any bytes are an image of exactly the asked size, or an
// error; never a panic, never pixels of another count.
func FuzzAppendImage(f *testing.F) {
	for _, s := range []Shape{{1, 4, 3}, {3, 4, 3}} {
		img := image.NewRGBA(image.Rect(0, 0, s.W, s.H))
		img.Set(1, 2, color.RGBA{200, 10, 30, 128})
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(s.C), b.Bytes())
		f.Add(uint8(s.C), b.Bytes()[:b.Len()/2])
	}
	f.Add(uint8(1), []byte{0xff, 0xd8, 0xff, 0xe0})
	f.Fuzz(func(t *testing.T, c uint8, b []byte) {
		s := Shape{C: int(c % 4), H: 4, W: 3}
		pix, err := AppendImage([]uint8{7}, bytes.NewReader(b), s)
		if err == nil && (len(pix) != 1+s.Size() || pix[0] != 7) {
			t.Fatalf("%d bytes for %s", len(pix), s)
		}
	})
}
