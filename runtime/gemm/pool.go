package gemm

import (
	"runtime"
	"sync"
)

// The worker pool: persistent goroutines that each compute one part of a
// large product. A product uses the pool only if it is large enough
// (minParallelWork multiply-adds per part) and the pool is free; otherwise
// it runs on the calling goroutine. The caller computes part 0 itself.
// Nothing is allocated per call: the problem is copied into the pool and the
// workers receive part numbers over channels.

// minParallelWork is the number of multiply-adds below which a part is not
// worth a hand-off to another goroutine (a few microseconds of work).
const minParallelWork = 1 << 20

type workerPool struct {
	mu      sync.Mutex // held by the call that uses the pool
	started int        // workers running
	work    []chan int // one per worker: the part to compute
	wg      sync.WaitGroup
	p       problem
	parts   int
	byCols  bool // parts split the columns (else the rows)
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
	for pool.started < t-1 {
		ch := make(chan int)
		pool.work = append(pool.work, ch)
		pool.started++
		go worker(ch)
	}
	pool.p = *p
	pool.parts = t
	pool.byCols = byCols
	pool.wg.Add(t - 1)
	for i := 1; i < t; i++ {
		pool.work[i-1] <- i
	}
	runPart(0)
	pool.wg.Wait()
	pool.p = problem{} // drop references to the caller's slices
	return true
}

func worker(ch chan int) {
	for part := range ch {
		runPart(part)
		pool.wg.Done()
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
