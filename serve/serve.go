// Package serve serves a generated network over HTTP: predictions for
// float32 tensors and for images, gathered into batches of up to the
// network's MaxBatch, behind a bounded queue that answers 503 when full,
// with per-request deadlines, health and readiness, Prometheus metrics,
// weights replaced atomically while serving and a graceful shutdown that
// answers every queued request. It works with any generated package: they
// all embed *runtime.Net.
//
//	srv, err := serve.New(serve.Config{
//		Net:     func() *rt.Net { return lenet5.New(32, 0).Net },
//		Weights: "lenet5.safetensors",
//	})
//	http.ListenAndServe(":8080", srv.Handler())
//
// Endpoints (Handler):
//
//	POST /v1/predict        float32 tensors: JSON {"input": [C*H*W]} or {"inputs": [[C*H*W], ...]}
//	                        (Content-Type application/json), raw little-endian float32
//	                        (application/octet-stream) or a .npy array (application/x-npy),
//	                        (N, C, H, W) or (C, H, W), N <= MaxBatch
//	POST /v1/predict/image  one PNG or JPEG image, ?fit=auto|pad|resize
//	POST /v1/reload         read the weights file again and swap it in between two batches
//	GET  /healthz           200 while the process serves HTTP
//	GET  /readyz            200 once the weights are loaded, 503 while shutting down
//	GET  /metrics           Prometheus
//
// Every prediction answers JSON (Response). A request may carry a deadline
// (?timeout=250ms, at most Config.Timeout, which is the default); one that
// passes before its batch runs is answered 504 and never computed.
package serve

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/data"
)

// Config is a server's network and limits.
type Config struct {
	// Net makes a network with its maximum batch, the largest batch the
	// server runs; called once at New and once per reload (the new weights
	// go into a new network, swapped in whole).
	Net func() *rt.Net
	// Weights is the weights file, read at New and at each Reload.
	Weights string
	// Load fills a new network from Weights; nil means (*rt.Net).Load (a
	// weights file). cnnc serve passes one that also reads checkpoints.
	Load func(n *rt.Net, path string) error
	// MaxDelay is how long a batch that is not full waits for more
	// requests once the queue is empty; 0 runs what is queued at once.
	MaxDelay time.Duration
	// Queue is the number of requests waiting for a batch before new ones
	// get 503 (0: 4 batches' worth of one-image requests).
	Queue int
	// Timeout is the longest and the default deadline of a request (0: 30 s).
	Timeout time.Duration
	// MaxBody is the largest request body in bytes (0: enough for a JSON
	// request of MaxBatch images, and at least 8 MiB).
	MaxBody int64
	// Norm normalises images (nil: data.NormFor the input's channels, as
	// cnnc train does).
	Norm *data.Normalize
	// RetryAfter is the Retry-After of a 503, in seconds (0: 1).
	RetryAfter int
}

// Server is a running server: New starts its batch worker, Shutdown stops it.
type Server struct {
	cfg     Config
	in      input
	name    string
	classes int

	model   atomic.Pointer[model] // the network the next batch runs on
	reload  sync.Mutex            // one reload at a time
	version atomic.Int64

	mu      sync.RWMutex // guards closed against enqueue
	closed  bool
	queue   chan *job
	done    chan struct{} // closed when the worker has answered everything
	pending atomic.Int64  // jobs queued and not yet taken by the worker
	waiting atomic.Int64  // requests accepted and waiting for their answers

	reg     *prometheus.Registry
	metrics metrics
}

// model is a network with its weights' version: swapped whole.
type model struct {
	net     *rt.Net
	version int64
}

// job is one request's images and the channel of its answer.
type job struct {
	ctx    context.Context
	x      []float32
	k      int
	answer chan result // buffered: the worker never waits on a client
}

// result is a job's answer: the logits and outputs of its k images, and the
// weights' version that computed them.
type result struct {
	logits, outputs []float32
	version         int64
	err             error
}

// ErrClosed is the answer to a request that arrives during Shutdown.
var ErrClosed = errors.New("serve: shutting down")

// ErrBusy is the answer to a request that finds the queue full.
var ErrBusy = errors.New("serve: queue full")

// New loads the weights and starts the batch worker.
func New(cfg Config) (*Server, error) {
	if cfg.Net == nil || cfg.Weights == "" {
		return nil, errors.New("serve: Config needs Net and Weights")
	}
	if cfg.Load == nil {
		cfg.Load = (*rt.Net).Load
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 1
	}
	if cfg.MaxDelay < 0 || cfg.Queue < 0 || cfg.MaxBody < 0 {
		return nil, fmt.Errorf("serve: negative MaxDelay, Queue or MaxBody")
	}
	s := &Server{cfg: cfg, done: make(chan struct{})}
	m, err := s.load()
	if err != nil {
		return nil, err
	}
	p := m.net.Program()
	s.name, s.classes = p.Name, p.OutputSize
	s.in = input{shape: data.Shape{C: p.InputC, H: p.InputH, W: p.InputW}, maxBatch: m.net.MaxBatch()}
	if cfg.Norm != nil {
		s.in.norm = *cfg.Norm
	} else {
		s.in.norm = data.NormFor(p.InputC)
	}
	if p.InputC == 1 || p.InputC == 3 { // images feed only these: check the norm now
		if _, err := data.New(make([]uint8, p.InputC), true, data.Shape{C: p.InputC, H: 1, W: 1}, []uint8{0}, 1, s.in.norm); err != nil {
			return nil, fmt.Errorf("serve: Norm: %w", err)
		}
	}
	if s.cfg.Queue == 0 {
		s.cfg.Queue = 4 * s.in.maxBatch
	}
	if s.cfg.MaxBody == 0 {
		// A JSON float takes at most 16 bytes ("-1.2345678e-38,").
		s.cfg.MaxBody = max(8<<20, int64(16*s.in.maxBatch*s.in.shape.Size())+4096)
	}
	s.queue = make(chan *job, s.cfg.Queue)
	s.model.Store(m)
	s.reg = prometheus.NewRegistry()
	s.metrics = newMetrics(s)
	go s.work()
	return s, nil
}

// load makes a network and fills it from the weights file.
func (s *Server) load() (*model, error) {
	n := s.cfg.Net()
	if n == nil {
		return nil, errors.New("serve: Config.Net returned nil")
	}
	if err := s.cfg.Load(n, s.cfg.Weights); err != nil {
		return nil, err
	}
	return &model{net: n, version: s.version.Add(1)}, nil
}

// Reload reads the weights file again into a new network and swaps it in:
// batches that started before run on the old weights, every later batch on
// the new. On an error the old weights stay. It returns the new version.
func (s *Server) Reload() (int64, error) {
	s.reload.Lock()
	defer s.reload.Unlock()
	if s.isClosed() {
		return 0, ErrClosed
	}
	m, err := s.load()
	if err != nil {
		s.metrics.reloads.WithLabelValues("error").Inc()
		return 0, err
	}
	old := s.model.Load()
	if m.net.MaxBatch() != old.net.MaxBatch() || m.net.Program().Name != old.net.Program().Name {
		s.metrics.reloads.WithLabelValues("error").Inc()
		return 0, errors.New("serve: Config.Net made a different network on reload")
	}
	s.model.Store(m)
	s.metrics.reloads.WithLabelValues("ok").Inc()
	return m.version, nil
}

// Version is the version of the weights the next batch runs on: 1 at New,
// one more at each successful Reload.
func (s *Server) Version() int64 { return s.model.Load().version }

// MaxBatch is the largest batch the server runs, and the most images one
// request may carry.
func (s *Server) MaxBatch() int { return s.in.maxBatch }

// Registry is the server's Prometheus registry (what /metrics serves).
func (s *Server) Registry() *prometheus.Registry { return s.reg }

func (s *Server) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// submit queues a job, or returns ErrBusy or ErrClosed at once.
func (s *Server) submit(j *job) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.queue <- j:
		s.pending.Add(1)
		return nil
	default:
		return ErrBusy
	}
}

// Predict runs k images x (k*C*H*W floats) through the batcher, as an HTTP
// request does: it returns ErrBusy, ErrClosed, ctx's error, or the logits and
// outputs (each k*classes) with the weights' version.
func (s *Server) Predict(ctx context.Context, x []float32) (logits, outputs []float32, version int64, err error) {
	k, err := s.in.images(x, "input")
	if err != nil {
		return nil, nil, 0, err
	}
	r := s.do(ctx, x, k)
	return r.logits, r.outputs, r.version, r.err
}

// do queues a job and waits for its answer or ctx.
func (s *Server) do(ctx context.Context, x []float32, k int) result {
	j := &job{ctx: ctx, x: x, k: k, answer: make(chan result, 1)}
	if err := s.submit(j); err != nil {
		return result{err: err}
	}
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
	select {
	case r := <-j.answer:
		return r
	case <-ctx.Done():
		// The worker skips the job when it gets to it (ctx is done).
		return result{err: ctx.Err()}
	}
}

// Shutdown stops taking requests (they get ErrClosed, 503) and waits until
// every queued request is answered, or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
