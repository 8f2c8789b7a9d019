package cpu

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Every piece runs exactly once, for job sizes around the thread count and
// for jobs that follow each other faster than the helpers park, or slower.
func TestPoolRunsEveryPieceOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 5} {
		p := newPool(threads)
		for _, n := range []int{0, 1, 2, 3, 7, 64, 1000} {
			for rep := 0; rep < 50; rep++ {
				counts := make([]atomic.Int32, n)
				p.run(n, func(i int) { counts[i].Add(1) })
				for i := range counts {
					require.Equal(t, int32(1), counts[i].Load(), "threads %d, n %d, piece %d", threads, n, i)
				}
			}
			time.Sleep(2 * poolSpin) // the next sizes find the helpers parked
		}
	}
}

// A piece that calls the pool again, and two goroutines that share one
// pool, both finish (the second caller runs alone) with every piece done.
func TestPoolNestedAndConcurrent(t *testing.T) {
	p := newPool(2)
	var total atomic.Int64
	p.run(8, func(i int) {
		p.run(8, func(j int) { total.Add(1) })
	})
	require.Equal(t, int64(64), total.Load())

	total.Store(0)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 200; rep++ {
				p.run(16, func(int) { total.Add(1) })
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int64(4*200*16), total.Load())
}

// Pieces that outlast the caller's polling make it block and be woken by
// the helper that finishes last.
func TestPoolWaitsForSlowPieces(t *testing.T) {
	p := newPool(2)
	var done atomic.Int32
	for rep := 0; rep < 5; rep++ {
		done.Store(0)
		p.run(2, func(i int) {
			if i == 1 {
				time.Sleep(5 * time.Millisecond)
			}
			done.Add(1)
		})
		require.Equal(t, int32(2), done.Load())
	}
}

// runWork keeps small ops on the calling goroutine, in piece order.
func TestPoolRunWorkSmallIsSerial(t *testing.T) {
	p := newPool(4)
	var order []int
	p.runWork(10, poolMinWork-1, func(i int) { order = append(order, i) }) // no lock needed: serial
	require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, order)
}

// BenchmarkPoolRun measures one hand-off of two tiny pieces: what a decode
// op pays for using a second thread.
func BenchmarkPoolRun(b *testing.B) {
	for _, threads := range []int{1, 2} {
		p := newPool(threads)
		var sink atomic.Int64
		b.Run(map[int]string{1: "threads=1", 2: "threads=2"}[threads], func(b *testing.B) {
			for b.Loop() {
				p.run(2, func(i int) { sink.Add(int64(i)) })
			}
		})
	}
}

// With more threads than GOMAXPROCS nobody polls (a poller would hold the
// processor the others need), and every piece still runs once.
func TestPoolWithoutSpinning(t *testing.T) {
	p := newPoolSpin(3, false)
	for rep := 0; rep < 200; rep++ {
		counts := make([]atomic.Int32, 9)
		p.run(9, func(i int) { counts[i].Add(1) })
		for i := range counts {
			require.Equal(t, int32(1), counts[i].Load(), "piece %d", i)
		}
	}
}
