package rl

import (
	"context"
	"testing"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/tools"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRolloutAtMatchesOneCall: a step's prompts rolled out one at a time
// with their indices (as rollout workers do) give the trees and
// trajectories of one Rollout call, bit for bit, with a batch-invariant
// engine and a model whose logits depend on the context.
func TestRolloutAtMatchesOneCall(t *testing.T) {
	cfg := nn.Config{ModelType: "llama", VocabSize: len(tinyVocab), HiddenSize: 16, NumLayers: 1, NumHeads: 2,
		NumKVHeads: 1, HeadDim: 8, IntermediateSize: 24, RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 512}
	m, err := nn.New(cfg, cpu.New(2))
	require.NoError(t, err)
	m.Init(3)
	roller := func() *Roller {
		return &Roller{
			Engine: engine.New(m, engine.Options{BlockSize: 8, BatchInvariant: true}),
			Tok:    tinyTok{}, Protocol: &tools.Protocol{Tools: []string{"search"}, MaxCalls: 3},
			Tools: fakeTools{}, Cfg: arpoConfig(),
		}
	}
	prompts := [][]int32{{8, 9}, {9, 9, 4}, {8}, {4, 5, 8, 8}}
	trees, trajs, _, err := roller().Rollout(context.Background(), prompts, 5)
	require.NoError(t, err)
	for i := range prompts {
		// Alone, and beside another prompt, in another order.
		j := (i + 2) % len(prompts)
		got, gotTrajs, _, err := roller().RolloutAt(context.Background(), arpoConfig(), [][]int32{prompts[j], prompts[i]}, []int{j, i}, 5)
		require.NoError(t, err)
		assert.Equal(t, trees[i], got[1], "prompt %d", i)
		var want []Trajectory
		for _, tr := range trajs {
			if tr.Prompt == i {
				tr.Prompt = 1
				want = append(want, tr)
			}
		}
		var have []Trajectory
		for _, tr := range gotTrajs {
			if tr.Prompt == 1 {
				have = append(have, tr)
			}
		}
		assert.Equal(t, want, have, "prompt %d", i)
	}
	_, _, _, err = roller().RolloutAt(context.Background(), arpoConfig(), prompts[:2], []int{3, 3}, 5)
	assert.ErrorContains(t, err, "repeated")
	_, _, _, err = roller().RolloutAt(context.Background(), arpoConfig(), prompts[:2], []int{3}, 5)
	assert.ErrorContains(t, err, "indices")
}
