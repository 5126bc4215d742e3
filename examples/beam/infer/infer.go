// Package infer is batch inference with a cnnc-generated package on Apache
// Beam: a pipeline that reads images (idx files or an image folder), runs
// LeNet-5 (github.com/cnnc-dev/cnnc/gen/lenet5) on them in batches of the
// package's size, and writes one CSV line per image: key, label, prediction.
//
// The pipeline is the same on every runner: Prism in-process for the tests,
// Flink, Spark or Dataflow in production (see the README). Files are read
// through Beam's filesystem package, so a path may be local or, with the
// filesystem's import in the binary (gs:// in ../main.go, through beamx), remote.
package infer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local paths
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/cnnc-dev/cnnc/gen/lenet5"
	"github.com/cnnc-dev/cnnc/runtime/data"
)

// Shape is the network's input; Classes its output.
var (
	Shape   = data.Shape{C: lenet5.InputC, H: lenet5.InputH, W: lenet5.InputW}
	Classes = lenet5.Classes
)

// Norm is the normalisation of the network's training data: MNIST's for
// one channel, ImageNet's for three, as train.LoadData (cnnc train) uses.
func Norm() data.Normalize {
	if Shape.C == 3 {
		return data.ImageNetNorm
	}
	return data.MNISTNorm
}

// Image is one input: its key (the sample's index in an idx file, the path
// under the root of a folder), its label, and its pixels as bytes, HWC.
type Image struct {
	Key   string
	Label int
	Pix   []byte
}

// Prediction is one output.
type Prediction struct {
	Key   string
	Label int
	Pred  int
}

// Config is one pipeline.
type Config struct {
	Images, Labels string   // idx files (gzipped or raw); or
	Folder         string   // an image folder: Folder/<class>/*.png|*.jpg|*.jpeg
	Classes        []string // the folder's class names, label i the i-th; empty: its sorted sub-directories (a local folder)
	Weights        string   // the network's weights (safetensors, Net.Save or cnnc weights)
	Batch          int      // images per Forward; 0: the recipe's
	Output         string   // the CSV file written
}

// Build adds the pipeline to s: read, predict, format, write.
func Build(s beam.Scope, cfg Config) error {
	if cfg.Weights == "" || cfg.Output == "" {
		return fmt.Errorf("weights and output are required")
	}
	if cfg.Batch == 0 {
		cfg.Batch = lenet5.New(1, 0).Program().Recipe.Batch
	}
	if cfg.Batch < 1 {
		return fmt.Errorf("batch %d: want at least 1", cfg.Batch)
	}
	var images beam.PCollection
	var names []string
	switch {
	case cfg.Folder != "" && cfg.Images == "" && cfg.Labels == "":
		names = cfg.Classes
		if len(names) == 0 {
			var err error
			if names, err = classDirs(cfg.Folder); err != nil {
				return err
			}
		}
		if len(names) != Classes {
			return fmt.Errorf("%s: %d classes, the network has %d", cfg.Folder, len(names), Classes)
		}
		images = ReadFolder(s.Scope("ReadFolder"), cfg.Folder, names)
	case cfg.Folder == "" && cfg.Images != "" && cfg.Labels != "":
		images = ReadIDX(s.Scope("ReadIDX"), cfg.Images, cfg.Labels)
	default:
		return fmt.Errorf("give either idx images and labels, or a folder")
	}
	// The readers emit from one file (idx) or in match order: a reshuffle
	// spreads the images over the workers.
	images = beam.Reshuffle(s, images)
	preds := beam.ParDo(s, &predictFn{Weights: cfg.Weights, Batch: cfg.Batch}, images)
	lines := beam.ParDo(s, &formatFn{Names: names}, preds)
	textio.Write(s, cfg.Output, lines)
	return nil
}

// classDirs lists root's sub-directories, sorted, as data.LoadImageFolder
// names the classes.
func classDirs(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// ReadIDX is the images of an idx image file with the labels of an idx
// label file, keyed by their index.
func ReadIDX(s beam.Scope, images, labels string) beam.PCollection {
	return beam.ParDo(s, &readIDXFn{Labels: labels}, beam.Create(s, images))
}

// ReadFolder is the images of root/<class>/*, keyed by their path under
// root, with label i for the i-th of names.
func ReadFolder(s beam.Scope, root string, names []string) beam.PCollection {
	matches := fileio.MatchFiles(s, strings.TrimSuffix(root, "/")+"/*/*")
	return beam.ParDo(s, &decodeFn{Root: root, Names: names}, fileio.ReadMatches(s, matches))
}

func init() {
	register.DoFn3x1[context.Context, string, func(Image), error](&readIDXFn{})
	register.DoFn3x1[context.Context, fileio.ReadableFile, func(Image), error](&decodeFn{})
	register.DoFn3x1[context.Context, Image, func(Prediction), error](&predictFn{})
	register.DoFn2x1[Prediction, func(string), error](&formatFn{})
	register.Emitter1[Image]()
	register.Emitter1[Prediction]()
	register.Emitter1[string]()
}

// openRead opens a file through Beam's filesystems.
func openRead(ctx context.Context, p string) (io.ReadCloser, func(), error) {
	fs, err := filesystem.New(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	r, err := fs.OpenRead(ctx, p)
	if err != nil {
		fs.Close()
		return nil, nil, err
	}
	return r, func() { r.Close(); fs.Close() }, nil
}

func readIDX(ctx context.Context, p string) (*data.IDX, error) {
	r, done, err := openRead(ctx, p)
	if err != nil {
		return nil, err
	}
	defer done()
	x, err := data.DecodeIDX(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return x, nil
}

type readIDXFn struct {
	Labels string
}

func (f *readIDXFn) ProcessElement(ctx context.Context, images string, emit func(Image)) error {
	return splitIDX(ctx, images, f.Labels, emit)
}

// splitIDX reads the two idx files and emits each image with its label,
// after checking them as data.LoadIDX does.
func splitIDX(ctx context.Context, images, labels string, emit func(Image)) error {
	im, err := readIDX(ctx, images)
	if err != nil {
		return err
	}
	lb, err := readIDX(ctx, labels)
	if err != nil {
		return err
	}
	var got data.Shape
	switch len(im.Dims) {
	case 3:
		got = data.Shape{C: 1, H: im.Dims[1], W: im.Dims[2]}
	case 4:
		got = data.Shape{C: im.Dims[3], H: im.Dims[1], W: im.Dims[2]}
	default:
		return fmt.Errorf("%s: %d dimensions %v, want an image file of 3 (N H W) or 4 (N H W C)", images, len(im.Dims), im.Dims)
	}
	if got != Shape {
		return fmt.Errorf("%s: images are %s, the network wants %s", images, got, Shape)
	}
	if len(lb.Dims) != 1 || lb.Dims[0] != im.Dims[0] {
		return fmt.Errorf("%s: labels %v, want one dimension of %d (the images of %s)", labels, lb.Dims, im.Dims[0], images)
	}
	size := Shape.Size()
	for i, l := range lb.Data {
		if int(l) >= Classes {
			return fmt.Errorf("%s: label %d of sample %d is out of range for %d classes", labels, l, i, Classes)
		}
		emit(Image{Key: strconv.Itoa(i), Label: int(l), Pix: im.Data[i*size : (i+1)*size : (i+1)*size]})
	}
	return nil
}

type decodeFn struct {
	Root  string
	Names []string
}

func (f *decodeFn) ProcessElement(ctx context.Context, file fileio.ReadableFile, emit func(Image)) error {
	p := file.Metadata.Path
	if strings.HasPrefix(path.Base(p), ".") {
		return nil // hidden files are skipped, as data.LoadImageFolder does
	}
	b, err := file.Read(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	img, err := decodeImage(f.Root, f.Names, p, b)
	if err != nil {
		return err
	}
	emit(img)
	return nil
}

// decodeImage is the image of file p (under root/<class>/) with contents b.
func decodeImage(root string, names []string, p string, b []byte) (Image, error) {
	rel := strings.TrimPrefix(strings.TrimPrefix(p, strings.TrimSuffix(root, "/")), "/")
	class := path.Dir(rel)
	label := -1
	for i, n := range names {
		if n == class {
			label = i
		}
	}
	if label < 0 {
		return Image{}, fmt.Errorf("%s: class %q is not one of the network's %d classes %v", p, class, len(names), names)
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".png", ".jpg", ".jpeg":
	default:
		return Image{}, fmt.Errorf("%s: not a .png, .jpg or .jpeg file", p)
	}
	pix, err := data.AppendImage(nil, bytes.NewReader(b), Shape)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", p, err)
	}
	return Image{Key: rel, Label: label, Pix: pix}, nil
}

var (
	imagesCount  = beam.NewCounter("cnnc", "images")
	correctCount = beam.NewCounter("cnnc", "correct")
	batchesCount = beam.NewCounter("cnnc", "batches")
)

// predictFn runs the network: it loads the weights once per DoFn instance
// (Setup, once per worker and stage), gathers images up to the batch size
// and runs one Forward per batch; the last, partial batch of a bundle runs in
// FinishBundle.
type predictFn struct {
	Weights string
	Batch   int

	net  *lenet5.Net
	norm data.Normalize
	pix  []byte
	keys []string
	lbls []int
	zero []uint8
}

func (f *predictFn) Setup(ctx context.Context) error {
	f.net = lenet5.New(f.Batch, 0)
	f.norm = Norm()
	// Net.Load reads a local file: a remote one is copied to a temporary file first.
	local := f.Weights
	if _, err := os.Stat(local); err != nil {
		r, done, err := openRead(ctx, f.Weights)
		if err != nil {
			return fmt.Errorf("weights: %w", err)
		}
		defer done()
		tmp, err := os.CreateTemp("", "weights-*.safetensors")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		_, err = io.Copy(tmp, r)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("weights %s: %w", f.Weights, err)
		}
		local = tmp.Name()
	}
	if err := f.net.Load(local); err != nil {
		return fmt.Errorf("weights %s: %w", f.Weights, err)
	}
	f.zero = make([]uint8, f.Batch)
	return nil
}

func (f *predictFn) ProcessElement(ctx context.Context, img Image, emit func(Prediction)) error {
	if len(img.Pix) != Shape.Size() {
		return fmt.Errorf("image %s: %d bytes, the network wants %d (%s)", img.Key, len(img.Pix), Shape.Size(), Shape)
	}
	f.pix = append(f.pix, img.Pix...)
	f.keys = append(f.keys, img.Key)
	f.lbls = append(f.lbls, img.Label)
	if len(f.keys) == f.Batch {
		return f.flush(ctx, emit)
	}
	return nil
}

func (f *predictFn) FinishBundle(ctx context.Context, emit func(Prediction)) error {
	return f.flush(ctx, emit)
}

// flush runs the gathered images through the network and emits their classes.
func (f *predictFn) flush(ctx context.Context, emit func(Prediction)) error {
	n := len(f.keys)
	if n == 0 {
		return nil
	}
	x, err := data.New(f.pix, true, Shape, f.zero[:n], Classes, f.norm)
	if err != nil {
		return err
	}
	out, err := f.net.Forward(x.X)
	if err != nil {
		return err
	}
	k := lenet5.OutputSize
	for i, key := range f.keys {
		p := Argmax(out[i*k : (i+1)*k])
		emit(Prediction{Key: key, Label: f.lbls[i], Pred: p})
		if p == f.lbls[i] {
			correctCount.Inc(ctx, 1)
		}
	}
	imagesCount.Inc(ctx, int64(n))
	batchesCount.Inc(ctx, 1)
	f.pix, f.keys, f.lbls = f.pix[:0], f.keys[:0], f.lbls[:0]
	return nil
}

// Argmax is the first index of row's largest value (cnnc eval's rule).
func Argmax(row []float32) int {
	b := 0
	for i, v := range row {
		if v > row[b] {
			b = i
		}
	}
	return b
}

type formatFn struct {
	Names []string
}

func (f *formatFn) ProcessElement(p Prediction, emit func(string)) error {
	emit(FormatLine(p, f.Names))
	return nil
}

// FormatLine is p as a CSV line (textio writes the lines in no order, and
// no header): key, label, prediction; classes by name
// for a folder, by index for idx files. A key with a comma or quote is quoted.
func FormatLine(p Prediction, names []string) string {
	class := func(i int) string {
		if i >= 0 && i < len(names) {
			return names[i]
		}
		return strconv.Itoa(i)
	}
	return csvField(p.Key) + "," + csvField(class(p.Label)) + "," + csvField(class(p.Pred))
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// Counts returns the images predicted and those whose prediction is their
// label, from the pipeline's committed counters (or attempted ones, where a
// runner reports no committed).
func Counts(res beam.PipelineResult) (images, correct int64) {
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Namespace() != "cnnc" {
			continue
		}
		switch c.Name() {
		case "images":
			images += c.Result()
		case "correct":
			correct += c.Result()
		}
	}
	return images, correct
}
