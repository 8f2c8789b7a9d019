package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// pool runs the pieces of one op on a fixed set of goroutines. Work is split
// into pieces by the op itself (never by the thread count), so a result does
// not depend on how many threads computed it, nor on which thread ran which
// piece.
//
// A decode step runs a few hundred ops of a few microseconds each, so the
// hand-off must cost far less than that. Helpers therefore spin on a job
// counter for poolSpin after each job before they park; a parked helper
// costs the caller a wake-up (a futex, tens of microseconds when the other
// core is busy), a spinning one a cache-line transfer. Ops smaller than
// poolMinWork run on the calling goroutine alone (runWork), since even a
// cheap hand-off is not paid back there.
type pool struct {
	threads int
	// spin says whether helpers and the caller poll before they block:
	// only when every thread can have a processor (GOMAXPROCS >= threads).
	// Otherwise a polling goroutine would hold the processor that the
	// goroutine it waits for needs.
	spin bool
	// mu is held by the caller whose job is published. A second caller
	// (another goroutine sharing the backend, or a piece that itself calls
	// the pool) does not wait for it: it runs its pieces alone.
	mu      sync.Mutex
	seq     atomic.Uint64       // bumped when a job is published
	cur     atomic.Pointer[job] // the published job; nil between jobs
	helpers []*helper
}

// helper is one of the pool's goroutines.
type helper struct {
	parked atomic.Bool   // blocked on wake (set by the helper, cleared by whoever wakes it)
	wake   chan struct{} // capacity 1
	_      [48]byte      // keep helpers' flags off each other's cache lines
}

// job is one run call. It is never reused: a helper that arrives after the
// last piece was taken may still read next.
type job struct {
	fn   func(i int)
	n    int64
	_    [48]byte     // next on a line of its own: every piece writes it
	next atomic.Int64 // next piece to take
	_    [56]byte
	done atomic.Int64 // pieces finished; each thread adds its count once
	// The caller's wait when the last pieces run long: it sets waiting and
	// blocks on fin; whoever finishes the last piece and clears waiting sends.
	waiting atomic.Bool
	fin     chan struct{}
}

const (
	// poolSpin is how long a helper polls for the next job before it parks:
	// longer than the serial stretches of a decode step between two
	// parallel ops (sampling, small ops, bookkeeping), short enough that an
	// idle backend gives its cores back at once.
	poolSpin = 100 * time.Microsecond
	// poolWaitSpin is how many polls the caller makes for the helpers'
	// last pieces before it blocks.
	poolWaitSpin = 1 << 14
	// poolMinWork is the least work, in multiply-adds or elements touched,
	// that runWork shares between threads: about 2 microseconds of one
	// core, several times the cost of handing pieces to a spinning helper
	// and waiting for the last one.
	poolMinWork = 1 << 15
)

func newPool(threads int) *pool {
	return newPoolSpin(threads, runtime.GOMAXPROCS(0) >= threads)
}

func newPoolSpin(threads int, spin bool) *pool {
	p := &pool{threads: threads, spin: spin}
	for i := 0; i < threads-1; i++ {
		h := &helper{wake: make(chan struct{}, 1)}
		p.helpers = append(p.helpers, h)
		go p.loop(h)
	}
	return p
}

// loop is a helper goroutine: it takes pieces of each published job.
func (p *pool) loop(h *helper) {
	var seen uint64
	for {
		seen = p.await(h, seen)
		if j := p.cur.Load(); j != nil {
			j.work()
		}
	}
}

// await returns the job counter once it differs from seen: it polls for
// poolSpin, then parks until a caller wakes it.
func (p *pool) await(h *helper, seen uint64) uint64 {
	start := time.Now()
	for i := 1; p.spin; i++ {
		if s := p.seq.Load(); s != seen {
			return s
		}
		if i%256 == 0 && time.Since(start) > poolSpin {
			break
		}
	}
	h.parked.Store(true)
	if s := p.seq.Load(); s != seen && h.parked.CompareAndSwap(true, false) {
		return s // a job came while parking, and nobody is waking us
	}
	<-h.wake // a caller cleared parked and sends (or has sent) a token
	return p.seq.Load()
}

// work takes and runs pieces until none is left, then adds how many it
// ran to done (one write to that shared line per thread, not per piece).
func (j *job) work() {
	var did int64
	for i := j.next.Add(1) - 1; i < j.n; i = j.next.Add(1) - 1 {
		j.fn(int(i))
		did++
	}
	if did > 0 && j.done.Add(did) == j.n && j.waiting.CompareAndSwap(true, false) {
		j.fin <- struct{}{}
	}
}

// run calls fn(i) for every i in [0, n), spread over the pool's threads, and
// returns when all calls have returned. The calling goroutine takes part.
func (p *pool) run(n int, fn func(i int)) {
	if n <= 0 {
		return
	}
	if p.threads == 1 || n == 1 || !p.mu.TryLock() {
		serial(n, fn)
		return
	}
	defer p.mu.Unlock()
	j := &job{fn: fn, n: int64(n)}
	p.cur.Store(j)
	p.seq.Add(1)
	for _, h := range p.helpers[:min(len(p.helpers), n-1)] {
		if h.parked.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
	j.work()
	for i := 0; j.done.Load() < j.n; i++ {
		if p.spin && i < poolWaitSpin {
			continue
		}
		// A helper is still in a piece (or its thread was descheduled):
		// block rather than take a core from it.
		j.fin = make(chan struct{}, 1)
		j.waiting.Store(true)
		if j.done.Load() < j.n || !j.waiting.CompareAndSwap(true, false) {
			<-j.fin
		}
		break
	}
	p.cur.Store(nil) // drop the closure (and what it holds) now
	runtime.KeepAlive(j)
}

// runWork is run for an op of about work multiply-adds (or elements): below
// poolMinWork the pieces run on the calling goroutine, in order. Either way
// the pieces are the same, so are the results.
func (p *pool) runWork(n, work int, fn func(i int)) {
	if work < poolMinWork {
		serial(n, fn)
		return
	}
	p.run(n, fn)
}

func serial(n int, fn func(i int)) {
	for i := 0; i < n; i++ {
		fn(i)
	}
}

// chunks calls fn(lo, hi) over [0, n) in pieces of at most grain elements.
// The pieces depend only on n and grain.
func (p *pool) chunks(n, grain int, fn func(lo, hi int)) {
	p.chunksWork(n, grain, poolMinWork, fn)
}

// chunksWork is chunks for an op of about work multiply-adds (see runWork).
func (p *pool) chunksWork(n, grain, work int, fn func(lo, hi int)) {
	if grain < 1 {
		grain = 1
	}
	pieces := (n + grain - 1) / grain
	p.runWork(pieces, work, func(i int) {
		lo := i * grain
		fn(lo, min(lo+grain, n))
	})
}
