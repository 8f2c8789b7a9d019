package rl

import (
	"fmt"
	"math"
)

// ARPO's branching rule (../shared/docs/arpo.md, "Rollout"): after a tool
// result the policy writes K look-ahead tokens; the step entropy H_t of those
// tokens against the trajectory's initial entropy H_init gives the entropy
// rise ΔH = H_t - H_init, the rise gives a branch probability P, and the rule
// turns P into a decision. Everything here is a pure function so that the
// rule can be read, tested and changed in one place; the rollout loop
// (loop.go) only measures the entropies and acts on the decision.

// BranchScale says how the entropy rise enters the branch probability.
type BranchScale string

// The branch scales.
const (
	// ScaleReference is the reference's P = α + β·ΔH, with ΔH on the
	// reference's scale: step entropies are sums over K tokens of the
	// token entropy divided by ln V.
	ScaleReference BranchScale = "reference"
	// ScaleCalibrated standardises the rise with the mean and standard
	// deviation of the rises of earlier steps: P = α + β·(ΔH − μ)/σ. With
	// β = 0.25 the branch probability then spreads by about ±0.25 around α
	// whatever the model's entropy scale, so that "does branching where the
	// entropy rises help?" can be asked of a small model whose ΔH is tiny.
	// Until earlier steps have given a spread (σ = 0), P = α.
	ScaleCalibrated BranchScale = "calibrated"
)

// ParseBranchScale checks a scale name from a flag or a file; "" is the
// reference scale.
func ParseBranchScale(s string) (BranchScale, error) {
	switch BranchScale(s) {
	case "", ScaleReference:
		return ScaleReference, nil
	case ScaleCalibrated:
		return ScaleCalibrated, nil
	}
	return "", fmt.Errorf("unknown branch scale %q (want %s or %s)", s, ScaleReference, ScaleCalibrated)
}

// StepEntropy is the entropy of a step from the normalised entropies
// (entropy / ln V) of its first k generated tokens: their sum, as the
// reference computes it. A step that ends before k tokens sums the tokens it
// has. The sum, not the mean, is the scale that α = 0.5 and β = 0.2 were
// tuned on: a mean would make β·ΔH about 1/k of what the reference sees.
func StepEntropy(normalised []float64) float64 {
	var s float64
	for _, h := range normalised {
		s += h
	}
	return s
}

// BranchInputs is what the rule needs at one branching point.
type BranchInputs struct {
	DeltaH float64 // ΔH = H_t − H_init
	Alpha  float64
	Beta   float64
	Scale  BranchScale
	// Mean and Std standardise ΔH on ScaleCalibrated (earlier steps' rises).
	Mean, Std float64
}

// BranchProbability is P of the spec, before any clipping: α + β·ΔH on the
// reference scale, α + β·(ΔH − μ)/σ on the calibrated one (α while σ is 0).
func BranchProbability(in BranchInputs) float64 {
	if in.Scale == ScaleCalibrated {
		if !(in.Std > 0) {
			return in.Alpha
		}
		return in.Alpha + in.Beta*(in.DeltaH-in.Mean)/in.Std
	}
	return in.Alpha + in.Beta*in.DeltaH
}

// ShouldBranch turns a branch probability into a decision. BranchThreshold
// (the paper) branches when p > tau; BranchStochastic (the reference, our
// default) branches with probability clip(p, 0, 1), u being a uniform draw
// in [0, 1) from the prompt's decision generator.
func ShouldBranch(rule BranchRule, p, tau float64, u float32) bool {
	if rule == BranchThreshold {
		return p > tau
	}
	return float64(u) < min(max(p, 0), 1)
}

// BranchPoint records one closed look-ahead window: the entropy rise after a
// tool result, the probability it gave and what happened. It is kept on the
// tree node that ends with the result (Node.Branch).
type BranchPoint struct {
	DeltaH float64 `json:"delta_h"`
	Prob   float64 `json:"prob"` // P before clipping
	// Branched says the rule chose to branch; Children is how many branches
	// the prompt's budget M then allowed (0 when it was spent).
	Branched bool `json:"branched"`
	Children int  `json:"children"`
}

// DeltaHStats is a running estimate of the mean and standard deviation of
// the entropy rises seen in earlier steps: the standardisation of
// ScaleCalibrated. It is an exponential moving average over steps so that
// the scale follows the policy as it trains; it is part of a run's state
// (saved and restored with the checkpoint) so that a resumed run branches as
// the uninterrupted one does.
type DeltaHStats struct {
	Mean  float64 `json:"mean"`
	Var   float64 `json:"var"`
	Steps int     `json:"steps"` // steps folded in so far
}

// deltaHDecay weighs the newest step in DeltaHStats: about the last ten
// steps count.
const deltaHDecay = 0.1

// Std is the estimated standard deviation; 0 before any step with two or
// more rises.
func (s DeltaHStats) Std() float64 { return math.Sqrt(max(s.Var, 0)) }

// Update folds one step's rises in: the first step sets the estimate, later
// ones move it by deltaHDecay. A step with fewer than two rises changes
// nothing (it has no spread to learn from).
func (s DeltaHStats) Update(rises []float64) DeltaHStats {
	if len(rises) < 2 {
		return s
	}
	var m float64
	for _, d := range rises {
		m += d
	}
	m /= float64(len(rises))
	var v float64
	for _, d := range rises {
		v += (d - m) * (d - m)
	}
	v /= float64(len(rises) - 1)
	if s.Steps == 0 {
		return DeltaHStats{Mean: m, Var: v, Steps: 1}
	}
	return DeltaHStats{
		Mean:  (1-deltaHDecay)*s.Mean + deltaHDecay*m,
		Var:   (1-deltaHDecay)*s.Var + deltaHDecay*v,
		Steps: s.Steps + 1,
	}
}
