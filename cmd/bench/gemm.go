package main

import (
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
	register("gemm", "SGEMM (or, with --dtype bf16, BF16 GEMM) throughput of a backend (GFLOP/s)", runGemm)
}

// gemmShapes are m x n x k: square sizes, then the transformer's shapes
// (token rows x model widths) and the decode matrix-vector.
var gemmShapes = []string{
	"512x512x512", "1024x1024x1024", "2048x2048x2048",
	"2048x1024x256", "2048x256x1024", "2048x256x256", "2048x2048x256",
	"1x2048x2048",
}

// gemmResult is one line of the gemm suite. Threads is 0 and Kernel empty
// on a device backend.
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
	Kernel   string  `json:"kernel,omitempty"`
	Backend  string  `json:"backend"`
	// DType is the operands' type: "f32", or "bf16" (bf16 A and B, f32 C).
	DType string `json:"dtype"`
	// The bf16 lines also carry, measured in the same run just before:
	// the VDPBF16PS ceiling on as many threads (0, left out, on a device
	// backend or where the CPU lacks AVX512_BF16), our SGEMM on the same
	// shape (on the same backend), and the ratios to both.
	PeakGF  float64 `json:"peak_gflops,omitempty"`
	OfPeak  float64 `json:"of_peak,omitempty"`
	F32GF   float64 `json:"f32_gflops,omitempty"`
	VsF32GF float64 `json:"vs_f32,omitempty"`
}

func runGemm(args []string) error {
	fs := pflag.NewFlagSet("gemm", pflag.ContinueOnError)
	threads := fs.Int("threads", 0, "threads to run on (cpu); 0 runs 1 thread and then GOMAXPROCS threads")
	shapes := fs.StringSlice("shapes", gemmShapes, "MxNxK shapes to run")
	trans := fs.String("trans", "NN", "transposes of A and B: NN, NT, TN or TT")
	warmup := fs.Int("warmup", 3, "untimed repetitions before timing")
	reps := fs.Int("reps", 10, "timed repetitions (at least)")
	minTime := fs.Duration("min-time", 500*time.Millisecond, "keep repeating until this much time is timed")
	dtype := fs.String("dtype", "f32", "operand type: f32, or bf16 (bf16 A and B, f32 C, on a backend with a bf16 GEMM; each line also measures our SGEMM on the shape and, on the cpu, the VDPBF16PS ceiling)")
	bf := addBackendFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := bf.validate(); err != nil {
		return err
	}
	if *dtype != "f32" && *dtype != "bf16" {
		return badInput("--dtype %q: want f32 or bf16", *dtype)
	}
	if len(*trans) != 2 || strings.Trim(*trans, "NT") != "" {
		return badInput("--trans %q: want NN, NT, TN or TT", *trans)
	}
	if *threads < 0 || *warmup < 0 || *reps < 1 || *minTime < 0 {
		return badInput("--threads %d, --warmup %d, --reps %d, --min-time %v: out of range", *threads, *warmup, *reps, *minTime)
	}
	dims := make([][3]int, len(*shapes))
	for i, sh := range *shapes {
		d, err := parseShape(sh)
		if err != nil {
			return err
		}
		dims[i] = d
	}
	ta, tb := (*trans)[0] == 'T', (*trans)[1] == 'T'
	requested := []int{*threads}
	if *threads == 0 {
		requested = []int{1}
		if all := runtime.GOMAXPROCS(0); all > 1 {
			requested = append(requested, all)
		}
	}
	counts, err := bf.threadCounts(fs, requested)
	if err != nil {
		return err
	}
	for _, t := range counts {
		if err := gemmLines(bf, t, ta, tb, *shapes, dims, *warmup, *reps, *minTime, *trans, *dtype); err != nil {
			return err
		}
	}
	return nil
}

// parseShape reads "MxNxK" with positive sizes.
func parseShape(sh string) ([3]int, error) {
	var m, n, k int
	var rest string
	if c, _ := fmt.Sscanf(sh, "%dx%dx%d%s", &m, &n, &k, &rest); c != 3 || m < 1 || n < 1 || k < 1 {
		return [3]int{}, badInput("shape %q: want MxNxK with positive sizes", sh)
	}
	return [3]int{m, n, k}, nil
}

// gemmLines opens the backend once with threads and emits one line per
// shape.
func gemmLines(bf *backendFlags, threads int, ta, tb bool, names []string, dims [][3]int, warmup, reps int, minTime time.Duration, trans, dtype string) error {
	b, closeB, err := bf.open(threads)
	if err != nil {
		return err
	}
	defer closeB()
	if _, ok := backend.AsBF16(b); dtype == "bf16" && !ok {
		return badInput("--dtype bf16: the %s backend has no bf16 GEMM", b.Name())
	}
	for i, d := range dims {
		r, err := benchGemm(b, ta, tb, d[0], d[1], d[2], warmup, reps, minTime)
		if err != nil {
			return lineError(err, "shape %s on %s", names[i], b.Name())
		}
		r.DType = "f32"
		if dtype == "bf16" {
			if r, err = gemmBF16Line(b, r, ta, tb, d, warmup, reps, minTime); err != nil {
				return lineError(err, "shape %s on %s", names[i], b.Name())
			}
		}
		r.Name, r.Trans = names[i], trans
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

// benchGemm times C = A*B (beta = 0) on random data and reports the best
// and median repetition. Each repetition ends with a Sync, so that a device
// backend's queued work is inside the timing (a no-op on the CPU).
func benchGemm(be backend.Backend, ta, tb bool, m, n, k, warmup, reps int, minTime time.Duration) (gemmResult, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	var bufs []backend.Buffer
	defer func() {
		for _, buf := range bufs {
			be.Free(buf)
		}
	}()
	fill := func(n int) backend.View {
		buf := be.Alloc(n)
		bufs = append(bufs, buf)
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		v := backend.Whole(buf)
		be.Write(v, x)
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
	run := func() error {
		be.Gemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, cv, n)
		return be.Sync()
	}
	// The uploads are not part of the first timed repetition.
	if err := be.Sync(); err != nil {
		return gemmResult{}, err
	}
	for i := 0; i < warmup; i++ {
		if err := run(); err != nil {
			return gemmResult{}, err
		}
	}
	times, err := timeReps(run, reps, minTime)
	if err != nil {
		return gemmResult{}, err
	}
	r := gemmTimes(m, n, k, times)
	r.Threads, r.Backend = threadsOf(be), be.Name()
	if r.Threads > 0 { // the CPU backend runs the asm package's kernel
		r.Kernel = asm.Sgemm().Name
	}
	return r, nil
}

// timeReps times run until it has at least reps repetitions and minTime
// in all, and returns the times sorted.
func timeReps(run func() error, reps int, minTime time.Duration) ([]time.Duration, error) {
	var times []time.Duration
	var total time.Duration
	for len(times) < reps || total < minTime {
		t0 := time.Now()
		if err := run(); err != nil {
			return nil, err
		}
		d := time.Since(t0)
		times = append(times, d)
		total += d
	}
	slices.Sort(times)
	return times, nil
}

// gemmTimes fills the timing fields of a line from sorted times.
func gemmTimes(m, n, k int, times []time.Duration) gemmResult {
	flop := 2 * float64(m) * float64(n) * float64(k)
	gf := func(d time.Duration) float64 { return flop / d.Seconds() / 1e9 }
	return gemmResult{
		Suite: "gemm", M: m, N: n, K: k,
		GFLOPS: round2(gf(times[0])), MedianGF: round2(gf(times[len(times)/2])),
		BestMS: round2(times[0].Seconds() * 1e3), Reps: len(times),
	}
}

// gemmBF16Rounds is how many times a bf16 line measures the ceiling (on
// the cpu), our SGEMM (f32 holds the first) and the BF16 GEMM,
// interleaved, keeping the best of each: on a machine shared with other
// jobs, a burst of load then hits one round of all three rather than one
// of them.
const gemmBF16Rounds = 3

// gemmBF16Line measures the BF16 GEMM of b (a backend.BF16) on one shape.
func gemmBF16Line(b backend.Backend, f32 gemmResult, ta, tb bool, d [3]int, warmup, reps int, minTime time.Duration) (gemmResult, error) {
	c, isCPU := b.(*cpu.CPU)
	var r gemmResult
	var peak float64
	for round := range gemmBF16Rounds {
		if isCPU {
			peak = max(peak, bf16Peak(c.Threads()))
		}
		if round > 0 {
			if x, err := benchGemm(b, ta, tb, d[0], d[1], d[2], warmup, reps, minTime); err == nil && x.GFLOPS > f32.GFLOPS {
				f32 = x
			}
		}
		x, err := benchGemmBF16(b, ta, tb, d[0], d[1], d[2], warmup, reps, minTime)
		if err != nil {
			return gemmResult{}, err
		}
		if round == 0 || x.GFLOPS > r.GFLOPS {
			r = x
		}
	}
	r.PeakGF, r.F32GF = round2(peak), f32.GFLOPS
	if peak > 0 {
		r.OfPeak = round2(r.GFLOPS / peak)
	}
	if f32.GFLOPS > 0 {
		r.VsF32GF = round2(r.GFLOPS / f32.GFLOPS)
	}
	return r, nil
}

// benchGemmBF16 times C = A*B (beta = 0) with bf16 A and B of random
// values, as benchGemm does for float32.
func benchGemmBF16(be backend.Backend, ta, tb bool, m, n, k, warmup, reps int, minTime time.Duration) (gemmResult, error) {
	bf, _ := backend.AsBF16(be) // checked by gemmLines
	rng := rand.New(rand.NewPCG(1, 2))
	var bufs []backend.Buffer
	defer func() {
		for _, buf := range bufs {
			be.Free(buf)
		}
	}()
	fill := func(n int) backend.View {
		x := make([]uint16, n)
		for i := range x {
			x[i] = asm.BF16FromF32(rng.Float32()*2 - 1)
		}
		buf := bf.AllocBF16(n)
		bufs = append(bufs, buf)
		bf.WriteBF16(backend.Whole(buf), x)
		return backend.Whole(buf)
	}
	a, b := fill(m*k), fill(k*n)
	cb := be.Alloc(m * n)
	bufs = append(bufs, cb)
	lda, ldb := k, n
	if ta {
		lda = m
	}
	if tb {
		ldb = k
	}
	run := func() error {
		bf.GemmBF16(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, backend.Whole(cb), n)
		return be.Sync()
	}
	if err := be.Sync(); err != nil {
		return gemmResult{}, err
	}
	for i := 0; i < warmup; i++ {
		if err := run(); err != nil {
			return gemmResult{}, err
		}
	}
	times, err := timeReps(run, reps, minTime)
	if err != nil {
		return gemmResult{}, err
	}
	r := gemmTimes(m, n, k, times)
	r.Threads, r.Backend, r.DType = threadsOf(be), be.Name(), "bf16"
	if r.Threads > 0 { // the CPU backend runs the asm package's kernel
		r.Kernel = asm.Bgemm().Name
	}
	return r, nil
}

// bf16Peak measures the VDPBF16PS ceiling in GFLOP/s on threads threads
// (a register-only loop on each, at once), as the GEMM lines are measured:
// the best of many short repetitions (about a millisecond each, like one
// GEMM call) over 200 ms, so that both see the same luck on a shared
// machine. It is 0 where the CPU lacks AVX512_BF16.
func bf16Peak(threads int) float64 {
	return peakGF(threads, asm.BF16Peak, asm.BF16PeakFlops)
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
