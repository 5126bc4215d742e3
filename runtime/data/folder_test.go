package data

import (
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func savePNG(t *testing.T, p string, img image.Image) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(p, ".jpg") {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 100})
	} else {
		err = png.Encode(f, img)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// rgbImage is a w x h image whose pixel (x, y) is (base+x, base+y, base+x+y).
func rgbImage(w, h, base int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(base + x), uint8(base + y), uint8(base + x + y), 255})
		}
	}
	return img
}

func TestImageFolder(t *testing.T) {
	root := t.TempDir()
	// Classes sorted by name: "bird" 0, "cat" 1, "dog" 2; files by name.
	savePNG(t, filepath.Join(root, "dog", "b.png"), rgbImage(4, 3, 100))
	savePNG(t, filepath.Join(root, "dog", "a.png"), rgbImage(4, 3, 50))
	savePNG(t, filepath.Join(root, "cat", "x.png"), rgbImage(4, 3, 10))
	gray := image.NewGray(image.Rect(0, 0, 4, 3))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 20)
	}
	savePNG(t, filepath.Join(root, "bird", "g.PNG"), gray)
	os.WriteFile(filepath.Join(root, "bird", ".DS_Store"), []byte("junk"), 0o644)
	os.WriteFile(filepath.Join(root, "README.txt"), []byte("ignored"), 0o644)

	d, err := LoadImageFolder(root, Options{Shape: Shape{3, 3, 4}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Names, []string{"bird", "cat", "dog"}) || d.Classes != 3 || d.N != 4 || !reflect.DeepEqual(d.Y, []int32{0, 1, 2, 2}) {
		t.Fatalf("names %v classes %d N %d labels %v", d.Names, d.Classes, d.N, d.Y)
	}
	px := func(n, c, y, x int) float32 { return d.X[((n*3+c)*3+y)*4+x] * 255 }
	near := func(a float32, b int) bool { return a-float32(b) < 0.01 && float32(b)-a < 0.01 }
	// Sample 2 is dog/a.png (base 50), sample 3 dog/b.png (base 100).
	for _, c := range []struct{ n, base int }{{1, 10}, {2, 50}, {3, 100}} {
		for y := 0; y < 3; y++ {
			for x := 0; x < 4; x++ {
				if !near(px(c.n, 0, y, x), c.base+x) || !near(px(c.n, 1, y, x), c.base+y) || !near(px(c.n, 2, y, x), c.base+x+y) {
					t.Fatalf("sample %d pixel (%d,%d) = %g %g %g", c.n, x, y, px(c.n, 0, y, x), px(c.n, 1, y, x), px(c.n, 2, y, x))
				}
			}
		}
	}
	// A gray image in an RGB set has three equal channels.
	if !near(px(0, 0, 1, 2), 6*20) || !near(px(0, 2, 1, 2), 6*20) {
		t.Errorf("gray pixel = %g %g", px(0, 0, 1, 2), px(0, 2, 1, 2))
	}

	// Gray network input: luma, exact for gray files.
	g, err := LoadImageFolder(root, Options{Shape: Shape{1, 3, 4}, Classes: 3, Norm: MNISTNorm})
	if err != nil {
		t.Fatal(err)
	}
	want := (float32(6*20)/255 - 0.1307) / 0.3081
	if g.X[6] != want {
		t.Errorf("gray pixel %g, want %g", g.X[6], want)
	}
	r, gg, b := 10+2, 10+1, 10+3 // cat/x.png pixel (2,1)
	// ITU-R 601 luma on 16-bit channels, as documented (color.GrayModel).
	luma := (19595*r*0x101 + 38470*gg*0x101 + 7471*b*0x101 + 1<<15) >> 24
	if v := g.X[12+6]*0.3081 + 0.1307; !near(v*255, luma) {
		t.Errorf("RGB to gray: %g, want %d", v*255, luma)
	}

	// JPEG works too (lossy: compare loosely).
	jroot := t.TempDir()
	savePNG(t, filepath.Join(jroot, "a", "1.jpg"), rgbImage(8, 8, 60))
	j, err := LoadImageFolder(jroot, Options{Shape: Shape{3, 8, 8}})
	if err != nil {
		t.Fatal(err)
	}
	if v := j.X[0] * 255; v < 55 || v > 65 {
		t.Errorf("jpeg pixel %g, want about 60", v)
	}
}

func TestImageFolderErrors(t *testing.T) {
	opt := Options{Shape: Shape{1, 3, 4}}
	mk := func(files map[string]image.Image, extra ...string) string {
		root := t.TempDir()
		for name, img := range files {
			savePNG(t, filepath.Join(root, name), img)
		}
		for _, e := range extra {
			p := filepath.Join(root, e)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if strings.HasSuffix(e, "/") {
				os.MkdirAll(p, 0o755)
			} else {
				os.WriteFile(p, []byte("not an image"), 0o644)
			}
		}
		return root
	}
	good := rgbImage(4, 3, 0)
	for _, c := range []struct {
		name string
		root string
		opt  Options
		want string
	}{
		{"wrong size", mk(map[string]image.Image{"a/1.png": good, "a/2.png": rgbImage(5, 3, 0)}), opt, "2.png: image is 5x3 (WxH), network wants 4x3; resize the images beforehand"},
		{"not an image", mk(map[string]image.Image{"a/1.png": good}, "a/notes.txt"), opt, "notes.txt: not a .png, .jpg or .jpeg file"},
		{"broken png", mk(map[string]image.Image{"a/1.png": good}, "a/2.png"), opt, "2.png: image: unknown format"},
		{"nested dir", mk(map[string]image.Image{"a/1.png": good}, "a/sub/"), opt, "sub: not a .png"},
		{"empty class", mk(map[string]image.Image{"a/1.png": good}, "b/"), opt, `class "b" has no images`},
		{"no classes", mk(nil, "x.png"), opt, "no class directories"},
		{"class count", mk(map[string]image.Image{"a/1.png": good}), Options{Shape: Shape{1, 3, 4}, Classes: 10}, "1 class directories, network wants 10 classes"},
		{"channels", mk(map[string]image.Image{"a/1.png": good}), Options{Shape: Shape{4, 3, 4}}, "want C 1 or 3"},
	} {
		d, err := LoadImageFolder(c.root, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: LoadImageFolder = %v, %v; want error containing %q", c.name, d, err, c.want)
		}
	}
	if _, err := LoadImageFolder(filepath.Join(t.TempDir(), "none"), opt); !os.IsNotExist(err) {
		t.Errorf("missing root: %v", err)
	}
}
