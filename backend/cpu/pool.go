package cpu

import "sync"

// pool runs the pieces of one op on a fixed set of goroutines. Work is split
// into pieces by the op itself (never by the thread count), so a result does
// not depend on how many threads computed it.
type pool struct {
	threads int
	work    chan func()
}

func newPool(threads int) *pool {
	p := &pool{threads: threads}
	if threads > 1 {
		p.work = make(chan func())
		for i := 0; i < threads-1; i++ {
			go func() {
				for f := range p.work {
					f()
				}
			}()
		}
	}
	return p
}

// run calls fn(i) for every i in [0, n), spread over the pool's threads, and
// returns when all calls have returned. The calling goroutine takes part.
func (p *pool) run(n int, fn func(i int)) {
	if n <= 0 {
		return
	}
	if p.threads == 1 || n == 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	take := func() int {
		mu.Lock()
		i := next
		next++
		mu.Unlock()
		return i
	}
	worker := func() {
		for i := take(); i < n; i = take() {
			fn(i)
		}
	}
	helpers := min(p.threads-1, n-1)
	wg.Add(helpers)
	for h := 0; h < helpers; h++ {
		p.work <- func() { worker(); wg.Done() }
	}
	worker()
	wg.Wait()
}

// chunks calls fn(lo, hi) over [0, n) in pieces of at most grain elements.
// The pieces depend only on n and grain.
func (p *pool) chunks(n, grain int, fn func(lo, hi int)) {
	if grain < 1 {
		grain = 1
	}
	pieces := (n + grain - 1) / grain
	p.run(pieces, func(i int) {
		lo := i * grain
		fn(lo, min(lo+grain, n))
	})
}
