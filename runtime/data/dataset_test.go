package data

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// synth returns n samples of shape s whose pixels are all distinct, so that
// a sample and its position can be recognised after augmentation.
func synth(n int, s Shape, classes int) *Dataset {
	d := &Dataset{Shape: s, N: n, X: make([]float32, n*s.Size()), Y: make([]int32, n), Classes: classes, Fill: make([]float32, s.C)}
	for i := range d.X {
		d.X[i] = float32(i + 1)
	}
	for c := range d.Fill {
		d.Fill[c] = -1
	}
	for i := range d.Y {
		d.Y[i] = int32(i % classes)
	}
	return d
}

type batch struct {
	X []float32
	Y []int32
}

// run collects the next k batches (epoch ends included, as empty batches).
func run(t *testing.T, l *Loader, k int) []batch {
	t.Helper()
	size := l.d.Size()
	x, y := make([]float32, l.cfg.BatchSize*size), make([]int32, l.cfg.BatchSize)
	var out []batch
	for i := 0; i < k; i++ {
		n, err := l.Next(x, y)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, batch{append([]float32{}, x[:n*size]...), append([]int32{}, y[:n]...)})
	}
	return out
}

func TestLoaderOrder(t *testing.T) {
	d := synth(10, Shape{1, 2, 2}, 10)
	// Without shuffling: 0..N-1 in batches of 4, a short last batch, then 0.
	l, err := d.Loader(LoaderConfig{BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	var ys [][]int32
	for _, b := range run(t, l, 8) {
		ys = append(ys, b.Y)
	}
	want := [][]int32{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}, {}, {0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}, {}}
	if !reflect.DeepEqual(ys, want) || l.Epoch() != 2 {
		t.Errorf("batches %v (epoch %d), want %v", ys, l.Epoch(), want)
	}
	l, _ = d.Loader(LoaderConfig{BatchSize: 4, DropLast: true})
	if got := run(t, l, 3); len(got[2].Y) != 0 || len(got[1].Y) != 4 {
		t.Errorf("DropLast: %v", got)
	}
	// Shuffled: each epoch a permutation, different between epochs and
	// seeds, the same for the same seed.
	perm := func(seed uint64, epochs int) [][]int32 {
		l, _ := d.Loader(LoaderConfig{BatchSize: 3, Shuffle: true, Seed: seed})
		var out [][]int32
		var cur []int32
		for _, b := range run(t, l, 5*epochs) {
			if len(b.Y) == 0 {
				out, cur = append(out, cur), nil
				continue
			}
			for j, v := range b.Y {
				if int(v) != int(b.X[j*4]-1)/4 {
					t.Fatalf("label %d does not go with image %v", v, b.X[j*4:j*4+4])
				}
			}
			cur = append(cur, b.Y...)
		}
		return out
	}
	a, b, c := perm(1, 3), perm(1, 3), perm(2, 3)
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed gave different orders")
	}
	if reflect.DeepEqual(a, c) || reflect.DeepEqual(a[0], a[1]) {
		t.Errorf("orders do not change: seed 1 %v, seed 2 %v", a, c)
	}
	for _, p := range a {
		seen := map[int32]bool{}
		for _, v := range p {
			seen[v] = true
		}
		if len(p) != 10 || len(seen) != 10 {
			t.Errorf("epoch order %v is not a permutation", p)
		}
	}
}

// TestShuffleUniform checks that each sample lands in each position about
// equally often.
func TestShuffleUniform(t *testing.T) {
	const n, epochs = 5, 20000
	d := synth(n, Shape{1, 1, 1}, n)
	l, _ := d.Loader(LoaderConfig{BatchSize: n, Shuffle: true, Seed: 7})
	var count [n][n]int
	x, y := make([]float32, n), make([]int32, n)
	for e := 0; e < epochs; e++ {
		l.Next(x, y)
		for pos, v := range y {
			count[pos][v]++
		}
		l.Next(x, y) // end of epoch
	}
	for pos := range count {
		for v, c := range count[pos] {
			if c < epochs/n*9/10 || c > epochs/n*11/10 {
				t.Errorf("sample %d at position %d %d times in %d epochs", v, pos, c, epochs)
			}
		}
	}
}

func TestLoaderResume(t *testing.T) {
	d := synth(23, Shape{2, 5, 4}, 3)
	cfg := LoaderConfig{BatchSize: 5, Shuffle: true, Seed: 42, Augment: Augment{Pad: 2, Mirror: true}}
	ref, _ := d.Loader(cfg)
	all := run(t, ref, 40) // 6 batches per epoch with the end marker
	for _, stop := range []int{0, 1, 5, 6, 7, 13, 20} {
		l, _ := d.Loader(cfg)
		run(t, l, stop)
		text, err := l.State().MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		// A fresh loader restored from the text continues exactly.
		var s LoaderState
		if err := s.UnmarshalText(text); err != nil {
			t.Fatal(err)
		}
		l2, _ := d.Loader(cfg)
		run(t, l2, 3) // somewhere else
		if err := l2.Restore(s); err != nil {
			t.Fatal(err)
		}
		if got := run(t, l2, 40-stop); !reflect.DeepEqual(got, all[stop:]) {
			t.Errorf("resumed after %d batches (%s): batches differ", stop, text)
		}
	}
	// Bad states are errors.
	s := ref.State()
	other := synth(24, Shape{2, 5, 4}, 3)
	l, _ := other.Loader(cfg)
	if err := l.Restore(s); err == nil {
		t.Error("state of another dataset accepted")
	}
	s.Pos = 99
	if err := ref.Restore(s); err == nil {
		t.Error("state with a position beyond the dataset accepted")
	}
	s.Pos = 0
	l, _ = d.Loader(LoaderConfig{BatchSize: 5, Shuffle: true, Seed: 42, Augment: Augment{Pad: 1, Mirror: true}})
	if err := l.Restore(s); err == nil || !strings.Contains(err.Error(), "pad 2") {
		t.Errorf("state of another augmentation accepted: %v", err)
	}
	const good = "loader/v1 n=23 batch=5 shuffle=true droplast=false pad=2 mirror=true epoch=0 pos=0 rng=0000000000000000 aug=0000000000000000"
	if err := s.UnmarshalText([]byte(good)); err != nil {
		t.Errorf("UnmarshalText(%q): %v", good, err)
	}
	for _, bad := range []string{"", "loader/v1 n=1", strings.Replace(good, "rng=0000000000000000", "rng=00000000000000zz", 1),
		good + " extra", strings.Replace(good, "n=23", "n=023", 1)} {
		if err := s.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) succeeded", bad)
		}
	}
}

func TestLoaderErrors(t *testing.T) {
	d := synth(4, Shape{1, 3, 3}, 2)
	for _, cfg := range []LoaderConfig{{BatchSize: 0}, {BatchSize: 1, Augment: Augment{Pad: 3}}, {BatchSize: 1, Augment: Augment{Pad: -1}}} {
		if _, err := d.Loader(cfg); err == nil {
			t.Errorf("Loader(%+v) succeeded", cfg)
		}
	}
	l, _ := d.Loader(LoaderConfig{BatchSize: 2})
	if _, err := l.Next(make([]float32, 17), make([]int32, 2)); err == nil {
		t.Error("Next with a short image buffer succeeded")
	}
	if _, err := l.Next(make([]float32, 18), make([]int32, 1)); err == nil {
		t.Error("Next with a short label buffer succeeded")
	}
	if _, _, err := d.Split(5); err == nil {
		t.Error("Split beyond N succeeded")
	}
	a, b, err := d.Split(1)
	if err != nil || a.N != 1 || b.N != 3 || b.Y[0] != d.Y[1] || b.X[0] != d.X[9] || len(a.X) != 9 {
		t.Errorf("Split(1) = %+v, %+v, %v", a, b, err)
	}
}

func TestLoaderNoAllocs(t *testing.T) {
	d := synth(50, Shape{3, 8, 8}, 5)
	l, _ := d.Loader(LoaderConfig{BatchSize: 8, Shuffle: true, Augment: Augment{Pad: 2, Mirror: true}})
	x, y := make([]float32, 8*d.Size()), make([]int32, 8)
	if a := testing.AllocsPerRun(100, func() { l.Next(x, y) }); a != 0 {
		t.Errorf("Next allocates %g times per batch", a)
	}
}

// recognise finds the shift and flip that turn src into got, or ok false.
func recognise(got, src []float32, s Shape, fill []float32, pad int) (dx, dy int, flip, ok bool) {
	buf := make([]float32, len(src))
	for _, f := range []bool{false, true} {
		for dy := -pad; dy <= pad; dy++ {
			for dx := -pad; dx <= pad; dx++ {
				shiftFlip(buf, src, s, fill, dx, dy, f)
				if reflect.DeepEqual(buf, got) {
					return dx, dy, f, true
				}
			}
		}
	}
	return 0, 0, false, false
}

func TestShiftFlip(t *testing.T) {
	s := Shape{1, 2, 3}
	src := []float32{1, 2, 3, 4, 5, 6}
	dst := make([]float32, 6)
	for _, c := range []struct {
		dx, dy int
		flip   bool
		want   []float32
	}{
		{0, 0, false, []float32{1, 2, 3, 4, 5, 6}},
		{0, 0, true, []float32{3, 2, 1, 6, 5, 4}},
		{1, 0, false, []float32{2, 3, 0, 5, 6, 0}},
		{-1, 1, false, []float32{0, 4, 5, 0, 0, 0}},
		{1, 0, true, []float32{0, 3, 2, 0, 6, 5}}, // shift, then mirror
	} {
		shiftFlip(dst, src, s, []float32{0}, c.dx, c.dy, c.flip)
		if !reflect.DeepEqual(dst, c.want) {
			t.Errorf("dx %d dy %d flip %v: %v, want %v", c.dx, c.dy, c.flip, dst, c.want)
		}
	}
}

func TestAugment(t *testing.T) {
	const pad = 2
	d := synth(40, Shape{3, 6, 5}, 4)
	l, _ := d.Loader(LoaderConfig{BatchSize: 8, Shuffle: true, Seed: 3, Augment: Augment{Pad: pad, Mirror: true}})
	seen := map[string]int{}
	flips, total := 0, 0
	for _, b := range run(t, l, 6*50) {
		for i := range b.Y {
			got := b.X[i*d.Size() : (i+1)*d.Size()]
			k := int(got[3*5+2]-1) / d.Size() // channel 0's centre pixel is always inside
			if k < 0 || k >= d.N || d.Y[k] != b.Y[i] {
				t.Fatalf("sample with label %d not recognised (k=%d)", b.Y[i], k)
			}
			dx, dy, flip, ok := recognise(got, d.X[k*d.Size():(k+1)*d.Size()], d.Shape, d.Fill, pad)
			if !ok {
				t.Fatalf("sample %d is no shift/mirror of its source: %v", k, got)
			}
			seen[fmt.Sprint(dx, dy, flip)]++
			total++
			if flip {
				flips++
			}
		}
	}
	if len(seen) != (2*pad+1)*(2*pad+1)*2 {
		t.Errorf("%d of %d shift/flip combinations seen in %d samples", len(seen), (2*pad+1)*(2*pad+1)*2, total)
	}
	if flips < total*45/100 || flips > total*55/100 {
		t.Errorf("%d of %d samples mirrored", flips, total)
	}
	// Same seed, same augmentation; the source data is untouched.
	l1, _ := d.Loader(LoaderConfig{BatchSize: 8, Shuffle: true, Seed: 3, Augment: Augment{Pad: pad, Mirror: true}})
	l2, _ := d.Loader(LoaderConfig{BatchSize: 8, Shuffle: true, Seed: 3, Augment: Augment{Pad: pad, Mirror: true}})
	if !reflect.DeepEqual(run(t, l1, 12), run(t, l2, 12)) {
		t.Error("same seed, different augmentation")
	}
	if d.X[0] != 1 || d.X[len(d.X)-1] != float32(len(d.X)) {
		t.Error("augmentation changed the dataset")
	}
}

// TestAugmentMNISTEpoch checks every sample of augmented MNIST epochs: the
// shuffle stream does not depend on augmentation, so a plain loader with the
// same seed gives each sample's source, and each augmented sample must be a
// shift/mirror of it. The default run checks 2000 test samples; set
// CNNC_DATA_LONG=1 for a whole epoch of the 60000 training samples.
func TestAugmentMNISTEpoch(t *testing.T) {
	train, limit := false, 2000
	if os.Getenv("CNNC_DATA_LONG") != "" {
		train, limit = true, 60000
	}
	d, err := LoadMNIST(mnistDir(t), train)
	if err != nil {
		t.Fatal(err)
	}
	cfg := LoaderConfig{BatchSize: 100, Shuffle: true, Seed: 1}
	plain, _ := d.Loader(cfg)
	cfg.Augment = Augment{Pad: 2, Mirror: true}
	aug, _ := d.Loader(cfg)
	x, y := make([]float32, 100*784), make([]int32, 100)
	px, py := make([]float32, 100*784), make([]int32, 100)
	for done := 0; done < limit; {
		n, err := aug.Next(x, y)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := plain.Next(px, py)
		if n != m || !reflect.DeepEqual(y[:n], py[:m]) {
			t.Fatalf("augmented and plain loaders disagree on the order after %d samples", done)
		}
		if n == 0 {
			break
		}
		for i := 0; i < n; i++ {
			if _, _, _, ok := recognise(x[i*784:(i+1)*784], px[i*784:(i+1)*784], d.Shape, d.Fill, 2); !ok {
				t.Fatalf("sample %d of the epoch is no shift/mirror of its source", done+i)
			}
		}
		done += n
	}
}

// TestAugmentTorchvision compares a shift and mirror of MNIST test image 0
// with torchvision's pad/crop/hflip/ToTensor/Normalize of the same image
// (testdata/torchvision_aug.json, from testdata/torchvision_aug.py).
func TestAugmentTorchvision(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "torchvision_aug.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		I, J int
		Flip bool
		Bits string
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	d, err := LoadMNIST(mnistDir(t), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	dst := make([]float32, 784)
	for _, c := range cases {
		shiftFlip(dst, d.X[:784], d.Shape, d.Fill, c.J-2, c.I-2, c.Flip)
		for k := range dst {
			want, _ := strconv.ParseUint(c.Bits[8*k:8*k+8], 16, 32)
			if math.Float32bits(dst[k]) != uint32(want) {
				t.Fatalf("crop at (%d,%d) flip %v: pixel %d = %g, torchvision %g", c.I, c.J, c.Flip, k, dst[k], math.Float32frombits(uint32(want)))
			}
		}
	}
}

func TestPadTo(t *testing.T) {
	d := synth(2, Shape{2, 2, 3}, 2)
	p, err := d.PadTo(4, 4)
	if err != nil {
		t.Fatal(err)
	}
	f := float32(-1)
	want := []float32{ // sample 0, channel 0 then 1: rows 1-2, columns 0-2
		f, f, f, f, 1, 2, 3, f, 4, 5, 6, f, f, f, f, f,
		f, f, f, f, 7, 8, 9, f, 10, 11, 12, f, f, f, f, f,
	}
	if p.Shape != (Shape{2, 4, 4}) || p.N != 2 || !reflect.DeepEqual(p.X[:32], want) || p.X[32+4] != 13 || !reflect.DeepEqual(p.Y, d.Y) {
		t.Errorf("PadTo: %v %v", p.Shape, p.X[:32])
	}
	if _, err := d.PadTo(1, 4); err == nil {
		t.Error("PadTo a smaller size succeeded")
	}
	m, err := LoadMNIST(mnistDir(t), false)
	if err != nil {
		t.Fatal(err)
	}
	m32, err := m.PadTo(32, 32)
	if err != nil {
		t.Fatal(err)
	}
	if m32.X[0] != m.Fill[0] || m32.X[2*32+2+7*32+14] != m.X[7*28+14] || m32.Size() != 1024 {
		t.Error("MNIST padded to 32x32 is not centred")
	}
}
