package rl

import (
	"testing"

	"github.com/goarpo/arpo/tasks/grade"
	"github.com/stretchr/testify/assert"
)

func scoredAs(tree *Tree, answer string, score float64, start int, branched bool) Scored {
	f := grade.CheckFormat("<answer> " + answer + " </answer>")
	return Scored{
		Trajectory: Trajectory{Tree: tree, Start: start, Branched: branched},
		Reward:     grade.Reward{Value: score, Score: score, Format: f},
	}
}

func TestGroupDiagnostics(t *testing.T) {
	// Group a: a root (node 1) whose tool result closed a look-ahead with
	// ΔH 0.8 and branched into node 3; the branch is right, the root wrong.
	a := &Tree{Nodes: []Node{{Parent: -1}, {Parent: 0, Branch: &BranchPoint{DeltaH: 0.8, Branched: true, Children: 1}}, {Parent: 1}, {Parent: 1}}}
	// Group b: two roots, both wrong with the same answer.
	b := &Tree{Nodes: []Node{{Parent: -1}, {Parent: 0}, {Parent: 0}}}
	// Group c: a right root and a wrong branch from a point with ΔH -0.2.
	c := &Tree{Nodes: []Node{{Parent: -1}, {Parent: 0, Branch: &BranchPoint{DeltaH: -0.2, Branched: true, Children: 1}}, {Parent: 1}, {Parent: 1}}}
	bad := Scored{Trajectory: Trajectory{Tree: c, Start: 1}, Reward: grade.Reward{Value: -1, Format: grade.CheckFormat("no answer")}}
	all := []Scored{
		scoredAs(a, "7", 0, 1, false), scoredAs(a, "8", 1, 3, true),
		scoredAs(b, "The 5", 0, 1, false), scoredAs(b, "5", 0, 2, false),
		scoredAs(c, "9", 1, 1, false), scoredAs(c, "10", 0, 3, true), bad,
	}
	d := groupDiagnostics(all)
	assert.Equal(t, 3, d.GroupsRolled)
	assert.InDelta(t, 2.0/3, d.GroupsWithSignal, 1e-12, "a and c have a right and a wrong trajectory")
	assert.InDelta(t, 2.0/3, d.GroupsUnequal, 1e-12)
	assert.InDelta(t, 2.0/3, d.PassAtM, 1e-12)
	// a: {7, 8}; b: {5} ("The 5" normalises to "5"); c: {9, 10} (the
	// malformed one has no answer).
	assert.InDelta(t, 5.0/3, d.DistinctAnswers, 1e-12)
	assert.Equal(t, 1, d.BranchedCorrect)
	assert.Equal(t, 1, d.BranchedWrong)
	assert.InDelta(t, 0.8, d.DeltaHBranchedCorrect, 1e-12)
	assert.InDelta(t, -0.2, d.DeltaHBranchedWrong, 1e-12)
	assert.InDelta(t, 0.5, d.CorrectFromBranchShare, 1e-12)

	assert.Equal(t, GroupDiagnostics{}, groupDiagnostics(nil))
}

func TestBranchingStats(t *testing.T) {
	pts := []BranchPoint{
		{DeltaH: 1, Prob: 0.9, Branched: true, Children: 1},
		{DeltaH: 2, Prob: 1.4, Branched: true}, // clipped to 1; the budget was spent
		{DeltaH: -1, Prob: 0.3},
		{DeltaH: 0, Prob: 0.5},
	}
	b := branchingStats(pts, RolloutConfig{Scale: ScaleCalibrated, DeltaHMean: 0.1, DeltaHStd: 0.4})
	assert.InDelta(t, (0.9+1+0.3+0.5)/4, b.BranchProbMean, 1e-12)
	assert.InDelta(t, 0.5, b.BranchProbHigh, 1e-12)
	assert.InDelta(t, 0.25, b.BranchProbLow, 1e-12)
	assert.InDelta(t, 1.5, b.DeltaHBranched, 1e-12)
	assert.InDelta(t, -0.5, b.DeltaHUnbranched, 1e-12)
	assert.Equal(t, 2, b.PointsBranched)
	assert.Equal(t, 1, b.BudgetRefused)
	assert.Equal(t, 0.1, b.CalibMean)
	assert.Equal(t, 0.4, b.CalibStd)
	assert.Positive(t, b.DeltaHStd)
	assert.Equal(t, Branching{}, branchingStats(nil, RolloutConfig{}))
}
