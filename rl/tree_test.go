package rl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testTree: prompt -> A (1 tool call) -> {B -> {D, E}, C}; trajectories end
// at D, E and C.
func testTree() *Tree {
	seg := func(parent int, toks []int32, mask []float32, calls int) Node {
		return Node{Parent: parent, Tokens: toks, LossMask: mask, LogProbs: make([]float32, len(toks)), Entropies: make([]float32, len(toks)), ToolCalls: calls}
	}
	t := &Tree{}
	t.AddNode(seg(-1, []int32{1, 2}, []float32{0, 0}, 0))      // 0 prompt
	t.AddNode(seg(0, []int32{3, 4, 5}, []float32{1, 1, 0}, 1)) // 1 A: 2 policy tokens, 1 result token
	t.AddNode(seg(1, []int32{6, 7}, []float32{1, 0}, 1))       // 2 B
	t.AddNode(seg(1, []int32{8}, []float32{1}, 0))             // 3 C
	t.AddNode(seg(2, []int32{9}, []float32{1}, 0))             // 4 D
	t.AddNode(seg(2, []int32{10, 11}, []float32{1, 1}, 0))     // 5 E
	t.Leaves = []int{4, 5, 3}
	return t
}

func TestToolCallCounts(t *testing.T) {
	tr := testTree()
	assert.Equal(t, 2, tr.ToolCallsExecuted())
	// D: A+B = 2, E: 2, C: 1.
	assert.Equal(t, 5, tr.ToolCallsFlat())
	assert.Equal(t, []int{0, 1, 2, 5}, tr.Path(5))
}

func TestSoftAttributionEveryTokenOncePerTrajectory(t *testing.T) {
	tr := testTree()
	adv := []float32{1, -1, 0.5}
	seqs := tr.Sequences(adv, false)
	require.Len(t, seqs, 3)
	assert.Equal(t, []int32{1, 2, 3, 4, 5, 6, 7, 9}, seqs[0].Tokens)
	assert.Equal(t, []int32{1, 2, 3, 4, 5, 6, 7, 10, 11}, seqs[1].Tokens)
	assert.Equal(t, []int32{1, 2, 3, 4, 5, 8}, seqs[2].Tokens)
	for j, s := range seqs {
		require.Len(t, s.LossMask, len(s.Tokens))
		for k := range s.Tokens {
			assert.Equal(t, adv[j], s.Adv[k])
		}
	}
	assert.Equal(t, []float32{0, 0, 1, 1, 0, 1, 0, 1}, seqs[0].LossMask)
}

func TestHardAttributionEachNodeOnceWithMeanAdvantage(t *testing.T) {
	tr := testTree()
	adv := []float32{1, -1, 0.5}
	na := tr.NodeAdvantages(adv)
	assert.InDelta(t, (1-1+0.5)/3.0, float64(na[1]), 1e-7) // A: all three
	assert.InDelta(t, 0, float64(na[2]), 1e-7)             // B: D and E
	assert.Equal(t, float32(0.5), na[3])                   // C: itself
	assert.Equal(t, float32(1), na[4])
	assert.Equal(t, float32(-1), na[5])

	seqs := tr.Sequences(adv, true)
	// Count how often each node's policy tokens are in the loss: once.
	inLoss := map[int32]int{}
	for _, s := range seqs {
		for k, tok := range s.Tokens {
			if s.LossMask[k] > 0 {
				inLoss[tok]++
			}
		}
	}
	for _, tok := range []int32{3, 4, 6, 8, 9, 10, 11} {
		assert.Equal(t, 1, inLoss[tok], "token %d", tok)
	}
	assert.Zero(t, inLoss[1]+inLoss[2]+inLoss[5]+inLoss[7], "prompt and results never in the loss")
	// Node A's tokens carry its mean advantage in the trajectory that owns them.
	assert.InDelta(t, float64(na[1]), float64(seqs[0].Adv[2]), 1e-7)
	// E's own tokens keep E's advantage.
	assert.Equal(t, float32(-1), seqs[1].Adv[len(seqs[1].Adv)-1])
}
