package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Response is the JSON answer to a prediction: per image, the logits (the
// input of the final softmax, as runtime.Net's Logits), the probabilities
// (the runtime's softmax of the logits, as cnnc infer --probs) and the most
// probable class; and the version of the weights that computed them.
type Response struct {
	Model   string      `json:"model"`
	Version int64       `json:"version"`
	Logits  [][]float32 `json:"logits"`
	Probs   [][]float32 `json:"probs"`
	Classes []int       `json:"classes"`
}

// errorBody is the JSON answer to a request that failed.
type errorBody struct {
	Error string `json:"error"`
}

// Handler serves the endpoints listed in the package's documentation.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/predict", s.instrument("predict", s.handlePredict))
	mux.Handle("POST /v1/predict/image", s.instrument("image", s.handleImage))
	mux.Handle("POST /v1/reload", s.instrument("reload", s.handleReload))
	mux.Handle("GET /healthz", s.instrument("healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	mux.Handle("GET /readyz", s.instrument("readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.isClosed() {
			writeJSON(w, http.StatusServiceUnavailable, errorBody{"shutting down"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "model": s.name, "version": s.Version(), "max_batch": s.in.maxBatch})
	}))
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	return mux
}

// handlePredict answers a float32 tensor request.
func (s *Server) handlePredict(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	ct := r.Header.Get("Content-Type")
	mt := "application/json"
	if ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			s.fail(w, badRequest(http.StatusBadRequest, "Content-Type %q: %v", ct, err))
			return
		}
	}
	var x []float32
	var k int
	var err error
	switch mt {
	case "application/json":
		x, k, err = s.in.decodeJSON(body)
	case "application/octet-stream":
		x, k, err = s.in.decodeRaw(body)
	case "application/x-npy":
		x, k, err = s.in.decodeNPY(body)
	default:
		err = badRequest(http.StatusUnsupportedMediaType, "Content-Type %s: want application/json, application/octet-stream (little-endian float32) or application/x-npy", mt)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	s.answer(w, r, x, k)
}

// handleImage answers an image request.
func (s *Server) handleImage(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	x, k, err := s.in.decodeImage(body, r.URL.Query().Get("fit"))
	if err != nil {
		s.fail(w, err)
		return
	}
	s.answer(w, r, x, k)
}

// handleReload reads the weights file again.
func (s *Server) handleReload(w http.ResponseWriter, r *http.Request) {
	v, err := s.Reload()
	switch {
	case errors.Is(err, ErrClosed):
		s.fail(w, err)
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, errorBody{fmt.Sprintf("reload failed, the weights of version %d stay: %v", s.Version(), err)})
	default:
		writeJSON(w, http.StatusOK, map[string]int64{"version": v})
	}
}

// readBody reads a body of at most MaxBody bytes.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	var buf bytes.Buffer
	if r.ContentLength > 0 && r.ContentLength <= s.cfg.MaxBody {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // one allocation, not log(size)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	body := buf.Bytes()
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.fail(w, badRequest(http.StatusRequestEntityTooLarge, "body larger than %d bytes", s.cfg.MaxBody))
		return nil, false
	case err != nil:
		s.fail(w, badRequest(http.StatusBadRequest, "reading the body: %v", err))
		return nil, false
	}
	return body, true
}

// deadline is the request's ?timeout=, at most Config.Timeout.
func (s *Server) deadline(r *http.Request) (time.Duration, error) {
	q := r.URL.Query().Get("timeout")
	if q == "" {
		return s.cfg.Timeout, nil
	}
	d, err := time.ParseDuration(q)
	if err != nil || d <= 0 {
		return 0, badRequest(http.StatusBadRequest, "timeout=%q: want a positive duration such as 250ms", q)
	}
	return min(d, s.cfg.Timeout), nil
}

// answer runs k decoded images through the batcher and writes the result.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, x []float32, k int) {
	d, err := s.deadline(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), d)
	defer cancel()
	res := s.do(ctx, x, k)
	if res.err != nil {
		s.fail(w, res.err)
		return
	}
	c := s.classes
	resp := Response{Model: s.name, Version: res.version, Logits: make([][]float32, k), Probs: make([][]float32, k), Classes: make([]int, k)}
	for i := range k {
		resp.Logits[i] = res.logits[i*c : (i+1)*c]
		resp.Probs[i] = res.outputs[i*c : (i+1)*c]
		var top [1]int
		resp.Classes[i] = rt.TopK(resp.Probs[i], top[:])[0]
	}
	writeJSON(w, http.StatusOK, resp)
}

// fail answers an error with its status: the client's (4xx), busy or
// shutting down (503 with Retry-After), past its deadline (504), or ours
// (500).
func (s *Server) fail(w http.ResponseWriter, err error) {
	if re, ok := asRequestError(err); ok {
		writeJSON(w, re.status, errorBody{re.msg})
		return
	}
	switch {
	case errors.Is(err, ErrBusy), errors.Is(err, ErrClosed):
		w.Header().Set("Retry-After", strconv.Itoa(s.cfg.RetryAfter))
		writeJSON(w, http.StatusServiceUnavailable, errorBody{err.Error()})
	case errors.Is(err, context.DeadlineExceeded):
		writeJSON(w, http.StatusGatewayTimeout, errorBody{"deadline passed before the request's batch ran"})
	case errors.Is(err, context.Canceled):
		writeJSON(w, statusClientClosed, errorBody{"client went away"})
	default:
		writeJSON(w, http.StatusInternalServerError, errorBody{err.Error()})
	}
}

// statusClientClosed is nginx's code for a client that closed its
// connection before the answer: counted in the metrics, seen by no one.
const statusClientClosed = 499

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client may be gone
}
