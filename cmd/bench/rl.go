package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/rl"
)

func init() {
	register("rl", "one RL update (the PPO loss over sampled-looking sequences, backward, AdamW), as rl.Trainer runs it after a rollout", runRL)
}

// rlResult is one line of the rl suite. TokensPerS counts every token of
// the sequences (prompt included: the forward and backward run over all of
// them); LossTokens is how many of them are in the loss.
type rlResult struct {
	Suite       string  `json:"suite"`
	Config      string  `json:"config"`
	Threads     int     `json:"threads"`
	Batch       int     `json:"batch"`
	SeqLen      int     `json:"seq_len"`
	PromptLen   int     `json:"prompt_len"`
	MicroTokens int     `json:"micro_tokens"`
	Params      int     `json:"params"`
	Trainable   int     `json:"trainable_params"`
	LoRARank    int     `json:"lora_rank,omitempty"`
	TokensPerS  float64 `json:"tokens_per_s"`
	MSPerStep   float64 `json:"ms_per_step"`
	BestMS      float64 `json:"best_ms"`
	Steps       int     `json:"steps"`
	Loss        float64 `json:"loss"`
	Backend     string  `json:"backend"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"` // getrusage's maxrss (see trainResult)
}

func runRL(args []string) error {
	suite := newModelSuite("rl")
	fs, bf, isolate := suite.fs, suite.bf, suite.isolate
	batch := fs.Int("batch", 8, "trajectories per update (one group)")
	seqLen := fs.Int("seq", 256, "tokens per trajectory, prompt included")
	promptLen := fs.Int("prompt", 64, "prompt tokens per trajectory (not in the loss)")
	micro := fs.Int("micro-tokens", 4096, "most tokens per forward (rl.AlgoConfig.MicroTokens)")
	steps := fs.Int("steps", 3, "timed updates")
	warmup := fs.Int("warmup", 1, "untimed updates before timing")
	lf := addLoRAFlags(fs)
	if err := suite.parse(args); err != nil {
		return err
	}
	lora, withLoRA, err := lf.config()
	if err != nil {
		return err
	}
	if *batch < 2 || *seqLen < 2 || *promptLen < 1 || *promptLen >= *seqLen || *micro < 1 || *steps < 1 || *warmup < 0 {
		return badInput("--batch %d (>= 2), --seq %d, --prompt %d (1 to seq-1), --micro-tokens %d, --steps %d, --warmup %d: out of range",
			*batch, *seqLen, *promptLen, *micro, *steps, *warmup)
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
				var lc *nn.LoRAConfig
				if withLoRA {
					lc = &lora
				}
				r, err := benchRL(bf, cfg, lc, th, *batch, *seqLen, *promptLen, *micro, *steps, *warmup)
				r.Config = name
				return r, err
			}})
		}
	}
	return runLines("rl", args, *isolate, ls)
}

// benchRL times rl.Trainer.Update on one group of batch random sequences:
// the first promptLen tokens of each are the prompt (mask 0), the rest the
// policy's; half the trajectories have advantage +1, half -1 (a group's
// normalised advantages); the rollout log-probs are the initial model's, so
// the first update's ratios are 1, as in on-policy training. The algorithm
// is GRPO's defaults (clip 0.2, dual clip 3, token-mean, one epoch, one
// mini-batch), with micro-batches of microTokens tokens. With lora, the
// update trains adapters on the frozen random model.
func benchRL(bf *backendFlags, cfg nn.Config, lora *nn.LoRAConfig, threads, batch, seqLen, promptLen, microTokens, steps, warmup int) (rlResult, error) {
	b, closeB, err := bf.open(threads)
	if err != nil {
		return rlResult{}, err
	}
	defer closeB()
	m, err := nn.New(cfg, b)
	if err != nil {
		return rlResult{}, err
	}
	defer m.Free()
	m.Init(1)
	rank := 0
	if lora != nil {
		if err := m.AttachLoRA(*lora, 1); err != nil {
			return rlResult{}, err
		}
		rank = lora.Rank
	}
	opt, err := nn.NewAdamW(m, nn.DefaultAdamW(1e-6))
	if err != nil {
		return rlResult{}, err
	}
	defer opt.Free()
	rng := rand.New(rand.NewPCG(1, 2))
	seqs := make([]rl.Sequence, batch)
	for i := range seqs {
		s := rl.Sequence{Tokens: make([]int32, seqLen), LossMask: make([]float32, seqLen), Adv: make([]float32, seqLen)}
		adv := float32(1)
		if i%2 == 1 {
			adv = -1
		}
		for j := range s.Tokens {
			s.Tokens[j] = int32(rng.IntN(cfg.VocabSize))
			if j >= promptLen {
				s.LossMask[j], s.Adv[j] = 1, adv
			}
		}
		if s.OldLogP, err = tokenLogProbs(m, s.Tokens); err != nil {
			return rlResult{}, err
		}
		seqs[i] = s
	}
	ac := rl.DefaultAlgoConfig(rl.GRPO, batch)
	ac.MicroTokens = microTokens
	tr := &rl.Trainer{Model: m, Opt: opt, Cfg: ac}
	if err := b.Sync(); err != nil { // the initialisation is not part of the first step
		return rlResult{}, err
	}
	var times []float64
	var loss float64
	for i := 0; i < warmup+steps; i++ {
		start := time.Now()
		met, err := tr.Update(seqs)
		if err == nil {
			err = b.Sync()
		}
		if err != nil {
			return rlResult{}, err
		}
		loss = met.Loss
		if i >= warmup {
			times = append(times, float64(time.Since(start).Microseconds())/1e3)
		}
	}
	var sum float64
	for _, t := range times {
		sum += t
	}
	mean := sum / float64(len(times))
	return rlResult{
		Suite: "rl", Threads: threadsOf(b), Batch: batch, SeqLen: seqLen, PromptLen: promptLen, MicroTokens: microTokens,
		Params: m.NumParams(), Trainable: opt.M.Len(), LoRARank: rank, TokensPerS: float64(batch*seqLen) / (mean / 1e3), MSPerStep: mean, BestMS: slices.Min(times),
		Steps: steps, Loss: loss, Backend: b.Name(), PeakRSSMiB: peakRSSMiB(),
	}, nil
}

// tokenLogProbs returns log p(tokens[j] | tokens[:j]) under m for each j
// (0 for the first token), laid out as rl.Sequence.OldLogP is.
func tokenLogProbs(m *nn.Model, tokens []int32) ([]float32, error) {
	p, err := m.Forward(tokens, nn.Pack(len(tokens)))
	if err != nil {
		return nil, err
	}
	defer p.Free()
	logp, _, err := p.LogProbs(p.NextTokenTargets(), false)
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(tokens))
	copy(out[1:], logp[:len(tokens)-1])
	return out, nil
}
