package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/goarpo/arpo/nn"
)

func init() {
	register("train", "one full SFT step (forward, loss, backward, AdamW): small Llama models, or a real model's shape (--shape)", runTrain)
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
	// PeakRSSMiB is the process's peak resident memory (getrusage's
	// maxrss) after this line's steps: the line's own with --isolate (the
	// default), else a high-water mark over the lines before it too.
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// Precision is the GEMM precision (--precision).
	Precision string `json:"precision"`
	// ModelGFLOPPerStep is modelFlopsPerStep; ModelGFLOPS that over the
	// mean step; F32PeakGFLOPS the float32 FMA ceiling on the line's
	// threads (asm.F32Peak, best of before and after the steps; 0 where
	// not measured: a device backend, a CPU without AVX-512); MFU the
	// ratio of the two (model-FLOP utilisation of the float32 peak).
	ModelGFLOPPerStep float64 `json:"model_gflop_per_step"`
	ModelGFLOPS       float64 `json:"model_gflops"`
	F32PeakGFLOPS     float64 `json:"f32_peak_gflops"`
	MFU               float64 `json:"mfu"`
}

func runTrain(args []string) error {
	suite := newModelSuite("train")
	fs, bf, isolate := suite.fs, suite.bf, suite.isolate
	batch := fs.Int("batch", 8, "sequences per step")
	seqLen := fs.Int("seq", 256, "tokens per sequence")
	steps := fs.Int("steps", 3, "timed steps")
	warmup := fs.Int("warmup", 1, "untimed steps before timing")
	precFlag := addPrecisionFlag(fs, "GEMM precision of the training step")
	if err := suite.parse(args); err != nil {
		return err
	}
	prec, err := parsePrecision(*precFlag)
	if err != nil {
		return err
	}
	if *batch < 1 || *seqLen < 2 || *steps < 1 || *warmup < 0 {
		return badInput("--batch %d, --seq %d, --steps %d, --warmup %d: out of range", *batch, *seqLen, *steps, *warmup)
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
			ls = append(ls, benchLine{fmt.Sprintf("config %s, %s", name, threadsLabel(th)), func() (any, error) {
				cfg, _ := modelConfig(name)
				r, err := benchTrain(bf, cfg, th, *batch, *seqLen, *steps, *warmup, prec)
				r.Config = name
				return r, err
			}})
		}
	}
	return runLines("train", args, *isolate, ls)
}

// startProfile starts a CPU profile written to path (nothing when path is
// empty); stop ends it. A profile covers this process, so it turns
// *isolate off: the suite's lines then run here.
func startProfile(path string, isolate *bool) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	*isolate = false
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
func benchTrain(bf *backendFlags, cfg nn.Config, threads, batch, seqLen, steps, warmup int, prec nn.Precision) (trainResult, error) {
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
	if err := m.SetPrecision(prec); err != nil {
		return trainResult{}, badInput("--precision: %v", err)
	}
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
	peak := 0.0
	if th := threadsOf(b); th > 0 {
		peak = f32PeakGF(th)
	}
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
	if th := threadsOf(b); th > 0 {
		peak = max(peak, f32PeakGF(th))
	}
	flops := modelFlopsPerStep(cfg, batch, seqLen)
	r := trainResult{
		Suite: "train", Threads: threadsOf(b), Batch: batch, SeqLen: seqLen, Params: m.NumParams(),
		TokensPerS: float64(batch*seqLen) / (mean / 1e3), MSPerStep: mean, BestMS: slices.Min(times),
		Steps: steps, Loss: loss, Backend: b.Name(), PeakRSSMiB: peakRSSMiB(), Precision: prec.String(),
		ModelGFLOPPerStep: round2(flops / 1e9), ModelGFLOPS: round2(flops / 1e9 / (mean / 1e3)), F32PeakGFLOPS: round2(peak),
	}
	if peak > 0 {
		r.MFU = round2(r.ModelGFLOPS / peak)
	}
	return r, nil
}
