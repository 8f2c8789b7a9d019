package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/sample"
)

func init() {
	register("prefill", "prefilling prompts into the KV-cache engine (the first forward of a generation)", runPrefill)
}

// prefillResult is one line of the prefill suite: TokensPerS counts the
// prompt tokens of the batch over the time of one Feed.
type prefillResult struct {
	Suite          string  `json:"suite"`
	Config         string  `json:"config"`
	Batch          int     `json:"batch"`
	Threads        int     `json:"threads"`
	PromptLen      int     `json:"prompt_len"`
	TokensPerS     float64 `json:"tokens_per_s"`
	BestTokensPerS float64 `json:"best_tokens_per_s"`
	MS             float64 `json:"ms"`
	Reps           int     `json:"reps"`
	Params         int     `json:"params"`
	Backend        string  `json:"backend"`
	PeakRSSMiB     float64 `json:"peak_rss_mib"` // getrusage's maxrss (see trainResult)
}

func runPrefill(args []string) error {
	suite := newModelSuite("prefill")
	fs, bf, isolate := suite.fs, suite.bf, suite.isolate
	batches := fs.IntSlice("batch", []int{1}, "prompts prefilled together")
	promptLen := fs.Int("prompt", 512, "tokens per prompt")
	reps := fs.Int("reps", 3, "timed prefills per line (after one untimed)")
	if err := suite.parse(args); err != nil {
		return err
	}
	if *promptLen < 1 || *reps < 1 {
		return badInput("--prompt %d, --reps %d: out of range", *promptLen, *reps)
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
	counts, stop, err := suite.begin()
	if err != nil {
		return err
	}
	defer stop()
	var ls []benchLine
	for _, name := range names {
		for _, th := range counts {
			for _, batch := range *batches {
				ls = append(ls, benchLine{fmt.Sprintf("config %s, %s, batch %d", name, threadsLabel(th), batch), func() (any, error) {
					r, err := benchPrefill(bf, name, th, batch, *promptLen, *reps)
					r.Config = name
					return r, err
				}})
			}
		}
	}
	return runLines("prefill", args, *isolate, ls)
}

// benchPrefill times feeding batch random promptLen-token prompts to a
// fresh engine (their streams released after each rep).
func benchPrefill(bf *backendFlags, name string, threads, batch, promptLen, reps int) (prefillResult, error) {
	cfg, _ := modelConfig(name)
	if promptLen > cfg.MaxPositionEmbeddings {
		return prefillResult{}, badInput("--prompt %d: longer than config %s's %d positions", promptLen, name, cfg.MaxPositionEmbeddings)
	}
	m, release, err := benchModel(bf, cfg, threads)
	if err != nil {
		return prefillResult{}, err
	}
	defer release()
	const blockSize = 16
	e := engine.New(m, engine.Options{BlockSize: blockSize, InitialBlocks: batch * (promptLen/blockSize + 2)})
	defer e.Close()
	prompts := randPrompts(batch, promptLen, cfg.VocabSize)
	var g engine.GenConfig
	var times []float64
	for rep := 0; rep <= reps; rep++ {
		streams := make([]*engine.Stream, batch)
		for i := range streams {
			streams[i] = e.NewStream(prompts[i], sample.Params{Temperature: 1}, sample.NewRNG(uint64(rep), uint64(i)), 0, g)
		}
		start := time.Now()
		err := e.Feed(streams)
		if err == nil {
			err = m.B.Sync()
		}
		if err != nil {
			return prefillResult{}, err
		}
		if rep > 0 { // the first prefill allocates the cache and the scratch buffers
			times = append(times, time.Since(start).Seconds())
		}
		for _, s := range streams {
			e.ReleaseStream(s)
		}
	}
	var sum float64
	for _, t := range times {
		sum += t
	}
	mean := sum / float64(len(times))
	toks := float64(batch * promptLen)
	return prefillResult{
		Suite: "prefill", Batch: batch, Threads: threadsOf(m.B), PromptLen: promptLen,
		TokensPerS: toks / mean, BestTokensPerS: toks / slices.Min(times), MS: mean * 1e3, Reps: reps,
		Params: m.NumParams(), Backend: m.B.Name(), PeakRSSMiB: peakRSSMiB(),
	}, nil
}
