package rl

import (
	"context"
	"testing"

	"github.com/goarpo/arpo/nn/sample"
	"github.com/goarpo/arpo/tasks"
	"github.com/goarpo/arpo/tasks/grade"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func evalPrompts() []Prompt {
	a := &tasks.Example{ID: "a", Question: "q", Answer: "x", Metric: grade.MetricEM, Family: "lookup"}
	b := &tasks.Example{ID: "b", Question: "q", Answer: "y", Metric: grade.MetricEM, Family: "compare", Novel: true}
	return []Prompt{{Example: a, Tokens: []int32{4, 9}}, {Example: b, Tokens: []int32{9}}, {Example: a, Tokens: []int32{4}}}
}

func TestEvaluateSampledIsDeterministicAndConsistent(t *testing.T) {
	run := func() EvalResult {
		r := newRoller(t, arpoConfig())
		res, err := Evaluate(context.Background(), r, evalPrompts(), EvalConfig{
			K: 4, Sampling: sample.Params{Temperature: 1}, Seed: 3, Batch: 2, Window: 4,
		})
		require.NoError(t, err)
		assert.Zero(t, r.Engine.BlocksInUse())
		return res
	}
	res := run()
	assert.Equal(t, res, run(), "same inputs, same result")
	require.Len(t, res.Predictions, 3*4)
	assert.Equal(t, 4, res.K)
	assert.Equal(t, 3, res.Overall.Questions)
	require.Len(t, res.Families, 2)
	assert.Equal(t, "compare", res.Families[0].Family)
	assert.True(t, res.Families[0].Novel)
	assert.Equal(t, 2, res.Families[1].Questions)
	for i, p := range res.Predictions {
		assert.Equal(t, i%4, p.Sample, "K consecutive samples per question")
		assert.Equal(t, evalPrompts()[i/4].Example.ID, p.ID)
	}
	assert.GreaterOrEqual(t, res.Overall.PassK, res.Overall.Pass1)
	assert.GreaterOrEqual(t, res.Overall.PassK, res.Overall.MeanK)
	assert.Len(t, res.Entropy.Offsets, 8)
	assert.Equal(t, -4, res.Entropy.Offsets[0])
}

func TestEvaluateGreedyDrawsOnce(t *testing.T) {
	r := newRoller(t, arpoConfig())
	res, err := Evaluate(context.Background(), r, evalPrompts(), EvalConfig{K: 8})
	require.NoError(t, err)
	assert.Equal(t, 1, res.K)
	assert.Len(t, res.Predictions, 3)
	assert.Equal(t, res.Overall.Pass1, res.Overall.PassK)
	assert.Equal(t, 8, r.Cfg.M, "the caller's roller is left as it was")
}

func TestAggregateByHand(t *testing.T) {
	preds := []Prediction{
		{Family: "f", Score: 0, FormatOK: false, Calls: map[string]int{}},
		{Family: "f", Score: 1, FormatOK: true, Calls: map[string]int{"search": 2}},
		{Family: "g", Score: 1, FormatOK: true, Calls: map[string]int{"python": 1, "search": 1}},
		{Family: "g", Score: 0.5, FormatOK: true, Calls: map[string]int{}},
	}
	all, fams := aggregate(preds, 2)
	assert.Equal(t, FamilyResult{Family: "all", Questions: 2, Pass1: 0.5, PassK: 1, MeanK: 0.625, ToolCalls: 1, FormatErrors: 0.25}, all)
	require.Len(t, fams, 2)
	assert.Equal(t, FamilyResult{Family: "f", Questions: 1, Pass1: 0, PassK: 1, MeanK: 0.5, ToolCalls: 1, FormatErrors: 0.5}, fams[0])
	assert.Equal(t, FamilyResult{Family: "g", Questions: 1, Pass1: 1, PassK: 1, MeanK: 0.75, ToolCalls: 1, FormatErrors: 0}, fams[1])
}

func TestEntropyProfileAroundResults(t *testing.T) {
	// prompt | a b [result r r] c d | [result r] e
	tr := &Tree{}
	tr.AddNode(Node{Parent: -1, Tokens: []int32{1}, LossMask: []float32{0}, Entropies: []float32{0}})
	tr.AddNode(Node{Parent: 0, Tokens: []int32{1, 2, 3, 3, 4, 5, 3, 6},
		LossMask:  []float32{1, 1, 0, 0, 1, 1, 0, 1},
		Entropies: []float32{1, 2, 0, 0, 3, 4, 0, 5}})
	tr.Leaves = []int{1}
	p := newProfile(2)
	p.add(tr, 1, 1)
	r := p.result()
	assert.Equal(t, []int{-2, -1, 0, 1}, r.Offsets)
	// offset -2: a (1), c (3); -1: b (2), d (4); 0: c (3), e (5); 1: d (4).
	assert.Equal(t, []int{2, 2, 2, 1}, r.Count)
	assert.Equal(t, []float64{2, 3, 4, 4}, r.Mean)
	assert.Equal(t, []float32{1, 2, 3, 4, 5}, policyEntropies(tr, 1))
}
