package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/nn"
)

func init() {
	register("train", "one full training step (forward, loss, backward, AdamW) of small Llama models", runTrain)
}

// trainConfigs are the benchmark models: a (0.4M non-embedding params per
// layer) and b; multi-head attention, untied LM head.
var trainConfigs = map[string]nn.Config{
	"a": {ModelType: "llama", VocabSize: 512, HiddenSize: 128, NumLayers: 4, NumHeads: 4, NumKVHeads: 4, HeadDim: 32,
		IntermediateSize: 512, RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 4096},
	"b": {ModelType: "llama", VocabSize: 2048, HiddenSize: 256, NumLayers: 6, NumHeads: 8, NumKVHeads: 8, HeadDim: 32,
		IntermediateSize: 1024, RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 4096},
}

// trainResult is one line of the train suite; Threads is 0 on a device
// backend.
type trainResult struct {
	Suite      string  `json:"suite"`
	Config     string  `json:"config"`
	Threads    int     `json:"threads"`
	Batch      int     `json:"batch"`
	SeqLen     int     `json:"seq_len"`
	Params     int     `json:"params"`
	TokensPerS float64 `json:"tokens_per_s"`
	MSPerStep  float64 `json:"ms_per_step"`
	BestMS     float64 `json:"best_ms"`
	Steps      int     `json:"steps"`
	Loss       float32 `json:"loss"`
	Backend    string  `json:"backend"`
	// PeakRSSMiB is the process's peak resident memory (VmHWM) after this
	// line's steps: a high-water mark over the whole process, so run one
	// config and thread count per process (--configs a --threads 1) to read
	// it for one of them. 0 where /proc is not available.
	PeakRSSMiB float64 `json:"peak_rss_mib"`
}

func runTrain(args []string) error {
	fs := pflag.NewFlagSet("train", pflag.ContinueOnError)
	configs := fs.StringSlice("configs", []string{"a", "b"}, "model configs to run (a, b)")
	threads := fs.IntSlice("threads", []int{1, 2}, "thread counts to run (cpu)")
	batch := fs.Int("batch", 8, "sequences per step")
	seqLen := fs.Int("seq", 256, "tokens per sequence")
	steps := fs.Int("steps", 3, "timed steps")
	warmup := fs.Int("warmup", 1, "untimed steps before timing")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the whole suite to this file")
	bf := addBackendFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := bf.validate(); err != nil {
		return err
	}
	if *batch < 1 || *seqLen < 2 || *steps < 1 || *warmup < 0 {
		return badInput("--batch %d, --seq %d, --steps %d, --warmup %d: out of range", *batch, *seqLen, *steps, *warmup)
	}
	if err := checkConfigs(*configs); err != nil {
		return err
	}
	counts, err := bf.threadCounts(fs, *threads)
	if err != nil {
		return err
	}
	if *profile != "" {
		stop, err := startProfile(*profile)
		if err != nil {
			return err
		}
		defer stop()
	}
	for _, name := range *configs {
		for _, th := range counts {
			r, err := benchTrain(bf, trainConfigs[name], th, *batch, *seqLen, *steps, *warmup)
			if err != nil {
				return lineError(err, "config %s, %s", name, threadsLabel(th))
			}
			r.Config = name
			if err := emit(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkConfigs rejects names missing from trainConfigs before anything runs.
func checkConfigs(names []string) error {
	for _, name := range names {
		if _, ok := trainConfigs[name]; !ok {
			return badInput("unknown config %q (known: a, b)", name)
		}
	}
	return nil
}

// startProfile starts a CPU profile written to path; stop ends it.
func startProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// benchTrain times SFT steps on random tokens (every prediction in the
// loss) on a freshly opened backend.
func benchTrain(bf *backendFlags, cfg nn.Config, threads, batch, seqLen, steps, warmup int) (trainResult, error) {
	b, closeB, err := bf.open(threads)
	if err != nil {
		return trainResult{}, err
	}
	defer closeB()
	m, err := nn.New(cfg, b)
	if err != nil {
		return trainResult{}, err
	}
	defer m.Free()
	m.Init(1)
	opt, err := nn.NewAdamW(m, nn.DefaultAdamW(1e-4))
	if err != nil {
		return trainResult{}, err
	}
	defer opt.Free()
	rng := rand.New(rand.NewPCG(1, 2))
	bt := nn.Batch{Tokens: make([]int32, batch*seqLen)}
	for i := range bt.Tokens {
		bt.Tokens[i] = int32(rng.IntN(cfg.VocabSize))
	}
	for i := 0; i < batch; i++ {
		bt.Lens = append(bt.Lens, seqLen)
	}
	// The initialisation is not part of the first step.
	if err := b.Sync(); err != nil {
		return trainResult{}, err
	}
	var times []float64
	var loss float32
	for i := 0; i < warmup+steps; i++ {
		start := time.Now()
		loss, _, err = nn.TrainStep(m, opt, []nn.Batch{bt})
		if err == nil {
			err = b.Sync() // a device may still have the optimizer update queued
		}
		if err != nil {
			return trainResult{}, err
		}
		if i >= warmup {
			times = append(times, float64(time.Since(start).Microseconds())/1e3)
		}
	}
	var sum float64
	for _, t := range times {
		sum += t
	}
	mean := sum / float64(len(times))
	return trainResult{
		Suite: "train", Threads: threadsOf(b), Batch: batch, SeqLen: seqLen, Params: m.NumParams(),
		TokensPerS: float64(batch*seqLen) / (mean / 1e3), MSPerStep: mean, BestMS: slices.Min(times),
		Steps: steps, Loss: loss, Backend: b.Name(), PeakRSSMiB: peakRSSMiB(),
	}, nil
}

// peakRSSMiB reads the process's peak resident set size (VmHWM) from
// /proc/self/status; 0 when it cannot (not Linux).
func peakRSSMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}
