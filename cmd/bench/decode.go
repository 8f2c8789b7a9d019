package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/sample"
)

func init() {
	register("decode", "generation with the KV-cache engine (prefill + sampled decode), and the cost of a fork", runDecode)
}

// decodeResult is one line of the decode suite. TokensPerS counts generated
// tokens over the whole generation, prefill included, as
// scripts/torch_bench_decode.py does. Threads is 0 on a device backend.
type decodeResult struct {
	Suite          string  `json:"suite"`
	Config         string  `json:"config"`
	Batch          int     `json:"batch"`
	Threads        int     `json:"threads"`
	PromptLen      int     `json:"prompt_len"`
	NewTokens      int     `json:"new_tokens"`
	TokensPerS     float64 `json:"tokens_per_s"`
	BestTokensPerS float64 `json:"best_tokens_per_s"`
	PrefillMS      float64 `json:"prefill_ms"`
	MSPerStep      float64 `json:"ms_per_step"`
	Reps           int     `json:"reps"`
	Params         int     `json:"params"`
	Backend        string  `json:"backend"`
	// PeakRSSMiB is getrusage's maxrss after the line (see trainResult).
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// Precision is the engine's weights (--precision), KVCache its KV
	// cache (--kv-cache).
	Precision string `json:"precision"`
	KVCache   string `json:"kv_cache"`
}

// forkResult compares forking a long sequence (sharing its cache blocks)
// with prefilling it again.
type forkResult struct {
	Suite     string  `json:"suite"`
	Name      string  `json:"name"`
	Config    string  `json:"config"`
	Threads   int     `json:"threads"`
	SeqLen    int     `json:"seq_len"`
	PrefillMS float64 `json:"prefill_ms"`
	ForkUS    float64 `json:"fork_us"`
	Ratio     float64 `json:"ratio"`
	Forks     int     `json:"forks"`
	Backend   string  `json:"backend"`
}

func runDecode(args []string) error {
	suite := newModelSuite("decode")
	fs, bf, isolate := suite.fs, suite.bf, suite.isolate
	batches := fs.IntSlice("batch", []int{1, 16}, "sequences generated together")
	promptLen := fs.Int("prompt", 16, "prompt tokens per sequence")
	newTokens := fs.Int("new", 256, "tokens generated per sequence")
	reps := fs.Int("reps", 3, "timed generations per line (after one untimed)")
	forkLen := fs.Int("fork-len", 1000, "length of the sequence forked by the fork benchmark; 0 skips it")
	forkConfig := fs.String("fork-config", "b", "model config of the fork benchmark (with --shape, that shape unless set)")
	precFlag := addPrecisionFlag(fs, "weights the engine decodes with")
	kvFlags := fs.StringSlice("kv-cache", []string{"f32"}, "the engine's KV cache: f32, bf16 (cpu and vulkan), or both (f32,bf16: a line each)")
	if err := suite.parse(args); err != nil {
		return err
	}
	prec, err := parsePrecision(*precFlag)
	if err != nil {
		return err
	}
	var kvCaches []nn.Precision
	for _, f := range *kvFlags {
		kv, err := nn.ParsePrecision(f)
		if err != nil {
			return badInput("--kv-cache: %v", err)
		}
		kvCaches = append(kvCaches, kv)
	}
	if *promptLen < 1 || *newTokens < 1 || *reps < 1 || *forkLen < 0 {
		return badInput("--prompt %d, --new %d, --reps %d, --fork-len %d: out of range", *promptLen, *newTokens, *reps, *forkLen)
	}
	for _, batch := range *batches {
		if batch < 1 {
			return badInput("--batch %d: want >= 1", batch)
		}
	}
	names, err := suite.models()
	if err != nil {
		return err
	}
	if *suite.shape != "" && !fs.Changed("fork-config") {
		*forkConfig = *suite.shape
	}
	if *forkLen > 0 {
		if err := checkConfigs([]string{*forkConfig}); err != nil {
			return fmt.Errorf("--fork-config: %w", err)
		}
	}
	counts, stop, err := suite.begin()
	if err != nil {
		return err
	}
	defer stop()
	var ls []benchLine
	for _, name := range names {
		for _, th := range counts {
			for _, batch := range *batches {
				for _, kv := range kvCaches {
					ls = append(ls, benchLine{fmt.Sprintf("config %s, %s, batch %d, %s KV cache", name, threadsLabel(th), batch, kv), func() (any, error) {
						cfg, _ := modelConfig(name)
						r, err := benchDecode(bf, cfg, th, batch, *promptLen, *newTokens, *reps, prec, kv)
						r.Config = name
						return r, err
					}})
				}
			}
		}
	}
	if *forkLen > 0 {
		for _, th := range counts {
			ls = append(ls, benchLine{fmt.Sprintf("fork, %s", threadsLabel(th)), func() (any, error) {
				cfg, _ := modelConfig(*forkConfig)
				r, err := benchFork(bf, cfg, th, *forkLen)
				r.Config = *forkConfig
				return r, err
			}})
		}
	}
	return runLines("decode", args, *isolate, ls)
}

// benchModel is a randomly initialised model (nn.Init) on a freshly opened
// backend; release frees the model and closes the backend.
func benchModel(bf *backendFlags, cfg nn.Config, threads int) (m *nn.Model, release func(), err error) {
	b, closeB, err := bf.open(threads)
	if err != nil {
		return nil, nil, err
	}
	m, err = nn.New(cfg, b)
	if err != nil {
		closeB()
		return nil, nil, err
	}
	m.Init(1)
	// The initialisation is not part of the first timing.
	if err := b.Sync(); err != nil {
		m.Free()
		closeB()
		return nil, nil, err
	}
	return m, func() { m.Free(); closeB() }, nil
}

// randPrompts returns batch prompts of n random tokens.
func randPrompts(batch, n, vocab int) [][]int32 {
	rng := rand.New(rand.NewPCG(1, 2))
	ps := make([][]int32, batch)
	for i := range ps {
		ps[i] = make([]int32, n)
		for j := range ps[i] {
			ps[i][j] = int32(rng.IntN(vocab))
		}
	}
	return ps
}

// benchDecode times generating newTokens tokens for each of batch sequences
// with promptLen-token prompts, sampling at temperature 1 with no stop
// condition but the length.
func benchDecode(bf *backendFlags, cfg nn.Config, threads, batch, promptLen, newTokens, reps int, prec, kvCache nn.Precision) (decodeResult, error) {
	m, release, err := benchModel(bf, cfg, threads)
	if err != nil {
		return decodeResult{}, err
	}
	defer release()
	const blockSize = 16
	e := engine.New(m, engine.Options{BlockSize: blockSize, InitialBlocks: batch * ((promptLen+newTokens)/blockSize + 2)})
	defer e.Close()
	if err := e.SetPrecision(prec); err != nil {
		return decodeResult{}, badInput("--precision: %v", err)
	}
	if err := e.SetCachePrecision(kvCache); err != nil {
		return decodeResult{}, badInput("--kv-cache: %v", err)
	}
	prompts := randPrompts(batch, promptLen, cfg.VocabSize)
	var g engine.GenConfig // no EOS, no stops: every sequence runs to its length
	var totals, prefills []float64
	for rep := 0; rep <= reps; rep++ {
		streams := make([]*engine.Stream, batch)
		for i := range streams {
			streams[i] = e.NewStream(prompts[i], sample.Params{Temperature: 1}, sample.NewRNG(uint64(rep), uint64(i)), promptLen+newTokens, g)
		}
		start := time.Now()
		err := e.Feed(streams)
		if err == nil {
			err = m.B.Sync() // count the prefill's queued work on a device
		}
		if err != nil {
			return decodeResult{}, err
		}
		prefill := time.Since(start)
		err = e.Generate(streams, g)
		if err == nil {
			err = m.B.Sync()
		}
		if err != nil {
			return decodeResult{}, err
		}
		total := time.Since(start)
		for _, s := range streams {
			if len(s.Tokens) != newTokens {
				return decodeResult{}, fmt.Errorf("generated %d tokens, want %d", len(s.Tokens), newTokens)
			}
			e.ReleaseStream(s)
		}
		if rep > 0 { // the first generation warms the cache and the scratch buffers
			totals = append(totals, total.Seconds())
			prefills = append(prefills, prefill.Seconds())
		}
	}
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	gen := float64(batch * newTokens)
	return decodeResult{
		Suite: "decode", Batch: batch, Threads: threadsOf(m.B), PromptLen: promptLen, NewTokens: newTokens,
		TokensPerS: gen / mean(totals), BestTokensPerS: gen / slices.Min(totals),
		PrefillMS: mean(prefills) * 1e3, MSPerStep: (mean(totals) - mean(prefills)) * 1e3 / float64(newTokens),
		Reps: reps, Params: m.NumParams(), Backend: m.B.Name(), PeakRSSMiB: peakRSSMiB(), Precision: prec.String(), KVCache: kvCache.String(),
	}, nil
}

// benchFork times prefilling a seqLen-token sequence (best of 3) and forking
// the prefilled stream (mean over many forks, each released again): a fork
// shares the cache blocks, so it should cost a tiny fraction of a prefill.
func benchFork(bf *backendFlags, cfg nn.Config, threads, seqLen int) (forkResult, error) {
	m, release, err := benchModel(bf, cfg, threads)
	if err != nil {
		return forkResult{}, err
	}
	defer release()
	e := engine.New(m, engine.Options{BlockSize: 16, InitialBlocks: 4 * (seqLen/16 + 2)})
	defer e.Close()
	prompt := randPrompts(1, seqLen, cfg.VocabSize)[0]
	var g engine.GenConfig
	var s *engine.Stream
	best := time.Duration(1 << 62)
	for rep := 0; rep < 3; rep++ {
		if s != nil {
			e.ReleaseStream(s)
		}
		s = e.NewStream(prompt, sample.Params{Temperature: 1}, sample.NewRNG(1, 0), 0, g)
		start := time.Now()
		err := e.Feed([]*engine.Stream{s})
		if err == nil {
			err = m.B.Sync()
		}
		if err != nil {
			return forkResult{}, err
		}
		best = min(best, time.Since(start))
	}
	defer e.ReleaseStream(s)
	const forks = 2000
	rng := sample.NewRNG(2, 0)
	start := time.Now()
	for i := 0; i < forks; i++ {
		f := e.ForkStream(s, rng)
		e.ReleaseStream(f)
	}
	fork := time.Since(start) / forks
	return forkResult{
		Suite: "decode", Name: fmt.Sprintf("fork-%d", seqLen), Threads: threadsOf(m.B), SeqLen: seqLen,
		PrefillMS: float64(best.Microseconds()) / 1e3, ForkUS: float64(fork.Nanoseconds()) / 1e3,
		Ratio: fork.Seconds() / best.Seconds(), Forks: forks, Backend: m.B.Name(),
	}, nil
}
