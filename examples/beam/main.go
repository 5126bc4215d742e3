// Command beam runs LeNet-5 (the cnnc-generated gen/lenet5) over a set of
// images on Apache Beam and writes one CSV line per image: key, label,
// prediction. The runner is Beam's --runner flag (default prism, in this
// process); the README says how to submit it to Flink or Dataflow.
//
//	go run . --idx t10k-images-idx3-ubyte.gz,t10k-labels-idx1-ubyte.gz \
//	    --weights testdata/lenet5.safetensors --output /tmp/preds.csv
//	go run . --mnist --weights testdata/lenet5.safetensors --output /tmp/preds.csv
//	go run . --folder DIR --weights W.safetensors --output preds.csv
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/cnnc-dev/cnnc/examples/beam/infer"
	"github.com/cnnc-dev/cnnc/runtime/data"
)

var (
	idx     = flag.String("idx", "", "IMAGES,LABELS: an idx image file and its idx label file (gzipped or raw)")
	mnist   = flag.Bool("mnist", false, "the MNIST test set, from the GoMNIST module (or $"+data.MNISTDirEnv+")")
	folder  = flag.String("folder", "", "image folder: DIR/<class>/*.png|*.jpg|*.jpeg")
	classes = flag.String("classes", "", "the folder's class names, comma-separated (default: its sorted sub-directories)")
	weights = flag.String("weights", "", "the network's weights (safetensors)")
	batch   = flag.Int("batch", 0, "images per forward (default: the recipe's)")
	output  = flag.String("output", "", "the CSV file to write")
)

func main() {
	flag.Parse()
	beam.Init()
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "beam:", err)
		os.Exit(1)
	}
}

// run builds the pipeline of the flags, runs it on --runner and prints
// the counters' summary.
func run(stdout io.Writer) error {
	cfg := infer.Config{Folder: *folder, Weights: *weights, Batch: *batch, Output: *output}
	if *idx != "" {
		var ok bool
		if cfg.Images, cfg.Labels, ok = strings.Cut(*idx, ","); !ok {
			return fmt.Errorf("--idx %q: want IMAGES,LABELS", *idx)
		}
	}
	if *classes != "" {
		cfg.Classes = strings.Split(*classes, ",")
	}
	if *mnist {
		dir, err := data.MNISTDir()
		if err != nil {
			return err
		}
		cfg.Images, cfg.Labels = dir+"/t10k-images-idx3-ubyte.gz", dir+"/t10k-labels-idx1-ubyte.gz"
	}
	p, s := beam.NewPipelineWithRoot()
	if err := infer.Build(s, cfg); err != nil {
		return err
	}
	start := time.Now()
	res, err := beamx.RunWithMetrics(context.Background(), p)
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	sec := time.Since(start).Seconds()
	if res == nil { // a runner that only submits the job
		return nil
	}
	n, correct := infer.Counts(res)
	if n == 0 {
		return nil
	}
	fmt.Fprintf(stdout, "%d images in %.1f s (%.0f images/s), accuracy %.2f%% (%d correct)\n", n, sec, float64(n)/sec, 100*float64(correct)/float64(n), correct)
	return nil
}
