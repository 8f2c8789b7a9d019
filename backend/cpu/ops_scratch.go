package cpu

import "sync"

// scratchPool recycles the float32 scratch of ops whose pieces need more
// than fits on a stack (attention's score blocks). A training step calls
// such ops hundreds of times; fresh slices each time made ~100 MB of garbage
// per step, which the collector let grow the heap to twice the live data.
var scratchPool sync.Pool

// getScratch returns a slice of n float32 with unspecified contents; give it
// back with putScratch.
func getScratch(n int) *[]float32 {
	if p, ok := scratchPool.Get().(*[]float32); ok {
		if cap(*p) >= n {
			*p = (*p)[:n]
			return p
		}
	}
	s := make([]float32, n)
	return &s
}

// putScratch hands a slice from getScratch back for reuse.
func putScratch(p *[]float32) { scratchPool.Put(p) }

// elemBlock is the sub-block of elementwise ops that need a temporary: its
// scratch lives on the stack (4 KiB) and stays in L1 between the two passes.
const elemBlock = 1024
