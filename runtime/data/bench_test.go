package data

import "testing"

// go test -run '^$' -bench . ./runtime/data

func BenchmarkLoadMNISTTrain(b *testing.B) {
	dir := mnistDir(b)
	for b.Loop() {
		if _, err := LoadMNIST(dir, true); err != nil {
			b.Fatal(err)
		}
	}
}

func benchLoader(b *testing.B, aug Augment) {
	d := synth(10000, MNISTShape, 10)
	l, err := d.Loader(LoaderConfig{BatchSize: 64, Shuffle: true, Augment: aug})
	if err != nil {
		b.Fatal(err)
	}
	x, y := make([]float32, 64*784), make([]int32, 64)
	samples := 0
	b.SetBytes(64 * 784 * 4)
	for b.Loop() {
		n, _ := l.Next(x, y)
		samples += n
	}
	b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkLoaderNext(b *testing.B)        { benchLoader(b, Augment{}) }
func BenchmarkLoaderNextAugment(b *testing.B) { benchLoader(b, Augment{Pad: 2, Mirror: true}) }
