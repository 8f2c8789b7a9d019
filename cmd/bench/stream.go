package main

import (
	"slices"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/asm"
)

func init() {
	register("stream", "memory read bandwidth (GB/s): the ceiling of the bandwidth-bound decode products (gemm --trans NT with m = 1)", runStream)
}

// streamResult is one line of the stream suite: the best rate at which
// threads goroutines sum disjoint parts of a float32 buffer of MiB mebibytes
// (asm.Sum, the widest vector loads this CPU has), read again and again.
// A buffer of a decode product's weights (8 MiB: 2048 x 2048 bf16, 16 MiB
// f32) sits in L3 on the reference machine; 256 MiB comes from memory.
type streamResult struct {
	Suite   string  `json:"suite"`
	MiB     int     `json:"mib"`
	Threads int     `json:"threads"`
	GBPerS  float64 `json:"gb_per_s"`
	Median  float64 `json:"median_gb_per_s"`
	Reps    int     `json:"reps"`
}

func runStream(args []string) error {
	fs := pflag.NewFlagSet("stream", pflag.ContinueOnError)
	sizes := fs.IntSlice("mib", []int{8, 16, 256}, "buffer sizes in MiB")
	threads := fs.IntSlice("threads", []int{1, 2}, "reading goroutines")
	reps := fs.Int("reps", 20, "timed passes over the buffer (after one untimed)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, s := range *sizes {
		if s < 1 || s > 1<<14 {
			return badInput("--mib %d: want 1 to 16384", s)
		}
	}
	for _, t := range *threads {
		if t < 1 || t > 1024 {
			return badInput("--threads %d: want 1 to 1024", t)
		}
	}
	if *reps < 1 {
		return badInput("--reps %d: want >= 1", *reps)
	}
	for _, s := range *sizes {
		buf := make([]float32, s<<20/4)
		for i := range buf {
			buf[i] = 1 // touch every page before timing
		}
		for _, t := range *threads {
			if err := emit(benchStream(buf, t, *reps, s)); err != nil {
				return err
			}
		}
	}
	return nil
}

// benchStream times reps passes of threads goroutines over buf, each
// summing its own contiguous part; the goroutines start together and a
// pass ends when the last one is done.
func benchStream(buf []float32, threads, reps, mib int) streamResult {
	part := (len(buf) + threads - 1) / threads
	sums := make([]float32, threads) // results kept, so the reads stay
	pass := func() time.Duration {
		var wg sync.WaitGroup
		t0 := time.Now()
		for g := 0; g < threads; g++ {
			lo, hi := min(g*part, len(buf)), min((g+1)*part, len(buf))
			wg.Add(1)
			go func() {
				defer wg.Done()
				sums[g] = asm.Sum(buf[lo:hi])
			}()
		}
		wg.Wait()
		return time.Since(t0)
	}
	pass()
	times := make([]time.Duration, reps)
	for i := range times {
		times[i] = pass()
	}
	slices.Sort(times)
	gb := func(d time.Duration) float64 { return round2(float64(len(buf)*4) / d.Seconds() / 1e9) }
	return streamResult{Suite: "stream", MiB: mib, Threads: threads, GBPerS: gb(times[0]), Median: gb(times[reps/2]), Reps: reps}
}
