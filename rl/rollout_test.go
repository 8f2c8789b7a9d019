package rl

import (
	"context"
	"strings"
	"testing"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/sample"
	"github.com/goarpo/arpo/tools"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyVocab is a vocabulary of whole tags and calls, so that a policy that
// draws tokens uniformly writes tool calls, answers and malformed calls
// often. A result "ok" is exactly tokens 6, 8, 7.
var tinyVocab = []string{"<eos>", "<search>x", "</search>", "<answer>x</answer>", "x", "\n", "<result>\n", "\n</result>\n", "ok", "y", "<search>q</search>"}

type tinyTok struct{}

func (tinyTok) TokenText(id int32) string           { return tinyVocab[id] }
func (t tinyTok) EncodeResult(block string) []int32 { return t.Encode(block) }
func (tinyTok) Encode(s string) []int32 {
	var out []int32
	for len(s) > 0 {
		best := -1
		for i, v := range tinyVocab {
			if i > 0 && strings.HasPrefix(s, v) && (best < 0 || len(v) > len(tinyVocab[best])) {
				best = i
			}
		}
		if best < 0 {
			best = 4 // unknown bytes read as "x"
			s = s[1:]
		} else {
			s = s[len(tinyVocab[best]):]
		}
		out = append(out, int32(best))
	}
	return out
}

// fakeTools answers every call with "ok" and explains malformed ones.
type fakeTools struct{}

func (fakeTools) Result(_ context.Context, ev tools.Event) string {
	if ev.Kind == tools.Invalid {
		return tools.FormatResult("ok", 0)
	}
	return tools.FormatResult("ok", 0)
}

// uniformModel gives the same next-token distribution everywhere: its final
// norm is zero, so the logits are all zero.
func uniformModel(t *testing.T) *nn.Model {
	cfg := nn.Config{ModelType: "llama", VocabSize: len(tinyVocab), HiddenSize: 16, NumLayers: 1, NumHeads: 2,
		NumKVHeads: 1, HeadDim: 8, IntermediateSize: 24, RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 512}
	m, err := nn.New(cfg, cpu.New(1))
	require.NoError(t, err)
	m.Init(1)
	m.Norm.Fill(0)
	return m
}

func newRoller(t *testing.T, cfg RolloutConfig) *Roller {
	m := uniformModel(t)
	return &Roller{
		Engine:   engine.New(m, engine.Options{BlockSize: 8}),
		Tok:      tinyTok{},
		Protocol: &tools.Protocol{Tools: []string{"search"}, MaxCalls: 3},
		Tools:    fakeTools{},
		Cfg:      cfg,
	}
}

func arpoConfig() RolloutConfig {
	return RolloutConfig{
		M: 8, N: 3, Branch: true, Z: 2, K: 3, Alpha: 0.9, Beta: 0.2, Rule: BranchStochastic,
		Sampling: sample.Params{Temperature: 1}, TokenBudget: 40, ToolLag: 1, Seed: 7, EOS: []int32{0},
	}
}

func TestARPORolloutTreeInvariants(t *testing.T) {
	r := newRoller(t, arpoConfig())
	prompts := [][]int32{{8, 9}, {9, 9, 4}, {8}}
	trees, trajs, st, err := r.Rollout(context.Background(), prompts, 0)
	require.NoError(t, err)
	require.Len(t, trees, 3)
	assert.Len(t, trajs, 3*8)
	assert.Equal(t, 3*8, st.Trajectories)
	assert.Zero(t, r.Engine.BlocksInUse(), "every cache block is released")
	resultEnd := []int32{7}
	branched := 0
	for _, tr := range trajs {
		if tr.Branched {
			branched++
		}
	}
	assert.Equal(t, st.Branches, branched)
	assert.Positive(t, st.Branches, "with alpha 0.9 some tool results must branch")
	for pi, tree := range trees {
		assert.Len(t, tree.Leaves, 8, "prompt %d: exactly M finished", pi)
		assert.Equal(t, prompts[pi], tree.Nodes[0].Tokens)
		for i, nd := range tree.Nodes {
			require.Len(t, nd.LossMask, len(nd.Tokens))
			require.Len(t, nd.LogProbs, len(nd.Tokens))
			if nd.Parent <= 0 {
				continue
			}
			// Every non-root segment starts right after a tool result.
			par := tree.Nodes[nd.Parent]
			require.GreaterOrEqual(t, len(par.Tokens), len(resultEnd), "node %d", i)
			assert.Equal(t, resultEnd, par.Tokens[len(par.Tokens)-len(resultEnd):], "node %d's parent must end with a result", i)
			assert.Zero(t, par.LossMask[len(par.LossMask)-1])
		}
		assert.LessOrEqual(t, tree.ToolCallsExecuted(), tree.ToolCallsFlat())
		// Soft: each trajectory is its path; hard: each policy token once.
		adv := make([]float32, len(tree.Leaves))
		for j := range adv {
			adv[j] = float32(j)
		}
		soft := tree.Sequences(adv, false)
		hard := tree.Sequences(adv, true)
		var policyTokens, hardLoss int
		for _, nd := range tree.Nodes {
			for _, m := range nd.LossMask {
				policyTokens += int(m)
			}
		}
		for j, s := range soft {
			require.Len(t, hard[j].Tokens, len(s.Tokens))
			for _, m := range hard[j].LossMask {
				hardLoss += int(m)
			}
		}
		assert.Equal(t, policyTokens, hardLoss, "hard attribution: every node's policy tokens once")
	}
	// Trajectory texts agree with their tree paths.
	for _, tr := range trajs {
		path := trees[tr.Prompt].Path(tr.Leaf)
		var text strings.Builder
		for _, n := range path[1:] {
			for _, tok := range trees[tr.Prompt].Nodes[n].Tokens {
				text.WriteString(tinyVocab[tok])
			}
		}
		assert.Equal(t, text.String(), tr.Text)
	}
	assert.Equal(t, st.ToolCalls, sumExecuted(trees))
	assert.Greater(t, st.ToolCallsFlat, st.ToolCalls, "branches share their prefix's calls")
}

func sumExecuted(trees []*Tree) int {
	n := 0
	for _, t := range trees {
		n += t.ToolCallsExecuted()
	}
	return n
}

func TestRolloutIsReproducible(t *testing.T) {
	run := func() ([]*Tree, []Trajectory) {
		r := newRoller(t, arpoConfig())
		trees, trajs, _, err := r.Rollout(context.Background(), [][]int32{{8, 9}, {9}}, 3)
		require.NoError(t, err)
		return trees, trajs
	}
	t1, j1 := run()
	t2, j2 := run()
	assert.Equal(t, t1, t2)
	assert.Equal(t, j1, j2)
}

func TestTrajectoryLevelRolloutNeverBranches(t *testing.T) {
	cfg := arpoConfig()
	cfg.Branch, cfg.N = false, cfg.M
	r := newRoller(t, cfg)
	trees, trajs, st, err := r.Rollout(context.Background(), [][]int32{{8, 9}}, 0)
	require.NoError(t, err)
	assert.Len(t, trajs, 8)
	assert.Zero(t, st.Branches)
	assert.Empty(t, st.Points)
	assert.Equal(t, st.ToolCallsFlat, st.ToolCalls)
	assert.Equal(t, trees[0].ToolCallsFlat(), trees[0].ToolCallsExecuted())
}

func TestRolloutConfigValidate(t *testing.T) {
	ok := arpoConfig()
	require.NoError(t, ok.Validate())
	for _, mut := range []func(*RolloutConfig){
		func(c *RolloutConfig) { c.N = 9 },
		func(c *RolloutConfig) { c.M = 0 },
		func(c *RolloutConfig) { c.K = 0 },
		func(c *RolloutConfig) { c.Rule = "coin" },
		func(c *RolloutConfig) { c.Branch = false },
		func(c *RolloutConfig) { c.TokenBudget = 1 },
		func(c *RolloutConfig) { c.Sampling.TopP = 2 },
	} {
		c := ok
		mut(&c)
		assert.Error(t, c.Validate())
	}
	r := newRoller(t, ok)
	_, _, _, err := r.Rollout(context.Background(), [][]int32{make([]int32, 40)}, 0)
	assert.ErrorContains(t, err, "token budget")
}
