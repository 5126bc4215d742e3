package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool: persistent goroutines that help with large products. A
// product uses the pool only if it is large enough (minParallelWork
// multiply-adds per part) and the pool is free (TryLock); otherwise it runs on
// the calling goroutine. C is cut into parts, one per thread; the caller
// publishes the job in pool.claim, nudges the workers through buffered
// channels and then claims parts itself like any worker: a part is taken by
// a compare-and-swap on claim, so if a worker is slow to wake (the machine is
// busy) the caller simply computes its part too. The caller waits for the
// claimed parts on a WaitGroup. Idle workers poll claim for spinTime before
// they park on their channel. Nothing is allocated per call.

// minParallelWork is the number of multiply-adds below which a part is not
// worth a hand-off to another goroutine (a few microseconds of work).
const minParallelWork = 1 << 20

// spinTime is how long an idle worker polls for the next job before it
// parks.
const spinTime = 50 * time.Microsecond

// claim packs the job number (bits 40-63), the number of parts (20-39) and
// the next part to hand out (0-19).
const (
	claimGenShift   = 40
	claimPartsShift = 20
	claimMask       = 1<<20 - 1
)

type workerPool struct {
	mu     sync.Mutex // held by the call that uses the pool
	nudge  []chan struct{}
	claim  atomic.Uint64
	gen    uint64
	wg     sync.WaitGroup // parts not yet computed
	done   atomic.Int32   // parts computed (for the caller's spin)
	p      problem
	byCols bool // parts split the columns (else the rows)
	parts  int
}

var (
	pool    workerPool
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
	for len(pool.nudge) < t-1 {
		ch := make(chan struct{}, 1)
		pool.nudge = append(pool.nudge, ch)
		go worker(ch)
	}
	pool.p = *p
	pool.parts = t
	pool.byCols = byCols
	pool.gen = (pool.gen + 1) & (1<<(64-claimGenShift) - 1)
	pool.wg.Add(t)
	pool.done.Store(0)
	pool.claim.Store(pool.gen<<claimGenShift | uint64(t)<<claimPartsShift)
	for _, ch := range pool.nudge[:t-1] {
		select {
		case ch <- struct{}{}:
		default: // already nudged: it will look at claim anyway
		}
	}
	claimParts()
	// Spin briefly for the other parts (a parked caller is slow to wake),
	// then wait on the WaitGroup, which also orders the workers' writes.
	start := time.Now()
	for i := 1; pool.done.Load() < int32(t); i++ {
		if i%64 == 0 {
			if time.Since(start) > spinTime {
				break
			}
			runtime.Gosched()
		}
	}
	pool.wg.Wait()
	pool.p = problem{} // drop references to the caller's slices
	return true
}

func worker(nudge chan struct{}) {
	for range nudge {
		claimParts()
		// Back-to-back products are common and waking a parked goroutine
		// takes tens of microseconds here: look for the next job for a
		// while before parking. The nudge is only a hint, so a stale one
		// is harmless and none is lost: the caller stores the job before
		// it nudges, and a parked worker always has a nudge coming.
		start := time.Now()
		for i := 1; ; i++ {
			if c := pool.claim.Load(); int(c&claimMask) < int(c>>claimPartsShift&claimMask) {
				claimParts()
				start = time.Now()
			}
			if i%64 == 0 {
				if time.Since(start) > spinTime {
					break
				}
				runtime.Gosched()
			}
		}
	}
}

// claimParts computes parts of the current job until none is left.
func claimParts() {
	for {
		c := pool.claim.Load()
		next, parts := int(c&claimMask), int(c>>claimPartsShift&claimMask)
		if next >= parts {
			return
		}
		if pool.claim.CompareAndSwap(c, c+1) {
			// The job cannot change before this part is Done.
			runPart(next)
			pool.done.Add(1)
			pool.wg.Done()
		}
	}
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
