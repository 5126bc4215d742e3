// Command serveload measures package serve on loopback, for the README's
// "Serving" figures: a plain batch-1 loop over the generated package, then
// the server (serve.New, in this process, on 127.0.0.1) at 1, 8 and 64
// concurrent clients (-rounds rounds, each server run paired with a run of
// the loop just before it; the table gives medians), each sending one image per request and waiting for
// its answer; then overload (a small queue, 128 clients), a weight reload
// in the middle of a run and a shutdown under load. Every answer is checked
// bit for bit against a direct batch-1 Logits of its input
// (internal/serveload), and the counts are printed. It exits 1 if any
// answer was lost, wrong or failed. -duration bounds the runs at 1, 8 and 64
// clients and the overload; the reload and shutdown runs are bounded by
// -requests alone, so that the reload and the shutdown always come.
//
//	go run ./bench/serveload [-net lenet5|resnet18] [-requests N] [-duration D] [-rounds N] [-batch N] [-max-delay D]
//
// Clients, server and network share the machine's cores.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/cnnc-dev/cnnc/gen/lenet5"
	"github.com/cnnc-dev/cnnc/gen/resnet18"
	"github.com/cnnc-dev/cnnc/internal/serveload"
	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/serve"
)

type network struct {
	new  func(maxBatch int, seed uint64) *rt.Net
	size int
	reqs int     // default requests per run
	tol  float64 // serveload.Load.Tol: 0, bit for bit, unless the batch size changes the kernels
}

var networks = map[string]network{
	"lenet5": {func(mb int, s uint64) *rt.Net { return lenet5.New(mb, s).Net }, lenet5.InputSize, 4000, 0},
	// ResNet-18's 3x3 convs take Winograd's transforms when a call has
	// enough tiles (layer3's 14x14 maps: batches of 3 or more), direct ones
	// below: a batch's logits are the batch-1 loop's within rounding, not
	// bit for bit.
	"resnet18": {func(mb int, s uint64) *rt.Net { return resnet18.New(mb, s).Net }, resnet18.InputSize, 150, 1e-4},
}

func main() {
	name := flag.String("net", "lenet5", "network: lenet5 or resnet18")
	requests := flag.Int64("requests", 0, "requests per run (0: 4000 for lenet5, 150 for resnet18)")
	duration := flag.Duration("duration", 30*time.Second, "longest time of one run")
	batch := flag.Int("batch", 0, "the server's largest batch (0: 32 for lenet5, 8 for resnet18)")
	rounds := flag.Int("rounds", 3, "rounds of the runs at 1, 8 and 64 clients (the table gives medians)")
	delay := flag.Duration("max-delay", 0, "the server's MaxDelay (0, as cnnc serve: what is queued runs at once)")
	flag.Parse()
	nw, ok := networks[*name]
	if !ok {
		fmt.Fprintf(os.Stderr, "serveload: -net %q: want lenet5 or resnet18\n", *name)
		os.Exit(2)
	}
	if *requests == 0 {
		*requests = int64(nw.reqs)
	}
	if *batch == 0 {
		*batch = map[string]int{"lenet5": 32, "resnet18": 8}[*name]
	}
	if err := bench(*name, nw, *requests, *duration, *batch, *delay, max(1, *rounds)); err != nil {
		fmt.Fprintf(os.Stderr, "serveload: %v\n", err)
		os.Exit(1)
	}
}

// bench runs every scenario and prints its table.
func bench(name string, nw network, requests int64, d time.Duration, batch int, delay time.Duration, rounds int) error {
	dir, err := os.MkdirTemp("", "serveload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	weights := filepath.Join(dir, "w.safetensors")
	direct := nw.new(1, 1)
	if err := direct.Save(weights); err != nil {
		return err
	}
	pool := serveload.NewPool(64, nw.size, 7)
	if err := pool.Expect(1, direct); err != nil {
		return err
	}
	second := nw.new(1, 2)
	if err := pool.Expect(2, second); err != nil {
		return err
	}
	fmt.Printf("%s, server batch %d, max delay %v, GOMAXPROCS %d, %d requests per run (at most %v), medians of %d rounds, answers checked %s; %s\n\n",
		name, batch, delay, goruntime.GOMAXPROCS(0), requests, d, rounds, tolText(nw.tol), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Println("| run | clients | answers/s | vs batch-1 loop | p50 | p99 | images per batch |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	bad := false
	check := func(what string, r *serveload.Result) {
		if r.Failed != 0 || r.Checked != r.OK || r.Sent != r.OK+r.Busy+r.Closed+r.Timeout {
			bad = true
			fmt.Fprintf(os.Stderr, "%s: %v; %q\n", what, r.Counts, r.Errors)
		}
	}
	// Each server run follows a run of the batch-1 loop, and its ratio is
	// to that run: the machine's load moves between rounds.
	type row struct{ rate, ratio, p50, p99, perBatch []float64 }
	var base row
	runs := map[int]*row{}
	var notes []string
	for round := range rounds {
		for _, clients := range []int{1, 8, 64} {
			b := serveload.Direct(direct, pool, int(requests), d)
			base.rate = append(base.rate, b.Throughput())
			base.p50 = append(base.p50, msf(b.Quantile(0.5)))
			base.p99 = append(base.p99, msf(b.Quantile(0.99)))
			s, err := start(nw, weights, serve.Config{MaxDelay: delay, Queue: 2 * clients}, batch)
			if err != nil {
				return err
			}
			r := serveload.Load{URL: s.url, Clients: clients, Requests: requests, Duration: d, Pool: pool, Tol: nw.tol}.Run(context.Background())
			batches, images := s.batches()
			s.stop()
			check(fmt.Sprintf("%d clients", clients), r)
			if runs[clients] == nil {
				runs[clients] = &row{}
			}
			w := runs[clients]
			w.rate = append(w.rate, r.Throughput())
			w.ratio = append(w.ratio, r.Throughput()/b.Throughput())
			w.p50 = append(w.p50, msf(r.Quantile(0.5)))
			w.p99 = append(w.p99, msf(r.Quantile(0.99)))
			w.perBatch = append(w.perBatch, images/batches)
			notes = append(notes, fmt.Sprintf("round %d, %d clients: %v; largest difference from the direct logits %.1e", round+1, clients, r.Counts, r.MaxDiff))
		}
	}
	fmt.Printf("| batch-1 loop (Logits) | 1 | %.0f | 1.00 | %.2f ms | %.2f ms | 1 |\n", median(base.rate), median(base.p50), median(base.p99))
	for _, clients := range []int{1, 8, 64} {
		w := runs[clients]
		fmt.Printf("| server | %d | %.0f | %.2f | %.2f ms | %.2f ms | %.1f |\n", clients, median(w.rate), median(w.ratio), median(w.p50), median(w.p99), median(w.perBatch))
	}
	fmt.Println()
	for _, n := range notes {
		fmt.Println("-", n)
	}

	// Overload: 128 clients, a queue of one batch.
	s, err := start(nw, weights, serve.Config{MaxDelay: delay, Queue: batch}, batch)
	if err != nil {
		return err
	}
	r := serveload.Load{URL: s.url, Clients: 128, Requests: requests, Duration: d, Pool: pool, Tol: nw.tol}.Run(context.Background())
	s.stop()
	check("overload", r)
	fmt.Printf("- overload, 128 clients, queue %d: %v; %.0f answers/s\n", batch, r.Counts, r.Throughput())

	// A reload after a third of the requests.
	s, err = start(nw, weights, serve.Config{MaxDelay: delay}, batch)
	if err != nil {
		return err
	}
	var minV atomic.Int64
	reloaded := make(chan error, 1)
	var reloadAt time.Duration
	t0 := time.Now()
	// Bounded by count alone, so that the reload always comes.
	r = serveload.Load{URL: s.url, Clients: 8, Requests: requests, Pool: pool, Tol: nw.tol, MinVersion: &minV,
		After: func(n int64) {
			if n == requests/3 { // once: n counts the requests
				go func() {
					if err := second.Save(weights); err != nil {
						reloaded <- err
						return
					}
					v, err := s.srv.Reload()
					minV.Store(v)
					reloadAt = time.Since(t0)
					reloaded <- err
				}()
			}
		}}.Run(context.Background())
	reloadErr := <-reloaded
	s.stop()
	check("reload", r)
	if reloadErr != nil || r.Versions[1] == 0 || r.Versions[2] == 0 {
		bad = true
		fmt.Fprintf(os.Stderr, "reload: %v, versions %v\n", reloadErr, r.Versions)
	}
	fmt.Printf("- reload after %d requests (done at %v), 8 clients: %v; answers by version %v\n", requests/3, reloadAt.Round(time.Millisecond), r.Counts, r.Versions)

	// Shutdown after a third of the requests; clients stop at the first
	// "shutting down".
	if err := direct.Save(weights); err != nil { // version 1 again
		return err
	}
	s, err = start(nw, weights, serve.Config{MaxDelay: delay, Queue: 4 * batch}, batch)
	if err != nil {
		return err
	}
	var queued atomic.Int64
	drained := make(chan error, 1)
	r = serveload.Load{URL: s.url, Clients: 64, Requests: requests, UntilClosed: true, Pool: pool, Tol: nw.tol,
		After: func(n int64) {
			if n == requests/3 {
				go func() {
					queued.Store(s.queued())
					drained <- s.srv.Shutdown(context.Background())
				}()
			}
		}}.Run(context.Background())
	if err := <-drained; err != nil {
		return err
	}
	s.stop()
	check("shutdown", r)
	if r.Closed == 0 {
		bad = true
	}
	fmt.Printf("- shutdown after %d requests (%d queued then), 64 clients: %v\n", requests/3, queued.Load(), r.Counts)
	if bad {
		return fmt.Errorf("some answers were lost, wrong or failed (above)")
	}
	return nil
}

// server is a serve.Server on a loopback listener.
type server struct {
	srv *serve.Server
	hs  *http.Server
	url string
}

func start(nw network, weights string, cfg serve.Config, batch int) (*server, error) {
	cfg.Net = func() *rt.Net { return nw.new(batch, 0) }
	cfg.Weights = weights
	srv, err := serve.New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	return &server{srv: srv, hs: hs, url: "http://" + ln.Addr().String() + "/v1/predict"}, nil
}

func (s *server) stop() {
	s.srv.Shutdown(context.Background())
	s.hs.Shutdown(context.Background())
}

// batches reads the batch-size histogram: batches run and images in them.
func (s *server) batches() (float64, float64) {
	fams, _ := s.srv.Registry().Gather()
	for _, f := range fams {
		if f.GetName() == "cnnc_serve_batch_size" {
			h := f.GetMetric()[0].GetHistogram()
			return float64(h.GetSampleCount()), h.GetSampleSum()
		}
	}
	return 1, 0
}

// queued reads the queue-depth gauge.
func (s *server) queued() int64 {
	fams, _ := s.srv.Registry().Gather()
	for _, f := range fams {
		if f.GetName() == "cnnc_serve_queue_depth" {
			return int64(f.GetMetric()[0].GetGauge().GetValue())
		}
	}
	return 0
}

func tolText(tol float64) string {
	if tol == 0 {
		return "bit for bit"
	}
	return fmt.Sprintf("within %g of 1 + max |logit|", tol)
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}
