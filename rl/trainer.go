package rl

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/tasks"
	"github.com/goarpo/arpo/tasks/grade"
)

// Prompt is one question to roll out: the task and its rendered tokens.
type Prompt struct {
	Example *tasks.Example
	Tokens  []int32
}

// Scored is a finished trajectory with its reward and advantage.
type Scored struct {
	Trajectory
	Reward grade.Reward
	Adv    float32
}

// Trainer runs RL steps: rollout, rewards, advantages, PPO update.
type Trainer struct {
	Model  *nn.Model
	Opt    *nn.AdamW
	Roller *Roller
	// Ref is the frozen reference policy of the KL term; needed only when
	// Cfg.Loss.KLCoef > 0.
	Ref *nn.Model
	Cfg AlgoConfig
	// DeltaH estimates the spread of entropy rises over earlier steps: the
	// standardisation of ScaleCalibrated branching. Step updates it; it is
	// part of the run's state, saved and restored with checkpoints.
	DeltaH DeltaHStats
	// Source rolls the prompts out instead of Roller (e.g. on rollout
	// workers: package dist); nil means Roller.
	Source RolloutSource
	// Rollout, when not nil, is the model Roller's engine decodes with, kept
	// apart from Model: the merged copy of a model with LoRA adapters (the
	// engine does not apply them). Each update ends by refreshing it
	// (nn.Model.MergeInto).
	Rollout *nn.Model
}

// RolloutSource rolls out prompts as Roller.RolloutWith does: one tree per
// prompt and the trajectories, Trajectory.Prompt indexing prompts.
type RolloutSource interface {
	RolloutWith(ctx context.Context, cfg RolloutConfig, prompts [][]int32, step int) ([]*Tree, []Trajectory, RolloutStats, error)
}

// StepMetrics are the per-step numbers of the spec, written as one JSON line.
type StepMetrics struct {
	Step            int            `json:"step"`
	RewardMean      float64        `json:"reward_mean"`
	RewardStd       float64        `json:"reward_std"`
	Accuracy        float64        `json:"accuracy"` // mean task score of the trajectories
	FormatErrorRate float64        `json:"format_error_rate"`
	Trajectories    int            `json:"trajectories"`
	Groups          int            `json:"groups"`          // prompts in the update
	GroupsDropped   int            `json:"groups_dropped"`  // DAPO: groups with equal rewards
	ToolCalls       int            `json:"tool_calls"`      // executed
	ToolCallsFlat   int            `json:"tool_calls_flat"` // a trajectory-level rollout's cost
	ToolCallsByTool map[string]int `json:"tool_calls_by_tool"`
	InvalidCalls    int            `json:"invalid_calls"`
	// LookaheadsSkipped counts invalid calls after which ARPO opened no
	// look-ahead window (their explanation is not a tool result).
	LookaheadsSkipped int     `json:"lookaheads_skipped"`
	Branches          int     `json:"branches"`
	DeltaHMean        float64 `json:"delta_h_mean"`
	DeltaHCount       int     `json:"delta_h_count"` // closed look-ahead windows
	Branching
	GroupDiagnostics
	TokensGenerated int     `json:"tokens_generated"`
	TokensPrefilled int     `json:"tokens_prefilled"`
	ResponseLen     float64 `json:"response_len"` // mean policy tokens per trajectory
	Loss            float64 `json:"loss"`
	ClipFrac        float64 `json:"clip_frac"`
	ApproxKL        float64 `json:"approx_kl"` // KL(old || new) estimate
	KL              float64 `json:"kl"`        // k3 to the reference, when used
	GradNorm        float64 `json:"grad_norm"`
	LR              float64 `json:"lr"`
	TimeRollout     float64 `json:"time_rollout_s"`
	TimeGen         float64 `json:"time_gen_s"`
	TimeToolWait    float64 `json:"time_tool_wait_s"`
	TimeUpdate      float64 `json:"time_update_s"`
}

// Step runs one RL step on prompts. refill supplies further prompts for
// DAPO's dynamic sampling (it may be nil otherwise).
func (tr *Trainer) Step(ctx context.Context, step int, prompts []Prompt, refill func(n int) []Prompt) (StepMetrics, []Scored, error) {
	if err := tr.Cfg.Validate(); err != nil {
		return StepMetrics{}, nil, err
	}
	if tr.Cfg.Loss.KLCoef > 0 && tr.Ref == nil {
		return StepMetrics{}, nil, fmt.Errorf("rl: a KL coefficient needs a reference model")
	}
	cfg := tr.Cfg.Rollout
	cfg.DeltaHMean, cfg.DeltaHStd = tr.DeltaH.Mean, tr.DeltaH.Std()
	met := StepMetrics{Step: step, ToolCallsByTool: map[string]int{}}

	t0 := time.Now()
	groups, all, points, err := tr.collect(ctx, cfg, step, prompts, refill, &met)
	if err != nil {
		return met, nil, err
	}
	met.TimeRollout = time.Since(t0).Seconds()
	tr.rewardStats(all, &met)
	met.Branching = branchingStats(points, cfg)
	met.GroupDiagnostics = groupDiagnostics(all)
	rises := make([]float64, len(points))
	for i, p := range points {
		rises[i] = p.DeltaH
	}
	// In a canonical order: the sums then do not depend on the order in
	// which prompts' look-aheads closed, so rollouts split across workers
	// (package dist) update the scale as one batch does, bit for bit.
	slices.Sort(rises)
	next := tr.DeltaH.Update(rises)
	if len(groups) == 0 {
		tr.DeltaH = next
		return met, all, nil // nothing to learn from this step
	}

	seqs, scored := tr.advantages(groups)
	t1 := time.Now()
	if err := tr.update(seqs, &met); err != nil {
		return met, nil, err
	}
	met.TimeUpdate = time.Since(t1).Seconds()
	tr.DeltaH = next
	return met, scored, nil
}

// group is one prompt's rollout: its tree and its trajectories in leaf order.
type group struct {
	prompt Prompt
	tree   *Tree
	trajs  []Scored
}

// collect rolls out the prompts (and, for DAPO, refills) with cfg and
// returns the groups to train on, every scored trajectory and every closed
// look-ahead window.
func (tr *Trainer) collect(ctx context.Context, cfg RolloutConfig, step int, prompts []Prompt, refill func(int) []Prompt, met *StepMetrics) ([]group, []Scored, []BranchPoint, error) {
	var kept []group
	var all []Scored
	var points []BranchPoint
	batch := prompts
	for round := 0; len(batch) > 0; round++ {
		toks := make([][]int32, len(batch))
		for i, p := range batch {
			toks[i] = p.Tokens
		}
		// The round goes into the seed so refills draw fresh randomness.
		var src RolloutSource = tr.Roller
		if tr.Source != nil {
			src = tr.Source
		}
		trees, trajs, st, err := src.RolloutWith(ctx, cfg, toks, step<<4|min(round, 15))
		if err != nil {
			return nil, nil, nil, err
		}
		addRollout(met, st)
		points = append(points, st.Points...)
		gs := make([]group, len(batch))
		for i := range gs {
			gs[i] = group{prompt: batch[i], tree: trees[i]}
		}
		for _, t := range trajs {
			s := Scored{Trajectory: t, Reward: batch[t.Prompt].Example.Reward(t.Text, t.Calls)}
			gs[t.Prompt].trajs = append(gs[t.Prompt].trajs, s)
			all = append(all, s)
		}
		for _, g := range gs {
			if tr.Cfg.DynamicSampling && allEqual(g.trajs) {
				met.GroupsDropped++
				continue
			}
			if len(kept) < len(prompts) {
				kept = append(kept, g)
			}
		}
		batch = nil
		if tr.Cfg.DynamicSampling && len(kept) < len(prompts) && round < tr.Cfg.MaxRefills && refill != nil {
			batch = refill(len(prompts) - len(kept))
		}
	}
	met.Groups = len(kept)
	return kept, all, points, nil
}

func allEqual(ts []Scored) bool {
	for _, t := range ts[1:] {
		if t.Reward.Value != ts[0].Reward.Value {
			return false
		}
	}
	return true
}

func addRollout(met *StepMetrics, st RolloutStats) {
	met.ToolCalls += st.ToolCalls
	met.ToolCallsFlat += st.ToolCallsFlat
	for k, v := range st.ToolCallsByTool {
		met.ToolCallsByTool[k] += v
	}
	met.InvalidCalls += st.InvalidCalls
	met.Branches += st.Branches
	n := float64(met.DeltaHCount)
	for _, p := range st.Points {
		met.DeltaHMean = (met.DeltaHMean*n + p.DeltaH) / (n + 1)
		n++
	}
	met.DeltaHCount = int(n)
	met.LookaheadsSkipped += st.LookaheadsSkipped
	met.TokensGenerated += st.TokensGenerated
	met.TokensPrefilled += st.TokensPrefilled
	met.TimeGen += st.GenTime.Seconds()
	met.TimeToolWait += st.ToolWait.Seconds()
}

func (tr *Trainer) rewardStats(all []Scored, met *StepMetrics) {
	met.Trajectories = len(all)
	if len(all) == 0 {
		return
	}
	r := make([]float32, len(all))
	var score, bad float64
	for i, s := range all {
		r[i] = float32(s.Reward.Value)
		score += s.Reward.Score
		if !s.Reward.Format.Valid() {
			bad++
		}
	}
	met.RewardMean, met.RewardStd = meanStd(r)
	met.Accuracy = score / float64(len(all))
	met.FormatErrorRate = bad / float64(len(all))
	met.ResponseLen = float64(met.TokensGenerated) / float64(len(all))
}

// advantages computes each kept trajectory's advantage and the training
// sequences of every group.
func (tr *Trainer) advantages(groups []group) ([]Sequence, []Scored) {
	var rewards []float32
	var sizes []int
	for _, g := range groups {
		for _, t := range g.trajs {
			rewards = append(rewards, float32(t.Reward.Value))
		}
		sizes = append(sizes, len(g.trajs))
	}
	var adv []float32
	if tr.Cfg.Algo == REINFORCEPP {
		adv = BatchAdvantages(rewards)
	} else {
		adv = GroupAdvantagesVar(rewards, sizes, tr.Cfg.NormStd)
	}
	var seqs []Sequence
	var scored []Scored
	at := 0
	for _, g := range groups {
		a := adv[at : at+len(g.trajs)]
		for i := range g.trajs {
			g.trajs[i].Adv = a[i]
			scored = append(scored, g.trajs[i])
		}
		seqs = append(seqs, g.tree.Sequences(a, tr.Cfg.HardAttribution)...)
		at += len(g.trajs)
	}
	return seqs, scored
}

// update runs the PPO epochs over the sequences.
func (tr *Trainer) update(seqs []Sequence, met *StepMetrics) error {
	c := tr.Cfg
	var tokens, clipped int
	var lossSum, approxKL, kl, gradNorm float64
	steps := 0
	for epoch := 0; epoch < c.PPOEpochs; epoch++ {
		for mb := 0; mb < c.MiniBatches; mb++ {
			lo, hi := mb*len(seqs)/c.MiniBatches, (mb+1)*len(seqs)/c.MiniBatches
			if lo == hi {
				continue
			}
			part := seqs[lo:hi]
			norm := normaliser(part)
			if norm.Tokens == 0 {
				continue
			}
			tr.Model.ZeroGrad()
			for _, micro := range microBatches(part, c.MicroTokens) {
				l, st, err := tr.microStep(part, micro, norm)
				if err != nil {
					return err
				}
				lossSum += l
				tokens += st.Tokens
				clipped += st.Clipped + st.DualClipped
				approxKL += st.ApproxKL
				kl += st.KLSum
			}
			info, err := tr.Opt.Update(tr.Model)
			if err != nil {
				return fmt.Errorf("rl: optimizer step: %w", err)
			}
			gradNorm += float64(info.GradNorm)
			met.LR = info.LR
			steps++
		}
	}
	if tr.Rollout != nil && steps > 0 {
		if err := tr.Model.MergeInto(tr.Rollout); err != nil {
			return fmt.Errorf("rl: refreshing the rollout model: %w", err)
		}
	}
	if steps > 0 {
		met.Loss = lossSum / float64(steps)
		met.GradNorm = gradNorm / float64(steps)
	}
	if tokens > 0 {
		met.ClipFrac = float64(clipped) / float64(tokens)
		met.ApproxKL = approxKL / float64(tokens)
		met.KL = kl / float64(tokens)
	}
	return nil
}

// normaliser counts the loss tokens and sequences of a mini-batch. A
// sequence's first token is never predicted, so it never counts.
func normaliser(seqs []Sequence) Normaliser {
	var n Normaliser
	for _, s := range seqs {
		k := 0
		for _, m := range s.LossMask[1:] {
			if m > 0 {
				k++
			}
		}
		n.Tokens += k
		if k > 0 {
			n.Seqs++
		}
	}
	return n
}

// microBatches splits sequence indices into packs of at most maxTokens
// tokens (a longer sequence goes alone).
func microBatches(seqs []Sequence, maxTokens int) [][]int {
	var out [][]int
	var cur []int
	n := 0
	for i, s := range seqs {
		if len(cur) > 0 && n+len(s.Tokens) > maxTokens {
			out = append(out, cur)
			cur, n = nil, 0
		}
		cur = append(cur, i)
		n += len(s.Tokens)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// microStep runs forward, loss and backward on one micro-batch; the
// gradients accumulate in the model.
func (tr *Trainer) microStep(part []Sequence, micro []int, norm Normaliser) (float64, LossStats, error) {
	var toks []int32
	var lens []int
	var in PolicyTokens
	for _, i := range micro {
		s := part[i]
		toks = append(toks, s.Tokens...)
		lens = append(lens, len(s.Tokens))
		// Row r predicts token r+1: its old log-prob, advantage and mask
		// are token r+1's. The last row predicts nothing.
		for r := range s.Tokens {
			var old, adv, m float32
			if r+1 < len(s.Tokens) {
				old, adv, m = s.OldLogP[r+1], s.Adv[r+1], s.LossMask[r+1]
			}
			in.OldLogProb = append(in.OldLogProb, old)
			in.Adv = append(in.Adv, adv)
			in.Mask = append(in.Mask, m)
			in.SeqID = append(in.SeqID, int32(i))
		}
	}
	p, err := tr.Model.Forward(toks, nn.Pack(lens...))
	if err != nil {
		return 0, LossStats{}, fmt.Errorf("rl: forward: %w", err)
	}
	defer p.Free()
	targets := p.NextTokenTargets()
	withEnt := tr.Cfg.Loss.EntropyCoef > 0
	logp, ent, err := p.LogProbs(targets, withEnt)
	if err != nil {
		return 0, LossStats{}, err
	}
	in.LogProb, in.Entropy = logp, ent
	if tr.Cfg.Loss.KLCoef > 0 {
		rp, err := tr.Ref.Forward(toks, nn.Pack(lens...))
		if err != nil {
			return 0, LossStats{}, fmt.Errorf("rl: reference forward: %w", err)
		}
		in.RefLogProb, _, err = rp.LogProbs(targets, false)
		rp.Free()
		if err != nil {
			return 0, LossStats{}, err
		}
	}
	loss, dlogp, dent, st := PolicyLoss(tr.Cfg.Loss, in, norm)
	if math.IsNaN(loss) {
		return 0, st, fmt.Errorf("rl: policy loss is NaN")
	}
	if err := p.BackwardLogProbs(targets, dlogp, dent); err != nil {
		return 0, st, err
	}
	return loss, st, nil
}
