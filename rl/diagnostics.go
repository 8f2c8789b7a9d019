package rl

import (
	"math"

	"github.com/goarpo/arpo/tasks/grade"
)

// Branching summarises a step's closed look-ahead windows: how the branch
// probability was spread, and whether the points that branched had a larger
// entropy rise than those that did not. With the reference's α = 0.5 and a
// rise that does not move P, the mean is 0.5 and the shares above 0.6 and
// below 0.4 are 0: branching at random.
type Branching struct {
	// BranchProbMean and BranchProbStd describe P clipped to [0, 1], the
	// probability the stochastic rule draws against.
	BranchProbMean float64 `json:"branch_prob_mean"`
	BranchProbStd  float64 `json:"branch_prob_std"`
	BranchProbHigh float64 `json:"branch_prob_above_0.6"` // share of points
	BranchProbLow  float64 `json:"branch_prob_below_0.4"` // share of points
	// DeltaHStd is the spread of this step's rises.
	DeltaHStd float64 `json:"delta_h_std"`
	// DeltaHBranched and DeltaHUnbranched are the mean rises of the points
	// where the rule chose to branch and where it did not.
	DeltaHBranched   float64 `json:"delta_h_branched"`
	DeltaHUnbranched float64 `json:"delta_h_unbranched"`
	PointsBranched   int     `json:"branch_points_branched"`
	// BudgetRefused counts points that chose to branch when the prompt's M
	// was already spent, so no branch started.
	BudgetRefused int `json:"branch_budget_refused"`
	// CalibMean and CalibStd are the standardisation the step used on
	// ScaleCalibrated (earlier steps' rises); 0 on the reference scale.
	CalibMean float64 `json:"branch_calib_mean"`
	CalibStd  float64 `json:"branch_calib_std"`
}

func branchingStats(points []BranchPoint, cfg RolloutConfig) Branching {
	var b Branching
	if cfg.Scale == ScaleCalibrated {
		b.CalibMean, b.CalibStd = cfg.DeltaHMean, cfg.DeltaHStd
	}
	if len(points) == 0 {
		return b
	}
	probs := make([]float64, len(points))
	rises := make([]float64, len(points))
	var br, un []float64
	for i, p := range points {
		q := min(max(p.Prob, 0), 1)
		probs[i], rises[i] = q, p.DeltaH
		if q > 0.6 {
			b.BranchProbHigh++
		}
		if q < 0.4 {
			b.BranchProbLow++
		}
		if p.Branched {
			br = append(br, p.DeltaH)
			if p.Children == 0 {
				b.BudgetRefused++
			}
		} else {
			un = append(un, p.DeltaH)
		}
	}
	n := float64(len(points))
	b.BranchProbHigh /= n
	b.BranchProbLow /= n
	b.BranchProbMean, b.BranchProbStd = mean64(probs), std64(probs)
	b.DeltaHStd = std64(rises)
	b.DeltaHBranched, b.DeltaHUnbranched = mean64(br), mean64(un)
	b.PointsBranched = len(br)
	return b
}

// GroupDiagnostics measure what a step's rollout groups (a prompt's M
// trajectories) give the policy gradient. A group learns only when its
// rewards differ; ARPO's claim is that branching where the policy is
// uncertain finds such groups, and right answers, that independent samples
// miss. "Correct" is full task credit (score 1) in a well-formed trajectory.
type GroupDiagnostics struct {
	GroupsRolled int `json:"groups_rolled"` // every group rolled out, refills included
	// GroupsWithSignal is the share of groups with at least one correct and
	// one incorrect trajectory; GroupsUnequal the share whose rewards are not
	// all equal (a non-zero advantage somewhere).
	GroupsWithSignal float64 `json:"groups_with_signal"`
	GroupsUnequal    float64 `json:"groups_unequal_reward"`
	// PassAtM is the share of groups with at least one correct trajectory.
	PassAtM float64 `json:"pass_at_m"`
	// DistinctAnswers is the mean number of distinct normalised answers of
	// a group's well-formed trajectories.
	DistinctAnswers float64 `json:"distinct_answers"`
	// Branched trajectories by outcome and the mean entropy rise at the point
	// each branched from: do the right ones come from uncertain points?
	BranchedCorrect        int     `json:"branched_correct"`
	BranchedWrong          int     `json:"branched_wrong"`
	DeltaHBranchedCorrect  float64 `json:"delta_h_branched_correct"`
	DeltaHBranchedWrong    float64 `json:"delta_h_branched_wrong"`
	CorrectFromBranchShare float64 `json:"correct_from_branch_share"` // of correct trajectories
}

func correct(s Scored) bool { return s.Reward.Format.Valid() && s.Reward.Score >= 1 }

// groupDiagnostics groups the scored trajectories by their tree (one per
// prompt and rollout round) in first-seen order.
func groupDiagnostics(all []Scored) GroupDiagnostics {
	var order []*Tree
	groups := map[*Tree][]Scored{}
	for _, s := range all {
		if _, ok := groups[s.Tree]; !ok {
			order = append(order, s.Tree)
		}
		groups[s.Tree] = append(groups[s.Tree], s)
	}
	var d GroupDiagnostics
	d.GroupsRolled = len(order)
	if len(order) == 0 {
		return d
	}
	var riseOK, riseBad []float64
	var nCorrect, nCorrectBranched int
	for _, tree := range order {
		g := groups[tree]
		var right, wrong int
		answers := map[string]bool{}
		for _, s := range g {
			if correct(s) {
				right++
			} else {
				wrong++
			}
			if s.Reward.Format.Valid() {
				answers[grade.Normalize(s.Reward.Format.Answer)] = true
			}
			if !s.Branched || tree == nil {
				continue
			}
			pt := branchOrigin(tree, s.Start)
			if pt == nil {
				continue
			}
			if correct(s) {
				riseOK = append(riseOK, pt.DeltaH)
			} else {
				riseBad = append(riseBad, pt.DeltaH)
			}
		}
		nCorrect += right
		for _, s := range g {
			if correct(s) && s.Branched {
				nCorrectBranched++
			}
		}
		if right > 0 && wrong > 0 {
			d.GroupsWithSignal++
		}
		if right > 0 {
			d.PassAtM++
		}
		if !allEqual(g) {
			d.GroupsUnequal++
		}
		d.DistinctAnswers += float64(len(answers))
	}
	n := float64(len(order))
	d.GroupsWithSignal /= n
	d.GroupsUnequal /= n
	d.PassAtM /= n
	d.DistinctAnswers /= n
	d.BranchedCorrect, d.BranchedWrong = len(riseOK), len(riseBad)
	d.DeltaHBranchedCorrect, d.DeltaHBranchedWrong = mean64(riseOK), mean64(riseBad)
	if nCorrect > 0 {
		d.CorrectFromBranchShare = float64(nCorrectBranched) / float64(nCorrect)
	}
	return d
}

// branchOrigin is the branch point a branched trajectory started from: the
// look-ahead record of the parent of its first own node.
func branchOrigin(t *Tree, start int) *BranchPoint {
	if start <= 0 || start >= len(t.Nodes) {
		return nil
	}
	p := t.Nodes[start].Parent
	if p < 0 {
		return nil
	}
	return t.Nodes[p].Branch
}

func mean64(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// std64 is the sample standard deviation; 0 for fewer than two values.
func std64(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	m := mean64(xs)
	var v float64
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return math.Sqrt(v / float64(len(xs)-1))
}
