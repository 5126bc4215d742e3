package runtime

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// The worker arrangement: a fixed set of goroutines started once, fed with
// *parJob values over a channel. A job is recycled through a free list, and
// the work description (a runner) is recycled by the kernel that owns it, so
// that a parallel call allocates nothing in steady state.

// runner is one parallel loop body: run(slot, item) processes item using
// the per-worker resources of slot (0 <= slot < the number of participants).
type runner interface {
	run(slot, item int)
}

type parJob struct {
	r     runner
	items int32
	next  atomic.Int32
	slots atomic.Int32
	wg    sync.WaitGroup
}

func (j *parJob) work() {
	slot := int(j.slots.Add(1) - 1)
	for {
		i := j.next.Add(1) - 1
		if i >= j.items {
			return
		}
		j.r.run(slot, int(i))
	}
}

var (
	workersMu  sync.Mutex
	numWorkers = runtime.GOMAXPROCS(0)
	started    int // goroutines started so far
	workCh     = make(chan *parJob, 64)
	jobFree    freeList[parJob]
)

// Workers returns the maximum number of goroutines (the caller included) a
// kernel uses. It defaults to GOMAXPROCS at program start.
func Workers() int {
	workersMu.Lock()
	defer workersMu.Unlock()
	return numWorkers
}

// SetWorkers sets the maximum number of goroutines a kernel uses (n >= 1) and
// returns the previous value. ScratchSize results depend on it: call it before
// sizing scratch buffers. A kernel given less scratch than ScratchSize asks
// for simply uses fewer workers.
func SetWorkers(n int) int {
	if n < 1 {
		panic(fmt.Sprintf("runtime.SetWorkers: n = %d, want >= 1", n))
	}
	workersMu.Lock()
	defer workersMu.Unlock()
	old := numWorkers
	numWorkers = n
	return old
}

// ensureWorkers starts goroutines so that n-1 helpers exist.
func ensureWorkers(n int) {
	workersMu.Lock()
	for started < n-1 {
		started++
		go func() {
			for j := range workCh {
				j.work()
				j.wg.Done()
			}
		}()
	}
	workersMu.Unlock()
}

// parallelFor runs r.run(slot, i) for i in [0, items) on at most maxSlots
// goroutines (the caller's included), and returns when all are done.
func parallelFor(items, maxSlots int, r runner) {
	p := min(items, maxSlots, Workers())
	if p <= 1 {
		for i := 0; i < items; i++ {
			r.run(0, i)
		}
		return
	}
	ensureWorkers(p)
	j := jobFree.get()
	j.r = r
	j.items = int32(items)
	j.next.Store(0)
	j.slots.Store(0)
	j.wg.Add(p - 1)
	for k := 0; k < p-1; k++ {
		workCh <- j
	}
	j.work()
	j.wg.Wait()
	j.r = nil
	jobFree.put(j)
}

// freeList recycles values of type T; get allocates only when it is empty.
type freeList[T any] struct {
	mu    sync.Mutex
	items []*T
}

func (f *freeList[T]) get() *T {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.items); n > 0 {
		v := f.items[n-1]
		f.items[n-1] = nil
		f.items = f.items[:n-1]
		return v
	}
	return new(T)
}

func (f *freeList[T]) put(v *T) {
	f.mu.Lock()
	f.items = append(f.items, v)
	f.mu.Unlock()
}

// check panics with a clear message when a buffer has the wrong length.
// Callers are generated code: a mismatch is a bug, not bad input.
func check(op, name string, buf []float32, want int) {
	if len(buf) != want {
		panic(fmt.Sprintf("runtime.%s: len(%s) = %d, want %d", op, name, len(buf), want))
	}
}

// checkMin panics when a buffer is shorter than want.
func checkMin(op, name string, buf []float32, want int) {
	if len(buf) < want {
		panic(fmt.Sprintf("runtime.%s: len(%s) = %d, want >= %d", op, name, len(buf), want))
	}
}

// planeJob runs one item (a plane or a channel) of a memory-bound kernel:
// f is a top-level function (never a closure, so nothing escapes), the op's
// geometry and buffers are copied in.
type planeJob struct {
	f    func(j *planeJob, slot, item int)
	n    int
	pool Pool
	lrn  LRN
	bn   BN
	ln   LayerNorm
	s    [9][]float32
	idx  []int32
	a    float32 // a scalar argument: leaky relu's slope
}

func (j *planeJob) run(slot, item int) { j.f(j, slot, item) }

var planeJobs freeList[planeJob]

// minParallelElems is the tensor size below which a memory-bound kernel
// runs on the caller's goroutine only (a hand-off costs microseconds).
// Tests lower it to exercise the parallel paths on small shapes.
var minParallelElems = 1 << 16

// runPlanes runs j.f for items [0, items) on up to maxSlots goroutines, or
// serially when the kernel touches fewer than minParallelElems elements.
func runPlanes(items, elems, maxSlots int, j *planeJob) {
	jp := planeJobs.get()
	*jp = *j
	if elems < minParallelElems {
		maxSlots = 1
	}
	parallelFor(items, maxSlots, jp)
	*jp = planeJob{}
	planeJobs.put(jp)
}
