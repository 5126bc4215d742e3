package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cnnc-dev/cnnc/gen/lenet5"
	"github.com/cnnc-dev/cnnc/gen/testnets/mini_act"
	"github.com/cnnc-dev/cnnc/internal/serveload"
	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/data"
	"github.com/cnnc-dev/cnnc/runtime/npy"
)

// lenet is a LeNet-5 test server: its weights file (seed 1), the server on
// an httptest listener, and a batch-1 network with the same weights.
type lenet struct {
	weights string
	srv     *Server
	http    *httptest.Server
	direct  *rt.Net
}

func newLenet(t *testing.T, cfg Config) *lenet {
	t.Helper()
	dir := t.TempDir()
	l := &lenet{weights: filepath.Join(dir, "w.safetensors")}
	saveWeights(t, l.weights, 1)
	l.direct = lenet5.New(1, 0).Net
	if err := l.direct.Load(l.weights); err != nil {
		t.Fatal(err)
	}
	if cfg.Net == nil {
		cfg.Net = func() *rt.Net { return lenet5.New(8, 0).Net }
	}
	cfg.Weights = l.weights
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.srv = srv
	l.http = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		l.http.Close()
		srv.Shutdown(context.Background())
	})
	return l
}

// saveWeights writes LeNet-5's weights initialised from seed.
func saveWeights(t *testing.T, path string, seed uint64) {
	t.Helper()
	if err := lenet5.New(1, seed).Save(path); err != nil {
		t.Fatal(err)
	}
}

func (l *lenet) post(t *testing.T, path, ctype string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	r, err := http.Post(l.http.URL+path, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r.StatusCode, r.Header, b
}

// want is the direct batch-1 logits of each image of x.
func (l *lenet) want(t *testing.T, x []float32) [][]float32 {
	t.Helper()
	var rows [][]float32
	for i := 0; i < len(x); i += lenet5.InputSize {
		y, err := l.direct.Logits(x[i : i+lenet5.InputSize])
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, slices.Clone(y))
	}
	return rows
}

// predict posts and decodes a 200's Response.
func (l *lenet) predict(t *testing.T, path, ctype string, body []byte) Response {
	t.Helper()
	code, _, body := l.post(t, path, ctype, body)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var r Response
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func images(k int, seed uint64) []float32 {
	p := serveload.NewPool(k, lenet5.InputSize, seed)
	return slices.Concat(p.Images...)
}

func rawBody(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// TestPredictFormats sends the same images as JSON, raw float32 and .npy
// and checks every answer against a direct batch-1 Logits, bit for bit.
func TestPredictFormats(t *testing.T) {
	l := newLenet(t, Config{})
	x := images(3, 1)
	want := l.want(t, x)
	one, _ := json.Marshal(map[string][]float32{"input": x[:lenet5.InputSize]})
	three, _ := json.Marshal(map[string][][]float32{"inputs": {x[:784], x[784:1568], x[1568:]}})
	var npyBody bytes.Buffer
	if err := npy.Write(&npyBody, &npy.Array{Shape: []int{3, 1, 28, 28}, Data: x}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, ctype string
		body        []byte
		k           int
	}{
		{"json one", "application/json", one, 1},
		{"json no content type", "", one, 1},
		{"json three", "application/json; charset=utf-8", three, 3},
		{"raw", "application/octet-stream", rawBody(x), 3},
		{"npy", "application/x-npy", npyBody.Bytes(), 3},
	} {
		r := l.predict(t, "/v1/predict", c.ctype, c.body)
		if r.Model != "LeNet5" || r.Version != 1 || len(r.Logits) != c.k || len(r.Probs) != c.k || len(r.Classes) != c.k {
			t.Fatalf("%s: model %q version %d, %d logits, %d probs, %d classes", c.name, r.Model, r.Version, len(r.Logits), len(r.Probs), len(r.Classes))
		}
		for i := range c.k {
			if !slices.Equal(r.Logits[i], want[i]) {
				t.Errorf("%s: image %d: logits %v, direct %v", c.name, i, r.Logits[i], want[i])
			}
			var sum float64
			best := 0
			for j, p := range r.Probs[i] {
				sum += float64(p)
				if want[i][j] > want[i][best] {
					best = j
				}
			}
			if math.Abs(sum-1) > 1e-5 || r.Classes[i] != best {
				t.Errorf("%s: image %d: probabilities sum to %g, class %d, want %d", c.name, i, sum, r.Classes[i], best)
			}
		}
	}
}

// TestImages sends PNG and JPEG digits: one of the input's size, one
// smaller (padded as cnnc train pads MNIST) and one larger (resized), and
// checks the tensors the server built against ones computed here.
func TestImages(t *testing.T) {
	l := newLenet(t, Config{})
	norm := func(p uint8) float32 { return (float32(p)/255 - 0.1307) / 0.3081 }
	gray := func(w, h int, f func(x, y int) uint8) *image.Gray {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				g.SetGray(x, y, color.Gray{f(x, y)})
			}
		}
		return g
	}
	encode := func(img image.Image, format string) []byte {
		var b bytes.Buffer
		var err error
		if format == "png" {
			err = png.Encode(&b, img)
		} else {
			err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 100})
		}
		if err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	stripes := func(x, y int) uint8 { return uint8((x*37 + y*11) % 256) }
	exact := make([]float32, 784)
	for i := range exact {
		exact[i] = norm(stripes(i%28, i/28))
	}
	padded := make([]float32, 784)
	for i := range padded {
		x, y := i%28-4, i/28-4
		if x >= 0 && x < 20 && y >= 0 && y < 20 {
			padded[i] = norm(stripes(x, y))
		} else {
			padded[i] = norm(0)
		}
	}
	flat := make([]float32, 784)
	for i := range flat {
		flat[i] = norm(200)
	}
	for _, c := range []struct {
		name, query string
		body        []byte
		x           []float32
	}{
		{"png 28x28", "", encode(gray(28, 28, stripes), "png"), exact},
		{"png 20x20 padded", "", encode(gray(20, 20, stripes), "png"), padded},
		{"png 20x20 fit=pad", "?fit=pad", encode(gray(20, 20, stripes), "png"), padded},
		{"png 100x60 resized", "", encode(gray(100, 60, func(int, int) uint8 { return 200 }), "png"), flat},
		{"png 20x20 fit=resize", "?fit=resize", encode(gray(20, 20, func(int, int) uint8 { return 200 }), "png"), flat},
		{"jpeg 56x56 resized", "", encode(gray(56, 56, func(int, int) uint8 { return 200 }), "jpeg"), flat},
	} {
		r := l.predict(t, "/v1/predict/image"+c.query, "image/png", c.body)
		if want := l.want(t, c.x); len(r.Logits) != 1 || !slices.Equal(r.Logits[0], want[0]) {
			t.Errorf("%s: logits %v, want those of the expected tensor %v", c.name, r.Logits, want)
		}
	}
}

// TestBadRequests sends every kind of bad request while good ones run
// beside them: each bad one gets its 4xx and a message, every good one its
// right answer.
func TestBadRequests(t *testing.T) {
	l := newLenet(t, Config{MaxBody: 1 << 20})
	x := images(1, 2)
	want := l.want(t, x)[0]
	var bigImage bytes.Buffer
	png.Encode(&bigImage, image.NewGray(image.Rect(0, 0, 5000, 5000)))
	nan := rawBody(x)
	binary.LittleEndian.PutUint32(nan[40:], math.Float32bits(float32(math.NaN())))
	cases := []struct {
		name, path, ctype string
		body              []byte
		code              int
		msg               string
	}{
		{"short raw", "/v1/predict", "application/octet-stream", rawBody(x[:783]), 422, "positive multiple of 784"},
		{"odd bytes", "/v1/predict", "application/octet-stream", rawBody(x)[:5], 422, "whole number of float32s"},
		{"too many images", "/v1/predict", "application/octet-stream", rawBody(images(9, 3)), 422, "at most 8 per request"},
		{"NaN", "/v1/predict", "application/octet-stream", nan, 422, "want finite numbers"},
		{"bad JSON", "/v1/predict", "application/json", []byte(`{"input": [1, 2`), 400, "JSON body"},
		{"unknown field", "/v1/predict", "application/json", []byte(`{"image": [1]}`), 400, "unknown field"},
		{"both fields", "/v1/predict", "application/json", []byte(`{"input": [1], "inputs": [[1]]}`), 400, "exactly one"},
		{"short row", "/v1/predict", "application/json", []byte(`{"inputs": [[1, 2]]}`), 422, "inputs[0]: 2 floats"},
		{"trailing data", "/v1/predict", "application/json", []byte(`{"input": [1]} {}`), 400, "after the object"},
		{"bad npy", "/v1/predict", "application/x-npy", []byte("\x93NUMPY\x01\x00"), 400, "npy"},
		{"npy shape", "/v1/predict", "application/x-npy", npyBytes(t, []int{1, 1, 28, 27}), 422, "shape [1 1 28 27]"},
		{"content type", "/v1/predict", "text/plain", []byte("1 2 3"), 415, "want application/json"},
		{"huge body", "/v1/predict", "application/octet-stream", make([]byte, 1<<20+4), 413, "larger than"},
		{"not an image", "/v1/predict/image", "image/png", []byte("GIF89a not really"), 415, "not a PNG or JPEG"},
		{"image too large", "/v1/predict/image", "image/png", bigImage.Bytes(), 422, "want 1 to"},
		{"pad too large", "/v1/predict/image?fit=pad", "image/png", encodePNG(t, 40, 40), 422, "larger than the network"},
		{"bad fit", "/v1/predict/image?fit=crop", "image/png", encodePNG(t, 28, 28), 400, "want auto, pad or resize"},
		{"bad timeout", "/v1/predict?timeout=soon", "application/octet-stream", rawBody(x), 400, "timeout"},
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var good, bad sync.Map
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r, err := http.Post(l.http.URL+"/v1/predict", "application/octet-stream", bytes.NewReader(rawBody(x)))
				if err != nil {
					bad.Store(c*1e6+i, err.Error())
					continue
				}
				var resp Response
				err = json.NewDecoder(r.Body).Decode(&resp)
				r.Body.Close()
				if err != nil || r.StatusCode != 200 || !slices.Equal(resp.Logits[0], want) {
					bad.Store(c*1e6+i, r.Status)
					continue
				}
				good.Store(c*1e6+i, true)
			}
		}()
	}
	for _, c := range cases {
		code, _, body := l.post(t, c.path, c.ctype, c.body)
		var e errorBody
		json.Unmarshal(body, &e)
		if code != c.code || !strings.Contains(e.Error, c.msg) {
			t.Errorf("%s: %d %q, want %d and a message with %q", c.name, code, body, c.code, c.msg)
		}
	}
	close(stop)
	wg.Wait()
	n := 0
	good.Range(func(any, any) bool { n++; return true })
	bad.Range(func(k, v any) bool { t.Errorf("good request %v beside the bad ones: %v", k, v); return true })
	if n == 0 {
		t.Error("no good request ran beside the bad ones")
	}
}

func npyBytes(t *testing.T, shape []int) []byte {
	n := 1
	for _, d := range shape {
		n *= d
	}
	var b bytes.Buffer
	if err := npy.Write(&b, &npy.Array{Shape: shape, Data: make([]float32, n)}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t *testing.T, w, h int) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestHealthMetricsReload checks /healthz, /readyz, /metrics and a reload
// through /v1/reload, bad file included.
func TestHealthMetricsReload(t *testing.T) {
	l := newLenet(t, Config{})
	get := func(path string) (int, string) {
		r, err := http.Get(l.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, `"max_batch":8`) {
		t.Errorf("/readyz: %d %s", code, body)
	}
	x := images(2, 4)
	l.predict(t, "/v1/predict", "application/octet-stream", rawBody(x))
	l.post(t, "/v1/predict", "text/plain", nil)

	// A broken file: the reload fails and the old weights stay.
	if err := os.WriteFile(l.weights, []byte("not safetensors"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, body := l.post(t, "/v1/reload", "", nil); code != 500 || !strings.Contains(string(body), "weights of version 1 stay") {
		t.Errorf("reload of a broken file: %d %s", code, body)
	}
	r := l.predict(t, "/v1/predict", "application/octet-stream", rawBody(x))
	if want := l.want(t, x); r.Version != 1 || !slices.Equal(r.Logits[1], want[1]) {
		t.Errorf("after a failed reload: version %d", r.Version)
	}
	// New weights: version 2 answers with them.
	saveWeights(t, l.weights, 2)
	if code, _, body := l.post(t, "/v1/reload", "", nil); code != 200 || string(body) != "{\"version\":2}\n" {
		t.Errorf("reload: %d %s", code, body)
	}
	if err := l.direct.Load(l.weights); err != nil {
		t.Fatal(err)
	}
	r = l.predict(t, "/v1/predict", "application/octet-stream", rawBody(x))
	if want := l.want(t, x); r.Version != 2 || !slices.Equal(r.Logits[0], want[0]) {
		t.Errorf("after the reload: version %d, logits differ from the new weights'", r.Version)
	}

	_, metrics := get("/metrics")
	for _, line := range []string{
		`cnnc_serve_requests_total{code="200",endpoint="predict"} 3`,
		`cnnc_serve_requests_total{code="415",endpoint="predict"} 1`,
		`cnnc_serve_requests_total{code="500",endpoint="reload"} 1`,
		`cnnc_serve_reloads_total{result="ok"} 1`,
		`cnnc_serve_reloads_total{result="error"} 1`,
		`cnnc_serve_batch_size_bucket{le="2"} 3`,
		`cnnc_serve_request_duration_seconds_count{endpoint="predict"} 4`,
		"cnnc_serve_queue_depth 0",
		"cnnc_serve_queue_capacity 32",
		"cnnc_serve_weights_version 2",
	} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}

	// Shutting down: not ready, and predictions get 503 with Retry-After.
	l.srv.Shutdown(context.Background())
	if code, _ := get("/readyz"); code != 503 {
		t.Errorf("/readyz while shutting down: %d", code)
	}
	if code, h, body := l.post(t, "/v1/predict", "application/octet-stream", rawBody(x)); code != 503 || h.Get("Retry-After") != "1" {
		t.Errorf("predict while shutting down: %d %q %s", code, h.Get("Retry-After"), body)
	}
}

// TestDeadline: a request whose deadline passes while it waits is answered
// 504 and not computed; the server goes on.
func TestDeadline(t *testing.T) {
	l := newLenet(t, Config{MaxDelay: time.Second})
	x := images(1, 5)
	start := time.Now()
	// Alone in the queue with MaxDelay 1s, its batch waits past 50ms.
	code, _, body := l.post(t, "/v1/predict?timeout=50ms", "application/octet-stream", rawBody(x))
	if code != 504 || time.Since(start) > 900*time.Millisecond {
		t.Errorf("a 50ms deadline behind a 1s batch delay: %d %s after %v", code, body, time.Since(start))
	}
	_, _, _, err := l.srv.Predict(context.Background(), x[:10])
	if _, ok := asRequestError(err); !ok {
		t.Errorf("Predict of 10 floats: %v, want a request error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, _, err := l.srv.Predict(ctx, x); !errors.Is(err, context.Canceled) {
		t.Errorf("Predict with a cancelled context: %v", err)
	}
	logits, _, v, err := l.srv.Predict(context.Background(), x)
	if err != nil || v != 1 || !slices.Equal(logits, l.want(t, x)[0]) {
		t.Errorf("Predict after: %v, version %d", err, v)
	}
}

// TestNew refuses incomplete configurations and bad weights.
func TestNew(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New(Config{}) succeeded")
	}
	bad := filepath.Join(t.TempDir(), "bad.safetensors")
	os.WriteFile(bad, []byte("{}"), 0o644)
	if _, err := New(Config{Net: func() *rt.Net { return lenet5.New(1, 0).Net }, Weights: bad}); err == nil {
		t.Error("New with a bad weights file succeeded")
	}
	good := filepath.Join(t.TempDir(), "w.safetensors")
	saveWeights(t, good, 1)
	if _, err := New(Config{Net: func() *rt.Net { return lenet5.New(1, 0).Net }, Weights: good, Norm: &data.Normalize{Std: []float32{0}}}); err == nil {
		t.Error("New with a zero std succeeded")
	}
}

// TestImageAsTraining: an RGB PNG of the input's size gives the logits of
// the tensor cnnc train reads from an image folder holding it
// (data.LoadImageFolder with data.NormFor), on a 9x9x3 network.
func TestImageAsTraining(t *testing.T) {
	dir := t.TempDir()
	weights := filepath.Join(dir, "w.safetensors")
	if err := mini_act.New(1, 5).Save(weights); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Net: func() *rt.Net { return mini_act.New(2, 0).Net }, Weights: weights})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	img := image.NewRGBA(image.Rect(0, 0, 9, 9))
	for y := range 9 {
		for x := range 9 {
			img.Set(x, y, color.RGBA{uint8(x * 28), uint8(y * 28), uint8((x + y) * 14), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	class := filepath.Join(dir, "folder", "a")
	os.MkdirAll(class, 0o755)
	if err := os.WriteFile(filepath.Join(class, "x.png"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := data.LoadImageFolder(filepath.Join(dir, "folder"), data.Options{Shape: data.Shape{C: 3, H: 9, W: 9}, Norm: data.NormFor(3)})
	if err != nil {
		t.Fatal(err)
	}
	direct := mini_act.New(1, 0)
	if err := direct.Load(weights); err != nil {
		t.Fatal(err)
	}
	want, err := direct.Logits(d.X)
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.Post(hs.URL+"/v1/predict/image", "image/png", &b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var resp Response
	if err := json.NewDecoder(r.Body).Decode(&resp); err != nil || r.StatusCode != 200 {
		t.Fatalf("%s: %v", r.Status, err)
	}
	if !slices.Equal(resp.Logits[0], want) {
		t.Errorf("logits %v, want those of the image folder's tensor %v", resp.Logits[0], want)
	}
}
