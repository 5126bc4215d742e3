package serve

// Load tests on loopback, bounded in count and time (each under a few
// seconds): overload, a reload in the middle, shutdown under load. Every
// answer is checked against a direct batch-1 Logits of its input
// (internal/serveload); the counts are printed with -v and asserted.

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cnnc-dev/cnnc/gen/lenet5"
	"github.com/cnnc-dev/cnnc/internal/serveload"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// pool is 64 images with their logits on the weights of seed 1 (version 1)
// and, when two, of seed 2 (version 2).
func pool(t *testing.T, l *lenet, two bool) *serveload.Pool {
	t.Helper()
	p := serveload.NewPool(64, lenet5.InputSize, 7)
	if err := p.Expect(1, l.direct); err != nil {
		t.Fatal(err)
	}
	if two {
		n := lenet5.New(1, 2).Net
		if err := p.Expect(2, n); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// checkRun fails t unless every request was answered and every 200 checked.
func checkRun(t *testing.T, what string, r *serveload.Result) {
	t.Helper()
	t.Logf("%s: %v; %.0f answers/s, p50 %v, p99 %v, versions %v", what, r.Counts, r.Throughput(), r.Quantile(0.5), r.Quantile(0.99), r.Versions)
	if r.Failed != 0 || r.Checked != r.OK || r.Sent != r.OK+r.Busy+r.Closed+r.Timeout {
		t.Errorf("%s: %v; errors: %q", what, r.Counts, r.Errors)
	}
}

// TestOverload: 64 clients against a queue of 4 requests. Every request is
// answered with its own logits or with 503 and Retry-After; none is lost.
func TestOverload(t *testing.T) {
	l := newLenet(t, Config{Queue: 4})
	p := pool(t, l, false)
	r := serveload.Load{URL: l.http.URL + "/v1/predict", Clients: 64, Requests: 3000, Duration: 10 * time.Second, Pool: p}.Run(context.Background())
	checkRun(t, "overload", r)
	if r.Sent != 3000 || r.OK == 0 || r.Busy == 0 || r.Timeout != 0 {
		t.Errorf("overload: want 3000 sent, some answered 200 and some 503 (busy), none 504: %v", r.Counts)
	}
	if n := l.srv.pending.Load(); n != 0 {
		t.Errorf("%d requests left in the queue", n)
	}
}

// TestReloadUnderLoad: 16 clients; after 500 requests the weights file is
// replaced and reloaded. Answers before use version 1, after version 2, each
// checked against its own weights; a request sent after the reload
// returned is never answered by version 1.
func TestReloadUnderLoad(t *testing.T) {
	l := newLenet(t, Config{})
	p := pool(t, l, true)
	var minVersion atomic.Int64
	var once sync.Once
	reloaded := make(chan error, 1)
	r := serveload.Load{
		URL: l.http.URL + "/v1/predict", Clients: 16, Requests: 1500, Duration: 10 * time.Second, Pool: p,
		MinVersion: &minVersion,
		After: func(n int64) {
			if n == 500 {
				once.Do(func() {
					go func() {
						saveWeights(t, l.weights, 2)
						v, err := l.srv.Reload()
						minVersion.Store(v)
						reloaded <- err
					}()
				})
			}
		},
	}.Run(context.Background())
	checkRun(t, "reload under load", r)
	if err := <-reloaded; err != nil {
		t.Fatal(err)
	}
	if r.Sent != 1500 || r.OK != 1500 || r.Versions[1] == 0 || r.Versions[2] == 0 {
		t.Errorf("want 1500 answered 200 by both versions: %v, versions %v", r.Counts, r.Versions)
	}
}

// TestShutdownUnderLoad: 32 clients; mid-run the server shuts down. Every
// request queued before is answered 200 and checked; every later one gets
// 503 "shutting down"; nothing fails. Then the HTTP server closes.
func TestShutdownUnderLoad(t *testing.T) {
	l := newLenet(t, Config{Queue: 64})
	p := pool(t, l, false)
	var once sync.Once
	drained := make(chan error, 1)
	r := serveload.Load{
		URL: l.http.URL + "/v1/predict", Clients: 32, Requests: 100000, Duration: 10 * time.Second, UntilClosed: true, Pool: p,
		After: func(n int64) {
			if n == 800 {
				once.Do(func() {
					go func() { drained <- l.srv.Shutdown(context.Background()) }()
				})
			}
		},
	}.Run(context.Background())
	checkRun(t, "shutdown under load", r)
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	if r.OK < 700 || r.Closed == 0 || r.Sent == 100000 {
		t.Errorf("want the first requests answered, the later refused with 503: %v", r.Counts)
	}
	if n := l.srv.pending.Load(); n != 0 {
		t.Errorf("%d requests left in the queue after Shutdown", n)
	}
	// The queue is closed and drained: the worker has stopped.
	select {
	case <-l.srv.done:
	default:
		t.Error("the batch worker still runs after Shutdown")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs := l.http.Config
	if err := hs.Shutdown(ctx); err != nil && err != http.ErrServerClosed {
		t.Errorf("HTTP shutdown: %v", err)
	}
}

// TestBatching: with MaxDelay, concurrent one-image requests share
// batches; the batch-size histogram shows it.
func TestBatching(t *testing.T) {
	l := newLenet(t, Config{MaxDelay: 2 * time.Millisecond, Net: func() *rt.Net { return lenet5.New(16, 0).Net }})
	p := pool(t, l, false)
	r := serveload.Load{URL: l.http.URL + "/v1/predict", Clients: 32, Requests: 800, Duration: 10 * time.Second, Pool: p}.Run(context.Background())
	checkRun(t, "batching", r)
	var m metricsSnapshot
	m.read(t, l)
	t.Logf("%d batches for %d images: %.1f images per batch", m.batches, m.images, float64(m.images)/float64(m.batches))
	if r.OK != 800 || m.images != 800 || m.batches >= 400 {
		t.Errorf("800 requests of 32 clients ran as %d batches (%d images); want fewer than 400: %v", m.batches, m.images, r.Counts)
	}
}

type metricsSnapshot struct{ batches, images int64 }

func (m *metricsSnapshot) read(t *testing.T, l *lenet) {
	t.Helper()
	fams, err := l.srv.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "cnnc_serve_batch_size" {
			h := f.GetMetric()[0].GetHistogram()
			m.batches, m.images = int64(h.GetSampleCount()), int64(h.GetSampleSum())
		}
	}
}

// TestShutdownAnswersWaiting: 12 requests of one image against batches of
// 8 and a MaxDelay of 5 s: 8 run at once, 4 wait in the next batch.
// Shutdown runs them without waiting out the delay, every answer checked;
// a request after it gets ErrClosed.
func TestShutdownAnswersWaiting(t *testing.T) {
	l := newLenet(t, Config{MaxDelay: 5 * time.Second})
	p := pool(t, l, false)
	type answer struct {
		i      int
		logits []float32
		err    error
	}
	answers := make(chan answer, 12)
	for i := range 12 {
		go func() {
			logits, _, _, err := l.srv.Predict(context.Background(), p.Images[i])
			answers <- answer{i, logits, err}
		}()
	}
	check := func(a answer) {
		t.Helper()
		want := l.want(t, p.Images[a.i])[0]
		if a.err != nil || !slices.Equal(a.logits, want) {
			t.Errorf("request %d: %v, logits %v, want %v", a.i, a.err, a.logits, want)
		}
	}
	for range 8 { // the first batch, full, runs at once
		select {
		case a := <-answers:
			check(a)
		case <-time.After(4 * time.Second):
			t.Fatal("the first batch of 8 did not run within 4 s")
		}
	}
	for deadline := time.Now().Add(4 * time.Second); l.srv.waiting.Load() < 4; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests waiting, want 4", l.srv.waiting.Load())
		}
	}
	start := time.Now()
	if err := l.srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		check(<-answers)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Shutdown and the last 4 answers took %v: the batch delay was waited out", d)
	}
	if _, _, _, err := l.srv.Predict(context.Background(), p.Images[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("Predict after Shutdown: %v, want ErrClosed", err)
	}
}
