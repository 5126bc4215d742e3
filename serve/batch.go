package serve

// The batch worker: one goroutine owns the network (a Net is not safe for
// concurrent use; its kernels use every core on their own). It takes the
// queued requests, up to MaxBatch images, runs them as one batch and answers
// each with its own rows.

import (
	"fmt"
	"time"

	rt "github.com/cnnc-dev/cnnc/runtime"
)

// work runs batches until the queue is closed and drained.
func (s *Server) work() {
	defer close(s.done)
	mb, size := s.in.maxBatch, s.in.shape.Size()
	x := make([]float32, mb*size)
	var batch []*job
	var carry *job // a request that did not fit in the previous batch
	for {
		batch = batch[:0]
		n := 0
		add := func(j *job) {
			if j.ctx.Err() != nil { // its client gave up: do not compute it
				j.answer <- result{err: j.ctx.Err()}
				return
			}
			copy(x[n*size:], j.x)
			n += j.k
			batch = append(batch, j)
		}
		first := carry
		carry = nil
		if first == nil {
			j, ok := <-s.queue
			if !ok {
				return
			}
			s.pending.Add(-1)
			first = j
		}
		add(first)
		carry = s.gather(mb, &n, add)
		if n > 0 {
			s.run(batch, x[:n*size], n)
		}
	}
}

// gather adds queued requests while the batch has room: what is queued at
// once, then what arrives within MaxDelay. It returns a request that did
// not fit, for the next batch.
func (s *Server) gather(mb int, n *int, add func(*job)) *job {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for *n < mb {
		var j *job
		var ok bool
		select {
		case j, ok = <-s.queue:
		default:
			if s.cfg.MaxDelay == 0 {
				return nil
			}
			if timer == nil {
				timer = time.NewTimer(s.cfg.MaxDelay)
			}
			select {
			case j, ok = <-s.queue:
			case <-timer.C:
				return nil
			}
		}
		if !ok {
			return nil // closed: run what we have; work sees the close next
		}
		s.pending.Add(-1)
		if *n+j.k > mb {
			return j
		}
		add(j)
	}
	return nil
}

// run computes one batch of n images on the current weights and answers
// each request with its rows.
func (s *Server) run(batch []*job, x []float32, n int) {
	m := s.model.Load()
	start := time.Now()
	logits, err := s.forward(m.net, x)
	s.metrics.batchSize.Observe(float64(n))
	s.metrics.batchSeconds.Observe(time.Since(start).Seconds())
	c := s.classes
	at := 0
	for _, j := range batch {
		if err != nil {
			j.answer <- result{err: err}
			continue
		}
		l := append([]float32(nil), logits[at*c:(at+j.k)*c]...)
		p := make([]float32, len(l))
		rt.Softmax{Classes: c}.Forward(j.k, l, p)
		j.answer <- result{logits: l, outputs: p, version: m.version}
		at += j.k
	}
}

// forward runs the network, turning a panic (a bug, never the client's
// input, which is checked) into an error for this batch alone.
func (s *Server) forward(net *rt.Net, x []float32) (logits []float32, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("serve: forward: %v", r)
		}
	}()
	return net.Logits(x)
}
