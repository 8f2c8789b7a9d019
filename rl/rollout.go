package rl

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/sample"
	"github.com/goarpo/arpo/tools"
)

// ToolRunner runs a tool call and explains a malformed one, returning the
// formatted result block to insert; *tools.Executor implements it. It is
// called from several goroutines at once.
type ToolRunner interface {
	Result(ctx context.Context, ev tools.Event) string
}

// BranchRule says how ARPO turns a branch probability into a decision.
type BranchRule string

// The branching rules of the spec.
const (
	// BranchStochastic branches with probability clip(P, 0, 1): the
	// reference's rule and our default.
	BranchStochastic BranchRule = "stochastic"
	// BranchThreshold branches when P > Tau: the paper's rule.
	BranchThreshold BranchRule = "threshold"
)

// RolloutConfig holds the rollout parameters of the spec. Trajectory-level
// rollout (GRPO, DAPO, REINFORCE++) is N = M with Branch off.
type RolloutConfig struct {
	M int // finished trajectories per prompt, e.g. 16
	N int // initial trajectories per prompt, e.g. 8 (ARPO) or M (trajectory level)
	// Branch turns on entropy-adaptive branching after tool results.
	Branch bool
	Z      int        // branches per branching point, e.g. 1
	K      int        // tokens of look-ahead entropy, e.g. 20
	Alpha  float64    // base branch probability, e.g. 0.5
	Beta   float64    // weight of the entropy rise, e.g. 0.2
	Tau    float64    // threshold of BranchThreshold, e.g. 0.5
	Rule   BranchRule // e.g. BranchStochastic
	// Scale says how ΔH enters the branch probability (branch.go); ""
	// is ScaleReference. DeltaHMean and DeltaHStd standardise ΔH on
	// ScaleCalibrated: the trainer sets them for each step from the rises
	// of earlier steps (Trainer.DeltaH).
	Scale                 BranchScale
	DeltaHMean, DeltaHStd float64

	Sampling sample.Params
	// TokenBudget caps a trajectory's tokens: prompt, generated and tool
	// results, e.g. 512.
	TokenBudget int
	// ToolLag is the number of decode steps after which a tool result rejoins
	// its trajectory, e.g. 1. Other trajectories keep decoding meanwhile; the
	// loop waits only for a result that is late. A fixed lag keeps the batch
	// composition of every step, hence the run, independent of tool timing.
	ToolLag int
	// Seed makes the rollout reproducible; every trajectory draws from its
	// own generator derived from Seed, the step, the prompt and its identity.
	Seed uint64
	EOS  []int32
}

// Validate reports unusable settings.
func (c RolloutConfig) Validate() error {
	switch {
	case c.M < 1:
		return fmt.Errorf("rollout: M must be >= 1, got %d", c.M)
	case c.N < 1 || c.N > c.M:
		return fmt.Errorf("rollout: N must be in [1, M=%d], got %d", c.M, c.N)
	case c.Branch && c.Z < 1:
		return fmt.Errorf("rollout: Z (branches per point) must be >= 1, got %d", c.Z)
	case c.Branch && c.K < 1:
		return fmt.Errorf("rollout: K (entropy look-ahead tokens) must be >= 1, got %d", c.K)
	case c.Branch && c.Rule != BranchStochastic && c.Rule != BranchThreshold:
		return fmt.Errorf("rollout: unknown branch rule %q (want %s or %s)", c.Rule, BranchStochastic, BranchThreshold)
	case c.Branch && c.Scale != "" && c.Scale != ScaleReference && c.Scale != ScaleCalibrated:
		return fmt.Errorf("rollout: unknown branch scale %q (want %s or %s)", c.Scale, ScaleReference, ScaleCalibrated)
	case c.Branch && (math.IsNaN(c.Alpha) || math.IsInf(c.Alpha, 0) || math.IsNaN(c.Beta) || math.IsInf(c.Beta, 0)):
		return fmt.Errorf("rollout: alpha and beta must be finite, got %v and %v", c.Alpha, c.Beta)
	case c.Branch && (math.IsNaN(c.DeltaHMean) || math.IsInf(c.DeltaHMean, 0) || !(c.DeltaHStd >= 0) || math.IsInf(c.DeltaHStd, 0)):
		return fmt.Errorf("rollout: the calibration of entropy rises must be finite with a standard deviation >= 0, got %v and %v", c.DeltaHMean, c.DeltaHStd)
	case !c.Branch && c.N != c.M:
		return fmt.Errorf("rollout: without branching N (%d) must equal M (%d)", c.N, c.M)
	case c.TokenBudget < 2:
		return fmt.Errorf("rollout: token budget must be >= 2, got %d", c.TokenBudget)
	case c.ToolLag < 0:
		return fmt.Errorf("rollout: tool lag must be >= 0, got %d", c.ToolLag)
	}
	return c.Sampling.Validate()
}

// Trajectory is one finished trajectory of a rollout.
type Trajectory struct {
	Prompt int // index of its prompt in the Rollout call
	Leaf   int // its last node in the prompt's tree
	// Start is its first own node. A branch's Start hangs under the node
	// that ends with the tool result it branched after, whose Branch says
	// how uncertain the policy was there.
	Start int
	Text  string // everything after the prompt: the policy's text and the results
	// Calls counts tool calls by tag along its whole path.
	Calls map[string]int
	Stop  engine.StopReason
	// Branched says whether it began as a branch (not a root).
	Branched bool
	// Tree is the rollout tree of its prompt, shared by the prompt's
	// trajectories.
	Tree *Tree `json:"-"`
}

// RolloutStats are exact counts for one rollout.
type RolloutStats struct {
	Trajectories int
	ToolCalls    int // tool calls executed: a shared prefix's calls once
	// ToolCallsFlat is what trajectory-level rollout of the same
	// trajectories would have executed.
	ToolCallsFlat   int
	ToolCallsByTool map[string]int
	InvalidCalls    int // malformed calls answered without running a tool
	Branches        int
	// Points are the closed look-ahead windows, in the order they closed:
	// ΔH = H_t - H_init after a tool result, the branch probability and the
	// decision.
	Points []BranchPoint
	// LookaheadsSkipped counts invalid calls after which no look-ahead
	// opened (branching only).
	LookaheadsSkipped int
	TokensGenerated   int
	TokensPrefilled   int // prompt and tool-result tokens fed
	GenTime           time.Duration
	ToolWait          time.Duration // time the loop waited for late tool results
}

// Roller runs rollouts with one engine, tokenizer, protocol and tool runner.
type Roller struct {
	Engine   *engine.Engine
	Tok      Tokenizer
	Protocol *tools.Protocol
	Tools    ToolRunner
	// Cfg is the configuration of Rollout; RolloutWith takes one per call.
	Cfg     RolloutConfig
	sampler sample.Sampler
}

// Rollout is RolloutWith the roller's own configuration, r.Cfg.
func (r *Roller) Rollout(ctx context.Context, prompts [][]int32, step int) ([]*Tree, []Trajectory, RolloutStats, error) {
	return r.RolloutWith(ctx, r.Cfg, prompts, step)
}

// RolloutWith runs every prompt (each a tokenised, rendered prompt) to cfg.M
// finished trajectories and returns one tree per prompt and the trajectories
// in finishing order. step identifies the training step so that every step
// draws fresh randomness from the same seed. The result is a function of the
// model, cfg, the prompts and step alone.
func (r *Roller) RolloutWith(ctx context.Context, cfg RolloutConfig, prompts [][]int32, step int) ([]*Tree, []Trajectory, RolloutStats, error) {
	return r.RolloutAt(ctx, cfg, prompts, nil, step)
}

// RolloutAt is RolloutWith of some of a step's prompts: prompts[i] is prompt
// number indices[i] of the step, which seeds its trajectories' generators,
// so that rolling out a step's prompts in parts (on several rollout
// workers) gives each prompt the trajectories it gets in one call, bit for
// bit when the engine is batch-invariant. indices must be distinct; nil
// means 0, 1, 2, ... Trajectory.Prompt is still the position in prompts.
func (r *Roller) RolloutAt(ctx context.Context, cfg RolloutConfig, prompts [][]int32, indices []int, step int) ([]*Tree, []Trajectory, RolloutStats, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, RolloutStats{}, err
	}
	if indices != nil && len(indices) != len(prompts) {
		return nil, nil, RolloutStats{}, fmt.Errorf("rollout: %d prompts but %d indices", len(prompts), len(indices))
	}
	pos := map[int]int{} // prompt identity -> position in prompts
	run := newRun(r, cfg, step)
	defer run.release()
	for i, p := range prompts {
		if len(p) == 0 {
			return nil, nil, RolloutStats{}, fmt.Errorf("rollout: prompt %d is empty", i)
		}
		if len(p) >= cfg.TokenBudget {
			return nil, nil, RolloutStats{}, fmt.Errorf("rollout: prompt %d has %d tokens, at or over the token budget %d", i, len(p), cfg.TokenBudget)
		}
		idx := i
		if indices != nil {
			idx = indices[i]
		}
		if _, dup := pos[idx]; dup || idx < 0 {
			return nil, nil, RolloutStats{}, fmt.Errorf("rollout: prompt index %d is negative or repeated", idx)
		}
		pos[idx] = i
		run.addPrompt(p, idx)
	}
	if err := run.start(); err != nil {
		return nil, nil, RolloutStats{}, err
	}
	if err := run.loop(ctx); err != nil {
		return nil, nil, RolloutStats{}, err
	}
	trees := make([]*Tree, len(run.prompts))
	for i, p := range run.prompts {
		trees[i] = p.tree
		run.stats.ToolCalls += p.tree.ToolCallsExecuted()
		run.stats.ToolCallsFlat += p.tree.ToolCallsFlat()
	}
	for i := range run.done {
		run.done[i].Prompt = pos[run.done[i].Prompt]
	}
	run.stats.Trajectories = len(run.done)
	return trees, run.done, run.stats, nil
}

// entropyNorm divides entropies by ln V so that they lie in [0, 1].
func entropyNorm(vocab int) float64 { return 1 / math.Log(float64(vocab)) }
