package rl

import (
	"fmt"

	"github.com/goarpo/arpo/nn/sample"
)

// Algo names a training algorithm.
type Algo string

// The algorithms this package trains with.
const (
	ARPO        Algo = "arpo"        // entropy-adaptive branching rollout, group advantages
	GRPO        Algo = "grpo"        // trajectory-level rollout, group advantages
	DAPO        Algo = "dapo"        // GRPO with clip-higher and dynamic sampling
	REINFORCEPP Algo = "reinforce++" // trajectory-level rollout, batch-normalised advantages
)

// ParseAlgo checks an algorithm name from a flag or a file.
func ParseAlgo(s string) (Algo, error) {
	switch a := Algo(s); a {
	case ARPO, GRPO, DAPO, REINFORCEPP:
		return a, nil
	}
	return "", fmt.Errorf("unknown algorithm %q (want arpo, grpo, dapo or reinforce++)", s)
}

// AlgoConfig is everything that differs between the algorithms: how
// trajectories are drawn, how advantages are formed and the loss.
type AlgoConfig struct {
	Algo    Algo
	Rollout RolloutConfig
	Loss    LossConfig
	// HardAttribution gives each rollout-tree node's tokens one copy in the
	// loss with the mean advantage below it (ARPO only); default soft.
	HardAttribution bool
	// NormStd divides group advantages by the group's standard deviation.
	NormStd bool
	// DynamicSampling drops groups whose rewards are all equal and refills
	// from further prompts (DAPO), at most MaxRefills extra rollouts a step.
	DynamicSampling bool
	MaxRefills      int
	// PPOEpochs passes over the step's data, e.g. 1; MiniBatches optimizer
	// steps per pass, e.g. 1; MicroTokens most tokens per forward.
	PPOEpochs, MiniBatches, MicroTokens int
}

// DefaultAlgoConfig returns the spec's reference settings for algo, with
// M trajectories per prompt: ARPO starts N = M/2 and branches Z = 1 after
// tool results with k = 20, α = 0.5, β = 0.2; DAPO uses ε_high = 0.28 and
// dynamic sampling; all use ε = 0.2, dual clip 3 and token-mean.
func DefaultAlgoConfig(algo Algo, m int) AlgoConfig {
	c := AlgoConfig{
		Algo: algo,
		Rollout: RolloutConfig{
			M: m, N: m, Z: 1, K: 20, Alpha: 0.5, Beta: 0.2, Tau: 0.5, Rule: BranchStochastic,
			Sampling: sample.Params{Temperature: 1}, TokenBudget: 512, ToolLag: 1,
		},
		Loss:        LossConfig{EpsLow: 0.2, EpsHigh: 0.2, DualClip: 3, Agg: TokenMean},
		NormStd:     true,
		PPOEpochs:   1,
		MiniBatches: 1,
		MicroTokens: 4096,
	}
	switch algo {
	case ARPO:
		c.Rollout.Branch = true
		c.Rollout.N = max(1, m/2)
	case DAPO:
		c.Loss.EpsHigh = 0.28
		c.DynamicSampling = true
		c.MaxRefills = 2
	}
	return c
}

// Validate reports unusable settings.
func (c AlgoConfig) Validate() error {
	if _, err := ParseAlgo(string(c.Algo)); err != nil {
		return err
	}
	if err := c.Rollout.Validate(); err != nil {
		return err
	}
	if err := c.Loss.Validate(); err != nil {
		return err
	}
	switch {
	case c.Rollout.Branch && c.Algo != ARPO:
		return fmt.Errorf("%s draws whole trajectories: branching is ARPO's", c.Algo)
	case c.HardAttribution && !c.Rollout.Branch:
		return fmt.Errorf("hard attribution needs a rollout tree (ARPO with branching)")
	case c.Rollout.Sampling.Temperature != 1 || c.Rollout.Sampling.TopK != 0 || (c.Rollout.Sampling.TopP != 0 && c.Rollout.Sampling.TopP != 1):
		return fmt.Errorf("training rollouts sample at temperature 1 without top-k/top-p, so that the recorded log-probs are the policy's")
	case c.PPOEpochs < 1 || c.MiniBatches < 1 || c.MicroTokens < 1:
		return fmt.Errorf("PPO epochs, mini-batches and micro-batch tokens must be >= 1 (got %d, %d, %d)", c.PPOEpochs, c.MiniBatches, c.MicroTokens)
	case c.DynamicSampling && c.MaxRefills < 0:
		return fmt.Errorf("max refills must be >= 0, got %d", c.MaxRefills)
	}
	return nil
}
