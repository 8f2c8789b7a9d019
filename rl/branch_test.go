package rl

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStepEntropyIsTheSumOverTheWindow(t *testing.T) {
	assert.Equal(t, 0.0, StepEntropy(nil))
	// k tokens of per-token entropy h give k·h, not h: the scale that the
	// reference's α = 0.5, β = 0.2 are tuned on.
	assert.InDelta(t, 20*0.01, StepEntropy(repeat(0.01, 20)), 1e-12)
	assert.InDelta(t, 0.6, StepEntropy([]float64{0.1, 0.2, 0.3}), 1e-12)
}

func repeat(x float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = x
	}
	return out
}

func TestBranchProbability(t *testing.T) {
	for _, c := range []struct {
		name string
		in   BranchInputs
		want float64
	}{
		{"reference, no rise", BranchInputs{DeltaH: 0, Alpha: 0.5, Beta: 0.2}, 0.5},
		{"reference, rise", BranchInputs{DeltaH: 1.5, Alpha: 0.5, Beta: 0.2}, 0.8},
		{"reference, fall", BranchInputs{DeltaH: -1, Alpha: 0.5, Beta: 0.2}, 0.3},
		{"reference is the default scale", BranchInputs{DeltaH: 1, Alpha: 0.5, Beta: 0.2, Scale: ""}, 0.7},
		{"reference ignores the calibration", BranchInputs{DeltaH: 1, Alpha: 0.5, Beta: 0.2, Scale: ScaleReference, Mean: 5, Std: 2}, 0.7},
		{"calibrated, one sd above", BranchInputs{DeltaH: 0.3, Alpha: 0.5, Beta: 0.25, Scale: ScaleCalibrated, Mean: 0.1, Std: 0.2}, 0.75},
		{"calibrated, at the mean", BranchInputs{DeltaH: 0.1, Alpha: 0.5, Beta: 0.25, Scale: ScaleCalibrated, Mean: 0.1, Std: 0.2}, 0.5},
		{"calibrated, two sd below", BranchInputs{DeltaH: -0.3, Alpha: 0.5, Beta: 0.25, Scale: ScaleCalibrated, Mean: 0.1, Std: 0.2}, 0},
		{"calibrated without a spread yet is alpha", BranchInputs{DeltaH: 9, Alpha: 0.4, Beta: 0.25, Scale: ScaleCalibrated}, 0.4},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.InDelta(t, c.want, BranchProbability(c.in), 1e-12)
		})
	}
}

func TestShouldBranch(t *testing.T) {
	for _, c := range []struct {
		rule BranchRule
		p    float64
		tau  float64
		u    float32
		want bool
	}{
		{BranchThreshold, 0.51, 0.5, 0.99, true},
		{BranchThreshold, 0.5, 0.5, 0, false}, // strictly above tau
		{BranchThreshold, 0.2, 0.1, 0.9, true},
		{BranchStochastic, 0.3, 0, 0.29, true},
		{BranchStochastic, 0.3, 0, 0.3, false},
		{BranchStochastic, -2, 0, 0, false},    // clipped to 0: never
		{BranchStochastic, 7, 0, 0.9999, true}, // clipped to 1: always
		{BranchStochastic, math.NaN(), 0, 0, false},
	} {
		assert.Equal(t, c.want, ShouldBranch(c.rule, c.p, c.tau, c.u), "%s p=%v tau=%v u=%v", c.rule, c.p, c.tau, c.u)
	}
}

func TestParseBranchScale(t *testing.T) {
	for in, want := range map[string]BranchScale{"": ScaleReference, "reference": ScaleReference, "calibrated": ScaleCalibrated} {
		got, err := ParseBranchScale(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := ParseBranchScale("zscore")
	assert.ErrorContains(t, err, "zscore")
}

func TestDeltaHStatsUpdate(t *testing.T) {
	var s DeltaHStats
	assert.Zero(t, s.Std())
	assert.Equal(t, s, s.Update([]float64{1}), "one rise has no spread")
	s = s.Update([]float64{1, 3})
	assert.Equal(t, DeltaHStats{Mean: 2, Var: 2, Steps: 1}, s, "the first step sets the estimate")
	s = s.Update([]float64{0, 0, 0})
	assert.InDelta(t, 0.9*2, s.Mean, 1e-12)
	assert.InDelta(t, 0.9*2, s.Var, 1e-12)
	assert.Equal(t, 2, s.Steps)
	assert.InDelta(t, math.Sqrt(1.8), s.Std(), 1e-12)
}

// With a uniform policy every token's normalised entropy is exactly 1, so a
// step's entropy is its number of tokens (up to K): the rises are whole
// numbers, and some are not zero. Under a mean, every step entropy would be
// 1 and every rise 0: branching at the constant α.
func TestRolloutRisesAreSumsOverTheLookahead(t *testing.T) {
	cfg := arpoConfig()
	r := newRoller(t, cfg)
	trees, _, st, err := r.Rollout(context.Background(), [][]int32{{8, 9}, {9, 9, 4}, {8}}, 0)
	require.NoError(t, err)
	require.NotEmpty(t, st.Points)
	nonzero := 0
	for _, p := range st.Points {
		assert.InDelta(t, math.Round(p.DeltaH), p.DeltaH, 1e-5, "a rise is a difference of token counts")
		assert.LessOrEqual(t, math.Abs(p.DeltaH), float64(cfg.K)+1e-5)
		assert.InDelta(t, cfg.Alpha+cfg.Beta*p.DeltaH, p.Prob, 1e-12)
		if math.Abs(p.DeltaH) > 0.5 {
			nonzero++
		}
	}
	assert.Positive(t, nonzero, "some look-ahead windows differ in length from the first step")
	// Every recorded point sits on a node that ran a tool call, and the
	// tree holds exactly the rollout's points.
	onTree := 0
	for _, tree := range trees {
		for i, nd := range tree.Nodes {
			if nd.Branch == nil {
				continue
			}
			onTree++
			assert.Equal(t, 1, nd.ToolCalls, "node %d: a look-ahead follows a call that ran", i)
			kids := 0
			for _, other := range tree.Nodes {
				if other.Parent == i {
					kids++
				}
			}
			assert.Equal(t, 1+nd.Branch.Children, kids, "node %d: its continuation and its branches", i)
			if !nd.Branch.Branched {
				assert.Zero(t, nd.Branch.Children)
			}
		}
	}
	assert.Equal(t, len(st.Points), onTree)
}

// Invalid calls are answered with an explanation, which is not a tool
// result: no look-ahead opens after it, so no branch starts there.
func TestNoLookaheadAfterInvalidCalls(t *testing.T) {
	r := newRoller(t, arpoConfig())
	trees, trajs, st, err := r.Rollout(context.Background(), [][]int32{{8, 9}, {9, 9, 4}, {8}, {4}}, 0)
	require.NoError(t, err)
	require.Positive(t, st.InvalidCalls, "the tiny vocabulary writes malformed calls")
	assert.Positive(t, st.LookaheadsSkipped)
	assert.LessOrEqual(t, st.LookaheadsSkipped, st.InvalidCalls)
	for _, tr := range trajs {
		if !tr.Branched {
			continue
		}
		origin := trees[tr.Prompt].Nodes[trees[tr.Prompt].Nodes[tr.Start].Parent]
		require.NotNil(t, origin.Branch, "a branch starts after a measured tool result")
		assert.Equal(t, 1, origin.ToolCalls)
	}
}

func TestCalibratedScaleUsesTheGivenSpread(t *testing.T) {
	cfg := arpoConfig()
	cfg.Scale, cfg.Alpha, cfg.Beta = ScaleCalibrated, 0.5, 0.25
	r := newRoller(t, cfg)
	_, _, st, err := r.Rollout(context.Background(), [][]int32{{8, 9}, {9, 9, 4}}, 0)
	require.NoError(t, err)
	require.NotEmpty(t, st.Points)
	for _, p := range st.Points {
		assert.Equal(t, 0.5, p.Prob, "no spread known yet: P = alpha")
	}
	cfg.DeltaHMean, cfg.DeltaHStd = 0.5, 2
	_, _, st, err = r.RolloutWith(context.Background(), cfg, [][]int32{{8, 9}, {9, 9, 4}}, 0)
	require.NoError(t, err)
	for _, p := range st.Points {
		assert.InDelta(t, 0.5+0.25*(p.DeltaH-0.5)/2, p.Prob, 1e-12)
	}
}

func TestTrainerCarriesTheRiseSpreadAcrossSteps(t *testing.T) {
	tr := tinyTrainer(t, ARPO, 5)
	tr.Cfg.Rollout.Scale, tr.Cfg.Rollout.Beta = ScaleCalibrated, 0.25
	met1, _, err := tr.Step(context.Background(), 1, tinyPrompts(), nil)
	require.NoError(t, err)
	require.GreaterOrEqual(t, met1.DeltaHCount, 2)
	assert.Zero(t, met1.CalibStd, "the first step has no earlier rises")
	assert.Equal(t, 0.5, met1.BranchProbMean)
	require.Positive(t, tr.DeltaH.Std(), "the first step's rises set the spread")
	want := tr.DeltaH
	met2, _, err := tr.Step(context.Background(), 2, tinyPrompts(), nil)
	require.NoError(t, err)
	assert.Equal(t, want.Mean, met2.CalibMean)
	assert.Equal(t, want.Std(), met2.CalibStd)
	assert.Equal(t, 2, tr.DeltaH.Steps)
	assert.Equal(t, 0.0, tr.Roller.Cfg.DeltaHStd, "the roller's own configuration is left alone")
}
