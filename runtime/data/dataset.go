package data

import (
	"errors"
	"fmt"
)

// Shape is the network's input size of one sample: channels, height, width.
type Shape struct{ C, H, W int }

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d (HxWxC)", s.H, s.W, s.C) }

// Size returns C*H*W.
func (s Shape) Size() int { return s.C * s.H * s.W }

// Normalize maps a pixel p in 0..255 of channel c to (p/255 - Mean[c]) /
// Std[c] in float32, as PyTorch's ToTensor followed by Normalize. A
// one-element Mean or Std applies to every channel; nil Mean means 0 and nil
// Std means 1 (pixels scaled to [0,1] only).
type Normalize struct {
	Mean, Std []float32
}

// MNISTNorm is the classic MNIST normalisation of the PyTorch examples.
var MNISTNorm = Normalize{Mean: []float32{0.1307}, Std: []float32{0.3081}}

// ImageNetNorm is torchvision's RGB normalisation for ImageNet models.
var ImageNetNorm = Normalize{Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}

// NormFor is the normalisation cnnc train uses for c channels: ImageNetNorm
// for 3 (RGB), MNISTNorm for any other count. cnnc serve normalises images
// with it.
func NormFor(c int) Normalize {
	if c == 3 {
		return ImageNetNorm
	}
	return MNISTNorm
}

// table returns, per channel, the normalised value of each byte value.
func (n Normalize) table(c int) ([][256]float32, error) {
	get := func(v []float32, ch int, def float32, what string) (float32, error) {
		switch len(v) {
		case 0:
			return def, nil
		case 1:
			return v[0], nil
		case c:
			return v[ch], nil
		}
		return 0, fmt.Errorf("normalisation has %d %s values for %d channels", len(v), what, c)
	}
	t := make([][256]float32, c)
	for ch := range t {
		m, err := get(n.Mean, ch, 0, "mean")
		if err != nil {
			return nil, err
		}
		s, err := get(n.Std, ch, 1, "std")
		if err != nil {
			return nil, err
		}
		if !(s > 0) {
			return nil, fmt.Errorf("normalisation std %g for channel %d is not positive", s, ch)
		}
		for p := range t[ch] {
			t[ch][p] = (float32(p)/255 - m) / s
		}
	}
	return t, nil
}

// Dataset is N labelled samples of one Shape, as float32 NCHW.
type Dataset struct {
	Shape
	N       int
	X       []float32 // N*C*H*W normalised pixels
	Y       []int32   // N labels in 0..Classes-1
	Classes int
	Names   []string  // class names (image folders), or nil
	Fill    []float32 // per channel, the normalised value of a black pixel: padding for augmentation
}

// New builds a Dataset from bytes: pix holds n samples of shape s, each
// either CHW (hwc false) or HWC (hwc true, as in image files and 4-d idx
// files); labels are checked against classes.
func New(pix []uint8, hwc bool, s Shape, labels []uint8, classes int, norm Normalize) (*Dataset, error) {
	if s.C < 1 || s.H < 1 || s.W < 1 {
		return nil, fmt.Errorf("bad sample shape %s", s)
	}
	if classes < 1 || classes > 256 {
		return nil, fmt.Errorf("bad class count %d", classes)
	}
	n := len(labels)
	if len(pix) != n*s.Size() {
		return nil, fmt.Errorf("%d labels and %d pixels: want %d pixels of %s each", n, len(pix), s.Size(), s)
	}
	tab, err := norm.table(s.C)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Shape: s, N: n, X: make([]float32, len(pix)), Y: make([]int32, n), Classes: classes, Fill: make([]float32, s.C)}
	for c := range d.Fill {
		d.Fill[c] = tab[c][0]
	}
	for i, l := range labels {
		if int(l) >= classes {
			return nil, fmt.Errorf("label %d of sample %d is out of range for %d classes (0..%d)", l, i, classes, classes-1)
		}
		d.Y[i] = int32(l)
	}
	hw := s.H * s.W
	for i := 0; i < n; i++ {
		src, dst := pix[i*s.Size():(i+1)*s.Size()], d.X[i*s.Size():(i+1)*s.Size()]
		for c := 0; c < s.C; c++ {
			t := &tab[c]
			out := dst[c*hw : (c+1)*hw]
			if hwc {
				for j := range out {
					out[j] = t[src[j*s.C+c]]
				}
			} else {
				for j, p := range src[c*hw : (c+1)*hw] {
					out[j] = t[p]
				}
			}
		}
	}
	return d, nil
}

// Split returns the first n samples and the rest as two datasets sharing d's
// memory (e.g. a validation split of a training set).
func (d *Dataset) Split(n int) (*Dataset, *Dataset, error) {
	if n < 0 || n > d.N {
		return nil, nil, fmt.Errorf("split at %d of %d samples", n, d.N)
	}
	a, b := *d, *d
	k := n * d.Size()
	a.N, a.X, a.Y = n, d.X[:k:k], d.Y[:n:n]
	b.N, b.X, b.Y = d.N-n, d.X[k:], d.Y[n:]
	return &a, &b, nil
}

// PadTo returns a copy of d with every image centred in an h x w canvas of
// Fill (the value of a black pixel), e.g. MNIST's 28x28 as the original
// LeNet-5's 32x32 input; an odd margin puts the extra pixel bottom/right.
func (d *Dataset) PadTo(h, w int) (*Dataset, error) {
	if h < d.H || w < d.W {
		return nil, fmt.Errorf("cannot pad %dx%d images to %dx%d", d.H, d.W, h, w)
	}
	p := *d
	p.Shape = Shape{d.C, h, w}
	p.X = make([]float32, d.N*p.Size())
	p.Y = append([]int32(nil), d.Y...)
	top, left := (h-d.H)/2, (w-d.W)/2
	for i := 0; i < d.N; i++ {
		for c := 0; c < d.C; c++ {
			dst := p.X[(i*d.C+c)*h*w : (i*d.C+c+1)*h*w]
			for j := range dst {
				dst[j] = d.Fill[c]
			}
			src := d.X[(i*d.C+c)*d.H*d.W:]
			for y := 0; y < d.H; y++ {
				copy(dst[(top+y)*w+left:(top+y)*w+left+d.W], src[y*d.W:(y+1)*d.W])
			}
		}
	}
	return &p, nil
}

// Augment describes random augmentation, applied per sample by a Loader.
type Augment struct {
	// Pad > 0 shifts each image by dx, dy drawn uniformly from -Pad..Pad
	// and fills the uncovered pixels with Dataset.Fill: torchvision's
	// RandomCrop(size, padding=Pad) on a zero-padded image.
	Pad int
	// Mirror flips each image horizontally with probability 1/2 (after the
	// shift, as RandomCrop followed by RandomHorizontalFlip).
	Mirror bool
}

// LoaderConfig configures Dataset.Loader.
type LoaderConfig struct {
	BatchSize int
	Seed      uint64
	Shuffle   bool // a new random order every epoch; otherwise 0..N-1
	DropLast  bool // skip the last batch of an epoch if it is short
	Augment   Augment
}

// Loader iterates over a Dataset in mini-batches. It is not safe for
// concurrent use.
type Loader struct {
	d          *Dataset
	cfg        LoaderConfig
	perm       []int32
	pos, epoch int
	epochRNG   uint64 // shuffle RNG state before this epoch's shuffle
	shuffle    rng
	aug        rng
}

// Loader returns a Loader positioned at the start of epoch 0.
func (d *Dataset) Loader(cfg LoaderConfig) (*Loader, error) {
	if cfg.BatchSize < 1 {
		return nil, fmt.Errorf("batch size %d, want at least 1", cfg.BatchSize)
	}
	if p := cfg.Augment.Pad; p < 0 || p >= d.H || p >= d.W {
		return nil, fmt.Errorf("augmentation pad %d for %dx%d images, want 0..%d", p, d.H, d.W, min(d.H, d.W)-1)
	}
	l := &Loader{d: d, cfg: cfg, perm: make([]int32, d.N),
		shuffle: rng{seedState(cfg.Seed, 1)}, aug: rng{seedState(cfg.Seed, 2)}}
	l.startEpoch()
	return l, nil
}

func (l *Loader) startEpoch() {
	l.epochRNG = l.shuffle.s
	for i := range l.perm {
		l.perm[i] = int32(i)
	}
	if l.cfg.Shuffle {
		for i := len(l.perm) - 1; i > 0; i-- {
			j := l.shuffle.intn(i + 1)
			l.perm[i], l.perm[j] = l.perm[j], l.perm[i]
		}
	}
	l.pos = 0
}

// Epoch returns the number of the epoch that the next batch belongs to.
func (l *Loader) Epoch() int { return l.epoch }

// Next writes the next mini-batch into x (BatchSize*C*H*W values) and y
// (BatchSize labels) and returns the number of samples written, which is
// BatchSize except for the last batch of an epoch. At the end of an epoch it
// returns 0, and the following call begins the next epoch. Buffers too
// small for a batch are an error. It allocates nothing.
func (l *Loader) Next(x []float32, y []int32) (int, error) {
	b, size := l.cfg.BatchSize, l.d.Size()
	if len(x) < b*size || len(y) < b {
		return 0, fmt.Errorf("batch buffers hold %d values and %d labels, a batch of %d needs %d and %d", len(x), len(y), b, b*size, b)
	}
	n := min(b, l.d.N-l.pos)
	if n <= 0 || n < b && l.cfg.DropLast {
		l.epoch++
		l.startEpoch()
		return 0, nil
	}
	for i := 0; i < n; i++ {
		s := int(l.perm[l.pos+i])
		l.copySample(x[i*size:(i+1)*size], l.d.X[s*size:(s+1)*size])
		y[i] = l.d.Y[s]
	}
	l.pos += n
	return n, nil
}

// copySample copies one CHW sample, shifted and mirrored as drawn from the
// augmentation RNG (dx, dy, then the flip, each only when enabled).
func (l *Loader) copySample(dst, src []float32) {
	a := l.cfg.Augment
	if a.Pad == 0 && !a.Mirror {
		copy(dst, src)
		return
	}
	dx, dy, flip := 0, 0, false
	if a.Pad > 0 {
		dx = l.aug.intn(2*a.Pad+1) - a.Pad
		dy = l.aug.intn(2*a.Pad+1) - a.Pad
	}
	if a.Mirror {
		flip = l.aug.intn(2) == 1
	}
	shiftFlip(dst, src, l.d.Shape, l.d.Fill, dx, dy, flip)
}

// shiftFlip sets dst[c][y][x] = src[c][y+dy][x'+dx] with x' = W-1-x when
// flip and x otherwise, and Fill[c] where that is outside the image.
func shiftFlip(dst, src []float32, s Shape, fill []float32, dx, dy int, flip bool) {
	for c := 0; c < s.C; c++ {
		f := fill[c]
		for y := 0; y < s.H; y++ {
			out := dst[(c*s.H+y)*s.W : (c*s.H+y+1)*s.W]
			sy := y + dy
			if sy < 0 || sy >= s.H {
				for x := range out {
					out[x] = f
				}
				continue
			}
			in := src[(c*s.H+sy)*s.W : (c*s.H+sy+1)*s.W]
			for x := range out {
				sx := x
				if flip {
					sx = s.W - 1 - x
				}
				sx += dx
				if sx < 0 || sx >= s.W {
					out[x] = f
				} else {
					out[x] = in[sx]
				}
			}
		}
	}
}

// LoaderState is everything needed to resume a Loader exactly: store it in
// a checkpoint (MarshalText gives a one-line string for safetensors
// metadata) and pass it to Restore.
type LoaderState struct {
	N, BatchSize      int    // checked on Restore
	Shuffle, DropLast bool   // checked on Restore
	Pad               int    // checked on Restore
	Mirror            bool   // checked on Restore
	Epoch, Pos        int    // position within the epoch's order
	EpochRNG          uint64 // shuffle RNG before this epoch's shuffle
	AugRNG            uint64 // augmentation RNG now
}

// State returns the Loader's position and RNG states.
func (l *Loader) State() LoaderState {
	c := l.cfg
	return LoaderState{N: l.d.N, BatchSize: c.BatchSize, Shuffle: c.Shuffle, DropLast: c.DropLast, Pad: c.Augment.Pad, Mirror: c.Augment.Mirror,
		Epoch: l.epoch, Pos: l.pos, EpochRNG: l.epochRNG, AugRNG: l.aug.s}
}

// Restore puts the Loader where State was taken. The Loader must be over a
// dataset of the same size with the same configuration (the seed aside).
func (l *Loader) Restore(s LoaderState) error {
	if s.N != l.d.N || s.BatchSize != l.cfg.BatchSize {
		return fmt.Errorf("loader state is for %d samples in batches of %d, loader has %d in batches of %d", s.N, s.BatchSize, l.d.N, l.cfg.BatchSize)
	}
	c := l.cfg
	if s.Shuffle != c.Shuffle || s.DropLast != c.DropLast || s.Pad != c.Augment.Pad || s.Mirror != c.Augment.Mirror {
		return fmt.Errorf("loader state has shuffle %v, drop-last %v, pad %d, mirror %v; loader has %v, %v, %d, %v",
			s.Shuffle, s.DropLast, s.Pad, s.Mirror, c.Shuffle, c.DropLast, c.Augment.Pad, c.Augment.Mirror)
	}
	if s.Pos < 0 || s.Pos > s.N || s.Epoch < 0 {
		return fmt.Errorf("loader state position %d of epoch %d is invalid", s.Pos, s.Epoch)
	}
	l.shuffle.s = s.EpochRNG
	l.startEpoch()
	l.epoch, l.pos, l.aug.s = s.Epoch, s.Pos, s.AugRNG
	return nil
}

const stateFormat = "loader/v1 n=%d batch=%d shuffle=%t droplast=%t pad=%d mirror=%t epoch=%d pos=%d rng=%016x aug=%016x"

// MarshalText encodes the state as one line of text.
func (s LoaderState) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, stateFormat, s.N, s.BatchSize, s.Shuffle, s.DropLast, s.Pad, s.Mirror, s.Epoch, s.Pos, s.EpochRNG, s.AugRNG), nil
}

// UnmarshalText decodes what MarshalText wrote.
func (s *LoaderState) UnmarshalText(b []byte) error {
	var t LoaderState
	n, err := fmt.Sscanf(string(b), stateFormat, &t.N, &t.BatchSize, &t.Shuffle, &t.DropLast, &t.Pad, &t.Mirror, &t.Epoch, &t.Pos, &t.EpochRNG, &t.AugRNG)
	if err != nil || n != 10 {
		return errors.New("bad loader state " + fmt.Sprintf("%q", b) + ", want " + fmt.Sprintf("%q", stateFormat))
	}
	if back, _ := t.MarshalText(); string(back) != string(b) {
		return fmt.Errorf("bad loader state %q (not in canonical form)", b)
	}
	*s = t
	return nil
}
