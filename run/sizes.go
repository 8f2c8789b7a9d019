package run

import (
	"path/filepath"

	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/internal/sysmem"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/load"
)

// sizeCaps are the largest values of the flags that size allocations: far
// above any run this program is for, low enough that no product of them
// overflows. Within them, checkSizes compares an estimate of the memory
// with the machine's, so that --rl-batch 1e9 fails at the start and not
// after SFT and the first evaluation.
var sizeCaps = []struct {
	name string
	v    func(Config) int
	max  int
}{
	{"threads", func(c Config) int { return c.Threads }, 1 << 12},
	{"tw-train-entities", func(c Config) int { return c.TrainEntities }, 1 << 24},
	{"tw-test-entities", func(c Config) int { return c.TestEntities }, 1 << 24},
	{"tw-train", func(c Config) int { return c.TrainQuestions }, 1 << 26},
	{"tw-test", func(c Config) int { return c.TestQuestions }, 1 << 26},
	{"search-topk", func(c Config) int { return c.SearchTopK }, 1 << 10},
	{"max-result", func(c Config) int { return c.MaxResult }, 1 << 24},
	{"vocab", func(c Config) int { return c.Vocab }, 1 << 22},
	{"d-model", func(c Config) int { return c.DModel }, 1 << 16},
	{"layers", func(c Config) int { return c.Layers }, 1 << 10},
	{"heads", func(c Config) int { return c.Heads }, 1 << 10},
	{"kv-heads", func(c Config) int { return c.KVHeads }, 1 << 10},
	{"ffn", func(c Config) int { return c.FFN }, 1 << 18},
	{"context", func(c Config) int { return c.Context }, 1 << 20},
	{"sft-batch", func(c Config) int { return c.SFTBatch }, 1 << 20},
	{"micro-tokens", func(c Config) int { return c.MicroTokens }, 1 << 24},
	{"rl-batch", func(c Config) int { return c.RLBatch }, 1 << 20},
	{"m", func(c Config) int { return c.M }, 1 << 12},
	{"n", func(c Config) int { return c.N }, 1 << 12},
	{"z", func(c Config) int { return c.Z }, 1 << 12},
	{"k", func(c Config) int { return c.K }, 1 << 12},
	{"call-limit", func(c Config) int { return c.CallLimit }, 1 << 12},
	{"token-budget", func(c Config) int { return c.TokenBudget }, 1 << 20},
	{"ppo-epochs", func(c Config) int { return c.PPOEpochs }, 1 << 10},
	{"mini-batches", func(c Config) int { return c.MiniBatches }, 1 << 20},
	{"eval-questions", func(c Config) int { return c.EvalQuestions }, 1 << 26},
	{"eval-k", func(c Config) int { return c.EvalK }, 1 << 12},
}

// checkSizes refuses sizes over their cap and a run whose estimated memory
// is more than the machine has, before any work starts.
func (c Config) checkSizes() error {
	for _, p := range sizeCaps {
		if v := p.v(c); v > p.max {
			return exitcode.Usagef("--%s %d is over the limit of %d", p.name, v, p.max)
		}
	}
	var cfg nn.Config
	bf16Base := false
	switch {
	case c.Model == "":
		cfg = c.modelConfig(c.Vocab)
		if err := cfg.Validate(); err != nil {
			return exitcode.Usagef("model: %v", err)
		}
	default:
		// Everything about --model that can be checked without loading it.
		bf16Base = c.bf16BaseFor(c.Model)
		f, err := load.Check(c.Model, load.Options{BF16Base: bf16Base})
		if err != nil {
			return exitcode.Usagef("%v", err)
		}
		if !f.IsHF() {
			return nil // a checkpoint of ours: its size was checked when it was trained
		}
		if cfg, err = nn.LoadConfig(filepath.Join(f.Dir, "config.json")); err != nil {
			return exitcode.Usagef("--model: %v", err)
		}
	}
	if err := sysmem.Check("this run", c.memoryEstimate(cfg, bf16Base)); err != nil {
		return exitcode.Usagef("%v (model of %d parameters; lower --rl-batch, --m, --token-budget or the model size)", err, cfg.NumParams())
	}
	return nil
}

// memoryEstimate is a lower bound on the bytes the run holds at its peak:
// weights, gradients and AdamW's moments (with LoRA: the base and its
// merged copy, in bf16 with a bf16 base); a reference copy for the KL
// penalty; the KV cache of one RL step's rollouts (every prompt's m
// trajectories to the token budget); and the logits of a micro-batch.
// Activations and the tools' memory come on top.
func (c Config) memoryEstimate(cfg nn.Config, bf16Base bool) float64 {
	need := c.trainingBytes(cfg, bf16Base)
	if c.KLCoef > 0 && bf16Base {
		need += float64(cfg.BF16BaseBytes())
	} else if c.KLCoef > 0 {
		need += 4 * float64(cfg.NumParams())
	}
	if c.RLSteps > 0 {
		need += float64(c.RLBatch) * float64(c.M) * float64(c.TokenBudget) * float64(cfg.KVBytesPerToken())
	}
	need += 2 * 4 * float64(c.MicroTokens) * float64(cfg.VocabSize)
	return need
}
