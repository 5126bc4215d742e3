package serve

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus series, in its own registry.
type metrics struct {
	requests     *prometheus.CounterVec   // cnnc_serve_requests_total{endpoint, code}
	latency      *prometheus.HistogramVec // cnnc_serve_request_duration_seconds{endpoint}
	batchSize    prometheus.Histogram     // cnnc_serve_batch_size
	batchSeconds prometheus.Histogram     // cnnc_serve_batch_duration_seconds
	reloads      *prometheus.CounterVec   // cnnc_serve_reloads_total{result}
}

func newMetrics(s *Server) metrics {
	var sizes []float64
	for b := 1; b < s.in.maxBatch; b *= 2 {
		sizes = append(sizes, float64(b))
	}
	sizes = append(sizes, float64(s.in.maxBatch))
	m := metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cnnc_serve_requests_total", Help: "HTTP requests by endpoint and status code.",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cnnc_serve_request_duration_seconds", Help: "Time from a request's arrival to its answer.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18), // 100 µs to 13 s
		}, []string{"endpoint"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cnnc_serve_batch_size", Help: "Images per batch run.", Buckets: sizes,
		}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cnnc_serve_batch_duration_seconds", Help: "Time of one batch's forward pass.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cnnc_serve_reloads_total", Help: "Weight reloads by result (ok, error).",
		}, []string{"result"}),
	}
	s.reg.MustRegister(m.requests, m.latency, m.batchSize, m.batchSeconds, m.reloads,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "cnnc_serve_queue_depth", Help: "Requests waiting for a batch.",
		}, func() float64 { return float64(s.pending.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "cnnc_serve_waiting", Help: "Requests accepted and waiting for their answers (queued or in a batch).",
		}, func() float64 { return float64(s.waiting.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "cnnc_serve_queue_capacity", Help: "Requests the queue holds before answering 503.",
		}, func() float64 { return float64(cap(s.queue)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "cnnc_serve_weights_version", Help: "Version of the weights in use (1 at start, +1 per reload).",
		}, func() float64 { return float64(s.Version()) }),
	)
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	return m
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument counts h's requests by code and times them.
func (s *Server) instrument(endpoint string, h http.HandlerFunc) http.Handler {
	lat := s.metrics.latency.WithLabelValues(endpoint)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		s.metrics.requests.WithLabelValues(endpoint, strconv.Itoa(sw.code)).Inc()
		lat.Observe(time.Since(start).Seconds())
	})
}
