package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/cpu"
)

func init() {
	register("gemm", "SGEMM throughput of the CPU backend (GFLOP/s)", runGemm)
}

// gemmShapes are m x n x k: square sizes, then the transformer's shapes
// (token rows x model widths) and the decode matrix-vector.
var gemmShapes = []string{
	"512x512x512", "1024x1024x1024", "2048x2048x2048",
	"2048x1024x256", "2048x256x1024", "2048x256x256", "2048x2048x256",
	"1x2048x2048",
}

type gemmResult struct {
	Suite    string  `json:"suite"`
	Name     string  `json:"name"`
	M        int     `json:"m"`
	N        int     `json:"n"`
	K        int     `json:"k"`
	Trans    string  `json:"trans"`
	Threads  int     `json:"threads"`
	GFLOPS   float64 `json:"gflops"`
	MedianGF float64 `json:"median_gflops"`
	BestMS   float64 `json:"best_ms"`
	Reps     int     `json:"reps"`
	Kernel   string  `json:"kernel"`
}

func runGemm(args []string) error {
	fs := pflag.NewFlagSet("gemm", pflag.ContinueOnError)
	threads := fs.Int("threads", 0, "threads to run on; 0 runs 1 thread and then GOMAXPROCS threads")
	shapes := fs.StringSlice("shapes", gemmShapes, "MxNxK shapes to run")
	trans := fs.String("trans", "NN", "transposes of A and B: NN, NT, TN or TT")
	warmup := fs.Int("warmup", 3, "untimed repetitions before timing")
	reps := fs.Int("reps", 10, "timed repetitions (at least)")
	minTime := fs.Duration("min-time", 500*time.Millisecond, "keep repeating until this much time is timed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil // usage already printed
		}
		return err
	}
	if len(*trans) != 2 || strings.Trim(*trans, "NT") != "" {
		return fmt.Errorf("--trans %q: want NN, NT, TN or TT", *trans)
	}
	ta, tb := (*trans)[0] == 'T', (*trans)[1] == 'T'
	counts := []int{*threads}
	if *threads <= 0 {
		counts = []int{1}
		if all := runtime.GOMAXPROCS(0); all > 1 {
			counts = append(counts, all)
		}
	}
	for _, t := range counts {
		for _, sh := range *shapes {
			var m, n, k int
			if _, err := fmt.Sscanf(sh, "%dx%dx%d", &m, &n, &k); err != nil || m < 1 || n < 1 || k < 1 {
				return fmt.Errorf("shape %q: want MxNxK with positive sizes", sh)
			}
			r := benchGemm(cpu.New(t), ta, tb, m, n, k, *warmup, *reps, *minTime)
			r.Name, r.Trans = sh, *trans
			if err := emit(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// benchGemm times C = A*B (beta = 0) on random data and reports the best
// and median repetition.
func benchGemm(c *cpu.CPU, ta, tb bool, m, n, k, warmup, reps int, minTime time.Duration) gemmResult {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) backend.View {
		v := backend.Whole(c.Alloc(n))
		x := cpu.Slice(v, n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		return v
	}
	a, b, cv := fill(m*k), fill(k*n), fill(m*n)
	lda, ldb := k, n
	if ta {
		lda = m
	}
	if tb {
		ldb = k
	}
	run := func() { c.Gemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, cv, n) }
	for i := 0; i < warmup; i++ {
		run()
	}
	var times []time.Duration
	var total time.Duration
	for len(times) < reps || total < minTime {
		t0 := time.Now()
		run()
		d := time.Since(t0)
		times = append(times, d)
		total += d
	}
	slices.Sort(times)
	flop := 2 * float64(m) * float64(n) * float64(k)
	gf := func(d time.Duration) float64 { return flop / d.Seconds() / 1e9 }
	return gemmResult{
		Suite: "gemm", M: m, N: n, K: k, Threads: c.Threads(),
		GFLOPS: round2(gf(times[0])), MedianGF: round2(gf(times[len(times)/2])),
		BestMS: round2(times[0].Seconds() * 1e3), Reps: len(times), Kernel: asm.Sgemm().Name,
	}
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
