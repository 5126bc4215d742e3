package train

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cnnc-dev/cnnc/internal/cli"
	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/serve"
)

// ServeConfig is one run of `cnnc serve`.
type ServeConfig struct {
	Weights  string // a weights file (Net.Save) or a checkpoint of Run: required
	Addr     string // the address to listen on
	Batch    int    // the largest batch (0: the recipe's, at most MaxServeBatch)
	MaxDelay time.Duration
	Queue    int
	Timeout  time.Duration
	MaxBody  int64
	Drain    time.Duration // how long a shutdown waits for queued requests
}

// MaxServeBatch bounds the default batch of cnnc serve: a recipe's training
// batch (ResNet's 256) would hold much memory for little gain in serving.
const MaxServeBatch = 32

// ServeFlags defines the flags of `cnnc serve` on fs and returns a function
// that gives the ServeConfig once fs is parsed.
func ServeFlags(fs *flag.FlagSet) func() ServeConfig {
	var c ServeConfig
	fs.StringVar(&c.Weights, "weights", "", "weights file (a generated Net's Save) or checkpoint of cnnc train (required); SIGHUP or POST /v1/reload reads it again")
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on (port 0: any free port, printed)")
	fs.IntVar(&c.Batch, "batch", 0, fmt.Sprintf("largest batch, and most images per request (0: the recipe's batch, at most %d)", MaxServeBatch))
	fs.DurationVar(&c.MaxDelay, "max-delay", 0, "how long a batch that is not full waits for more requests (0: runs what is queued)")
	fs.IntVar(&c.Queue, "queue", 0, "requests waiting for a batch before 503 (0: 4 batches' worth)")
	fs.DurationVar(&c.Timeout, "timeout", 30*time.Second, "longest and default deadline of a request (?timeout= shortens it)")
	fs.Int64Var(&c.MaxBody, "max-body", 0, "largest request body in bytes (0: enough for a batch as JSON, at least 8 MiB)")
	fs.DurationVar(&c.Drain, "drain", 30*time.Second, "on SIGINT or SIGTERM, how long to wait for queued requests")
	return func() ServeConfig { return c }
}

// Serve serves the network of spec over HTTP (package serve) until ctx is
// done or a SIGINT or SIGTERM arrives; SIGHUP reloads the weights. On the
// way out it refuses new requests with 503, answers every queued one, then
// closes the listener. ready, when not nil, gets the listening address.
func Serve(ctx context.Context, spec *Spec, cfg ServeConfig, stdout io.Writer, ready chan<- string) error {
	if err := spec.check(); err != nil {
		return err
	}
	if cfg.Weights == "" {
		return errors.New("--weights is required: an untrained network's outputs mean nothing")
	}
	batch := cfg.Batch
	if batch == 0 {
		batch = min(spec.Program.Recipe.Batch, MaxServeBatch)
	}
	if batch < 1 {
		return fmt.Errorf("--batch %d: want at least 1", batch)
	}
	srv, err := serve.New(serve.Config{
		Net:      func() *rt.Net { return spec.New(batch, 1) },
		Weights:  cfg.Weights,
		Load:     loadWeights,
		MaxDelay: cfg.MaxDelay,
		Queue:    cfg.Queue,
		Timeout:  cfg.Timeout,
		MaxBody:  cfg.MaxBody,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	w := orDiscard(stdout)
	fmt.Fprintf(w, "serving %s on http://%s (batch %d, weights %s)\n", spec.Program.Name, ln.Addr(), batch, cfg.Weights)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	for {
		select {
		case s := <-sig:
			if s == syscall.SIGHUP {
				if v, err := srv.Reload(); err != nil {
					fmt.Fprintf(w, "reload: %v (the weights of version %d stay)\n", err, srv.Version())
				} else {
					fmt.Fprintf(w, "reloaded %s: weights version %d\n", cfg.Weights, v)
				}
				continue
			}
			fmt.Fprintf(w, "%v: finishing the queued requests\n", s)
		case <-ctx.Done():
		case err := <-served:
			return err
		}
		return shutdown(srv, hs, cfg.Drain)
	}
}

// shutdown drains the server (new requests get 503, queued ones their
// answers), then closes the listener and waits for the last answers to be
// written.
func shutdown(srv *serve.Server, hs *http.Server, drain time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := srv.Shutdown(ctx)
	if e := hs.Shutdown(ctx); err == nil {
		err = e
	}
	return err
}

// loadWeights reads a weights file or a checkpoint into n.
func loadWeights(n *rt.Net, path string) error {
	ck, err := ReadCheckpoint(path)
	if err != nil {
		return err
	}
	return ck.LoadWeights(n)
}

func cmdServe(spec *Spec, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	get := ServeFlags(fs)
	if err := fs.Parse(cli.Reorder(fs, args)); err != nil {
		return exitUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "cnnc serve: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	if err := Serve(context.Background(), spec, get(), stdout, nil); err != nil {
		fmt.Fprintf(stderr, "cnnc serve: %v\n", err)
		return exitInput
	}
	return exitOK
}
