package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool: persistent goroutines that each compute one part of a
// large product. A product uses the pool only if it is large enough
// (minParallelWork multiply-adds per part) and the pool is free (TryLock);
// otherwise it runs on the calling goroutine. The caller computes part 0
// itself. Nothing is allocated per call: the problem is copied into the pool,
// a job is announced by bumping pool.gen, and finished parts are counted down
// in pool.pending.
//
// After a part a worker spins (yielding with runtime.Gosched) for spinTime
// waiting for the next job, because back-to-back products are the common
// case and waking a parked goroutine costs microseconds; then it parks on
// its channel until the next job wakes it. The caller, done with its part,
// likewise spins for spinTime before parking until the last worker wakes it
// (parking frees the core when the machine is busy with other work).

// minParallelWork is the number of multiply-adds below which a part is not
// worth a hand-off to another goroutine (a few microseconds of work).
const minParallelWork = 1 << 20

const spinTime = 20 * time.Microsecond

type workerPool struct {
	mu      sync.Mutex // held by the call that uses the pool
	workers []*poolWorker
	gen     atomic.Uint64 // job number
	pending atomic.Int32  // workers that have not finished the current job
	// callerWaits is the job the caller is parked (or about to park) on
	// callerWake for, 0 if none. Keying it by job keeps a worker that is
	// slow to report job N from waking the caller of job N+1.
	callerWaits atomic.Uint64
	callerWake  chan struct{}
	p           problem
	parts       int
	byCols      bool // parts split the columns (else the rows)
}

type poolWorker struct {
	part     int         // the part this worker computes
	sleeping atomic.Bool // parked or about to park on wake
	wake     chan struct{}
}

var (
	pool    = workerPool{callerWake: make(chan struct{}, 1)}
	threads = runtime.GOMAXPROCS(0)
	thMu    sync.Mutex
)

// SetThreads sets the number of goroutines (the caller included) that one
// Sgemm call may use and returns the previous value; n < 1 means
// runtime.GOMAXPROCS(0). The default is GOMAXPROCS at start-up.
func SetThreads(n int) int {
	thMu.Lock()
	defer thMu.Unlock()
	old := threads
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	threads = n
	return old
}

func maxThreads() int {
	thMu.Lock()
	t := threads
	thMu.Unlock()
	return t
}

// parallel computes p with the worker pool and reports true, or reports
// false if p is too small, only one thread is allowed or the pool is busy.
func parallel(p *problem) bool {
	work := p.m * p.n * p.k
	t := min(maxThreads(), work/minParallelWork)
	if t < 2 {
		return false
	}
	kn := p.kern
	// Each part packs all of one operand and its share of the other: split
	// the dimension that leaves the cheaper packing per part. Packing that
	// transposes (A not transposed, B transposed) costs about twice a copy.
	costA, costB := p.m*p.k, p.k*p.n
	if !p.aT {
		costA *= 2
	}
	if p.bT {
		costB *= 2
	}
	byCols := costA+costB/t < costA/t+costB
	units := (p.m + kn.mr - 1) / kn.mr
	if byCols {
		units = (p.n + kn.nr - 1) / kn.nr
	}
	t = min(t, units)
	if t < 2 || !pool.mu.TryLock() {
		return false
	}
	defer pool.mu.Unlock()
	for len(pool.workers) < t-1 {
		w := &poolWorker{part: len(pool.workers) + 1, wake: make(chan struct{}, 1)}
		pool.workers = append(pool.workers, w)
		go w.run(pool.gen.Load())
	}
	pool.p = *p
	pool.parts = t
	pool.byCols = byCols
	pool.pending.Store(int32(len(pool.workers)))
	pool.gen.Add(1)
	for _, w := range pool.workers {
		if w.sleeping.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
	job := pool.gen.Load()
	runPart(0)
	pool.waitDone(job)
	pool.p = problem{} // drop references to the caller's slices
	return true
}

func (w *poolWorker) run(seen uint64) {
	for {
		seen = w.wait(seen)
		if w.part < pool.parts {
			runPart(w.part)
		}
		if pool.pending.Add(-1) == 0 && pool.callerWaits.CompareAndSwap(seen, 0) {
			pool.callerWake <- struct{}{}
		}
	}
}

// waitDone returns when every worker has finished the current job: it spins
// for up to spinTime, then parks until the last worker wakes it.
func (pl *workerPool) waitDone(job uint64) {
	if spin(func() bool { return pl.pending.Load() == 0 }) {
		return
	}
	pl.callerWaits.Store(job)
	if pl.pending.Load() == 0 && pl.callerWaits.CompareAndSwap(job, 0) {
		return
	}
	// The last worker saw callerWaits == job and sends the wake-up.
	<-pl.callerWake
}

// spin polls done for up to spinTime, yielding the processor now and then.
func spin(done func() bool) bool {
	start := time.Now()
	for i := 0; ; i++ {
		if done() {
			return true
		}
		if i%64 == 63 {
			if time.Since(start) > spinTime {
				return false
			}
			runtime.Gosched()
		}
	}
}

// wait returns the number of the next job after seen.
func (w *poolWorker) wait(seen uint64) uint64 {
	if spin(func() bool { return pool.gen.Load() != seen }) {
		return pool.gen.Load()
	}
	w.sleeping.Store(true)
	if g := pool.gen.Load(); g != seen && w.sleeping.CompareAndSwap(true, false) {
		return g
	}
	// Either no job yet, or the dispatcher saw sleeping and sends a wake-up.
	<-w.wake
	return pool.gen.Load()
}

// runPart computes part i of pool.p: a range of whole column strips (or
// row strips) of C.
func runPart(i int) {
	p := &pool.p
	kn := p.kern
	unit, length := kn.mr, p.m
	if pool.byCols {
		unit, length = kn.nr, p.n
	}
	units := (length + unit - 1) / unit
	lo := min(length, units*i/pool.parts*unit)
	hi := min(length, units*(i+1)/pool.parts*unit)
	if lo >= hi {
		return
	}
	s := kn.getScratch()
	if pool.byCols {
		p.block(s, 0, p.m, lo, hi)
	} else {
		p.block(s, lo, hi, 0, p.n)
	}
	kn.putScratch(s)
}
