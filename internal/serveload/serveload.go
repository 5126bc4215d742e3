// Package serveload drives a cnnc serve server (package serve) with
// concurrent HTTP clients on loopback and checks every answer: each 200 is
// compared with a direct batch-1 Logits of its input on the weights of the
// version the answer names (bit for bit, or within Load.Tol where the batch
// size changes the kernels' arithmetic, as Winograd does above a number of
// tiles); each 503 must carry Retry-After.
// It counts what it sent and what came back, so that a lost, mixed-up or
// wrong answer is seen. serve's tests and bench/serveload use it.
package serveload

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	rt "github.com/cnnc-dev/cnnc/runtime"
)

// Pool is a fixed set of input images and, per weights version, the logits
// a direct batch-1 Logits gives for each.
type Pool struct {
	Images [][]float32
	bodies [][]byte // each image as little-endian float32, the request body
	want   map[int64][][]float32
}

// NewPool makes n images of size floats, normal(0, 1), from seed.
func NewPool(n, size int, seed uint64) *Pool {
	r := rand.New(rand.NewPCG(seed, 0x5e7e))
	p := &Pool{want: map[int64][][]float32{}}
	for range n {
		x := make([]float32, size)
		b := make([]byte, 4*size)
		for i := range x {
			x[i] = float32(r.NormFloat64())
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x[i]))
		}
		p.Images = append(p.Images, x)
		p.bodies = append(p.bodies, b)
	}
	return p
}

// Expect records the logits of every image on net as those of weights
// version v; net runs one image at a time.
func (p *Pool) Expect(v int64, net *rt.Net) error {
	rows := make([][]float32, len(p.Images))
	for i, x := range p.Images {
		l, err := net.Logits(x)
		if err != nil {
			return err
		}
		rows[i] = append([]float32(nil), l...)
	}
	p.want[v] = rows
	return nil
}

// Counts are the fates of the requests of a run. Sent = OK + Busy + Closed
// + Timeout + Failed; Checked counts the OK answers equal to the direct
// Logits (a run is right when Checked == OK and Failed == 0).
type Counts struct {
	Sent, OK, Checked, Busy, Closed, Timeout, Failed int64
}

func (c Counts) String() string {
	return fmt.Sprintf("sent %d, answered %d (200 %d, checked %d; 503 busy %d, 503 shutting down %d; 504 %d), failed %d",
		c.Sent, c.OK+c.Busy+c.Closed+c.Timeout, c.OK, c.Checked, c.Busy, c.Closed, c.Timeout, c.Failed)
}

// Result is a run's counts, the latency of each 200, the versions that
// answered, and the first errors.
type Result struct {
	Counts
	Elapsed   time.Duration
	Latencies []time.Duration // of the 200s, sorted
	Versions  map[int64]int64 // 200s per weights version
	Errors    []string        // the first few failures, for the report
	MaxDiff   float64         // the largest |answer - direct| of a checked logit, over 1 + max |direct|
}

// Quantile is the q-quantile of the 200s' latencies (0 with none).
func (r *Result) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Latencies[min(len(r.Latencies)-1, int(q*float64(len(r.Latencies))))]
}

// Throughput is 200s per second.
func (r *Result) Throughput() float64 { return float64(r.OK) / r.Elapsed.Seconds() }

// Load is one run: Clients concurrent clients, each sending one image per
// request, one request at a time, until Requests have been sent in all or
// Duration has passed (whichever first; zero means no bound, but one of
// them must be set), or, with UntilClosed, until the server says it is
// shutting down.
type Load struct {
	URL         string // the predict endpoint, http://host:port/v1/predict
	Clients     int
	Requests    int64
	Duration    time.Duration
	UntilClosed bool
	Pool        *Pool
	Client      *http.Client // nil: one with keep-alive for every client
	// After, when set, is called before each request with its number, from
	// 1 (the reload test reloads at a given count).
	After func(sent int64)
	// MinVersion, when set, is the least version a 200 may carry for a
	// request sent after it was set (the reload test sets it once Reload
	// returned).
	MinVersion *atomic.Int64
	// Tol is how far an answer's logits may be from the direct ones, over
	// 1 + the largest |direct logit| of the image (0: bit for bit). Another
	// image's logits are much farther: a mix-up still fails.
	Tol float64
}

// Run runs the load and checks every answer.
func (l Load) Run(ctx context.Context) *Result {
	if l.Requests <= 0 && l.Duration <= 0 && !l.UntilClosed {
		panic("serveload: a Load needs Requests, Duration or UntilClosed")
	}
	client := l.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: l.Clients, MaxConnsPerHost: l.Clients}}
	}
	if l.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.Duration)
		defer cancel()
	}
	var (
		mu      sync.Mutex
		res     = &Result{Versions: map[int64]int64{}}
		sent    atomic.Int64
		closed  atomic.Bool
		wg      sync.WaitGroup
		start   = time.Now()
		perLats = make([][]time.Duration, l.Clients)
	)
	fail := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		res.Failed++
		if len(res.Errors) < 5 {
			res.Errors = append(res.Errors, fmt.Sprintf(format, a...))
		}
	}
	for c := range l.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && !(l.UntilClosed && closed.Load()) {
				n := sent.Add(1)
				if l.Requests > 0 && n > l.Requests {
					sent.Add(-1)
					return
				}
				if l.After != nil {
					l.After(n)
				}
				i := int(n*7919+int64(c)) % len(l.Pool.Images)
				minV := int64(0)
				if l.MinVersion != nil {
					minV = l.MinVersion.Load()
				}
				t0 := time.Now()
				code, retry, body, err := post(client, l.URL, l.Pool.bodies[i])
				lat := time.Since(t0)
				if err != nil {
					fail("request %d: %v", n, err)
					continue
				}
				switch code {
				case http.StatusOK:
					var r struct {
						Version int64       `json:"version"`
						Logits  [][]float32 `json:"logits"`
					}
					if err := json.Unmarshal(body, &r); err != nil {
						fail("request %d: 200 with %v", n, err)
						continue
					}
					want, ok := l.Pool.want[r.Version]
					mu.Lock()
					res.OK++
					res.Versions[r.Version]++
					mu.Unlock()
					perLats[c] = append(perLats[c], lat)
					switch {
					case !ok:
						fail("request %d: version %d, for which no logits are known", n, r.Version)
					case r.Version < minV:
						fail("request %d: sent after version %d was in use, answered by version %d", n, minV, r.Version)
					case len(r.Logits) != 1 || len(r.Logits[0]) != len(want[i]):
						fail("request %d (image %d): %d rows of logits", n, i, len(r.Logits))
					default:
						d := diff(r.Logits[0], want[i])
						if d > l.Tol || l.Tol == 0 && !slices.Equal(r.Logits[0], want[i]) {
							fail("request %d (image %d): logits %.3g from a direct Logits on version %d (tolerance %.3g)", n, i, d, r.Version, l.Tol)
							continue
						}
						mu.Lock()
						res.Checked++
						res.MaxDiff = max(res.MaxDiff, d)
						mu.Unlock()
					}
				case http.StatusServiceUnavailable:
					if retry == "" {
						fail("request %d: 503 without Retry-After", n)
						continue
					}
					mu.Lock()
					if strings.Contains(string(body), "shutting down") {
						res.Closed++
						closed.Store(true)
					} else {
						res.Busy++
					}
					mu.Unlock()
				case http.StatusGatewayTimeout:
					mu.Lock()
					res.Timeout++
					mu.Unlock()
				default:
					fail("request %d: status %d: %s", n, code, body)
				}
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Sent = sent.Load()
	for _, ls := range perLats {
		res.Latencies = append(res.Latencies, ls...)
	}
	slices.Sort(res.Latencies)
	return res
}

// diff is max |got - want| over 1 + max |want|.
func diff(got, want []float32) float64 {
	var d, m float64
	for i, w := range want {
		d = max(d, math.Abs(float64(got[i])-float64(w)))
		m = max(m, math.Abs(float64(w)))
	}
	return d / (1 + m)
}

// post sends one raw float32 request.
func post(c *http.Client, url string, body []byte) (code int, retryAfter string, resp []byte, err error) {
	r, err := c.Post(url, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return r.StatusCode, r.Header.Get("Retry-After"), b, err
}

// Direct is the baseline: a plain loop over the package, one image per
// Logits call, for n calls (or until d has passed); its latencies are
// those of each call.
func Direct(net *rt.Net, p *Pool, n int, d time.Duration) *Result {
	res := &Result{Versions: map[int64]int64{}}
	start := time.Now()
	for i := 0; i < n && time.Since(start) < d; i++ {
		t0 := time.Now()
		if _, err := net.Logits(p.Images[i%len(p.Images)]); err != nil {
			res.Failed++
			continue
		}
		res.Latencies = append(res.Latencies, time.Since(t0))
		res.OK++
		res.Sent++
	}
	res.Elapsed = time.Since(start)
	slices.Sort(res.Latencies)
	return res
}
