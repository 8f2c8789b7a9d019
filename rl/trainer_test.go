package rl

import (
	"context"
	"testing"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/tasks"
	"github.com/goarpo/arpo/tasks/grade"
	"github.com/goarpo/arpo/tools"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tinyTrainer(t *testing.T, algo Algo, seed uint64) *Trainer {
	cfg := nn.Config{ModelType: "llama", VocabSize: len(tinyVocab), HiddenSize: 16, NumLayers: 2, NumHeads: 2,
		NumKVHeads: 1, HeadDim: 8, IntermediateSize: 24, RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 512}
	m, err := nn.New(cfg, cpu.New(2))
	require.NoError(t, err)
	m.Init(seed)
	opt, err := nn.NewAdamW(m, nn.DefaultAdamW(1e-3))
	require.NoError(t, err)
	ac := DefaultAlgoConfig(algo, 4)
	ac.Rollout.K = 3
	ac.Rollout.TokenBudget = 32
	ac.Rollout.Seed = seed
	ac.Rollout.EOS = []int32{0}
	ac.MicroTokens = 64 // several micro-batches: accumulation is exercised
	return &Trainer{
		Model: m, Opt: opt, Cfg: ac,
		Roller: &Roller{
			Engine:   engine.New(m, engine.Options{BlockSize: 8}),
			Tok:      tinyTok{},
			Protocol: &tools.Protocol{Tools: []string{"search"}, MaxCalls: 3},
			Tools:    fakeTools{},
		},
	}
}

func tinyPrompts() []Prompt {
	ex := &tasks.Example{Question: "q", Answer: "x", Metric: grade.MetricEM}
	return []Prompt{{Example: ex, Tokens: []int32{4, 9}}, {Example: ex, Tokens: []int32{9}}, {Example: ex, Tokens: []int32{4}}}
}

func TestRLStepChangesEveryParameter(t *testing.T) {
	for _, algo := range []Algo{ARPO, GRPO, DAPO, REINFORCEPP} {
		t.Run(string(algo), func(t *testing.T) {
			tr := tinyTrainer(t, algo, 11)
			before, err := tr.Model.W.Data()
			require.NoError(t, err)
			met, scored, err := tr.Step(context.Background(), 1, tinyPrompts(), func(n int) []Prompt { return tinyPrompts()[:n] })
			require.NoError(t, err)
			require.Positive(t, met.Groups, "some group must have unequal rewards")
			assert.Len(t, scored, 4*met.Groups, "M trajectories per kept group")
			assert.Positive(t, met.GradNorm)
			after, err := tr.Model.W.Data()
			require.NoError(t, err)
			for _, p := range tr.Model.Params {
				off := p.W.View().Off - tr.Model.W.View().Off
				changed := false
				for i := off; i < off+p.W.Len(); i++ {
					if before[i] != after[i] {
						changed = true
						break
					}
				}
				assert.True(t, changed, "parameter %s did not change", p.Name)
			}
		})
	}
}

func TestRLStepIsDeterministic(t *testing.T) {
	run := func() (StepMetrics, []float32) {
		tr := tinyTrainer(t, ARPO, 5)
		var met StepMetrics
		for step := 1; step <= 2; step++ {
			var err error
			met, _, err = tr.Step(context.Background(), step, tinyPrompts(), nil)
			require.NoError(t, err)
		}
		w, err := tr.Model.W.Data()
		require.NoError(t, err)
		met.TimeRollout, met.TimeGen, met.TimeToolWait, met.TimeUpdate = 0, 0, 0, 0
		return met, w
	}
	m1, w1 := run()
	m2, w2 := run()
	assert.Equal(t, m1, m2)
	assert.Equal(t, w1, w2)
}

func TestAlgoConfigValidate(t *testing.T) {
	for _, a := range []Algo{ARPO, GRPO, DAPO, REINFORCEPP} {
		c := DefaultAlgoConfig(a, 8)
		c.Rollout.EOS = []int32{0}
		require.NoError(t, c.Validate(), a)
	}
	c := DefaultAlgoConfig(GRPO, 8)
	c.Rollout.Branch = true
	assert.Error(t, c.Validate())
	c = DefaultAlgoConfig(ARPO, 8)
	c.Rollout.Sampling.Temperature = 0.6
	assert.Error(t, c.Validate())
	_, err := ParseAlgo("ppo")
	assert.Error(t, err)
}

// TestRLRaisesReward is the end-to-end sign check of the whole update
// (advantages, attribution, loss, backward, optimizer): a few steps of each
// algorithm on the tiny task must raise the mean reward of its rollouts.
// A flipped sign anywhere drives the reward down instead.
func TestRLRaisesReward(t *testing.T) {
	for _, algo := range []Algo{ARPO, GRPO, DAPO, REINFORCEPP} {
		t.Run(string(algo), func(t *testing.T) {
			tr := tinyTrainer(t, algo, 3)
			tr.Opt.Cfg.LR = 2e-2
			refill := func(n int) []Prompt { return tinyPrompts()[:n] }
			var rewards []float64
			for step := 1; step <= 12; step++ {
				met, _, err := tr.Step(context.Background(), step, tinyPrompts(), refill)
				require.NoError(t, err)
				rewards = append(rewards, met.RewardMean)
			}
			first := (rewards[0] + rewards[1] + rewards[2]) / 3
			last := (rewards[9] + rewards[10] + rewards[11]) / 3
			t.Logf("%s rewards %.2f", algo, rewards)
			assert.Greater(t, last, first+0.3, "mean reward of the first 3 steps %.2f, of the last 3 %.2f", first, last)
		})
	}
}
