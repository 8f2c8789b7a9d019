package rl

import (
	"fmt"
	"math"
)

// Aggregation says how per-token losses become one number.
type Aggregation string

// The aggregations of verl's policy loss.
const (
	// TokenMean averages over every loss token of the mini-batch (the
	// reference's and DAPO's choice): long answers weigh more.
	TokenMean Aggregation = "token-mean"
	// SeqMeanTokenMean averages tokens within each sequence, then sequences.
	SeqMeanTokenMean Aggregation = "seq-mean-token-mean"
	// SeqMeanTokenSum sums tokens within each sequence, then averages
	// sequences (Dr. GRPO).
	SeqMeanTokenSum Aggregation = "seq-mean-token-sum"
)

// LossConfig holds the PPO surrogate's settings.
type LossConfig struct {
	// EpsLow and EpsHigh bound the ratio to [1-EpsLow, 1+EpsHigh].
	// e.g. 0.2 and 0.2; DAPO's clip-higher uses 0.2 and 0.28.
	EpsLow, EpsHigh float32
	// DualClip caps the loss of a negative-advantage token at -DualClip*A;
	// 0 disables it. e.g. 3
	DualClip float32
	// Agg is the aggregation. e.g. TokenMean
	Agg Aggregation
	// KLCoef weighs the k3 estimate of KL(π_θ || π_ref); 0 disables. e.g. 0.001
	KLCoef float32
	// EntropyCoef weighs an entropy bonus (subtracted from the loss); 0
	// disables. e.g. 0.001
	EntropyCoef float32
}

// Validate reports unusable settings.
func (c LossConfig) Validate() error {
	switch {
	case !(c.EpsLow >= 0 && c.EpsLow < 1):
		return fmt.Errorf("clip eps-low must be in [0, 1), got %v", c.EpsLow)
	case !(c.EpsHigh >= 0):
		return fmt.Errorf("clip eps-high must be >= 0, got %v", c.EpsHigh)
	case c.DualClip != 0 && !(c.DualClip > 1):
		return fmt.Errorf("dual clip must be 0 (off) or > 1, got %v", c.DualClip)
	case !(c.KLCoef >= 0) || !(c.EntropyCoef >= 0):
		return fmt.Errorf("KL and entropy coefficients must be >= 0, got %v and %v", c.KLCoef, c.EntropyCoef)
	}
	switch c.Agg {
	case TokenMean, SeqMeanTokenMean, SeqMeanTokenSum:
	default:
		return fmt.Errorf("unknown loss aggregation %q (want %s, %s or %s)", c.Agg, TokenMean, SeqMeanTokenMean, SeqMeanTokenSum)
	}
	return nil
}

// PolicyTokens is a micro-batch of N tokens flattened sequence after
// sequence. Every slice is (N) except where noted.
type PolicyTokens struct {
	LogProb    []float32 // log π_θ(token), from the current forward
	OldLogProb []float32 // log π_old(token), recorded at rollout time
	RefLogProb []float32 // log π_ref(token); nil when KLCoef is 0
	Entropy    []float32 // entropy of π_θ at the token; nil when EntropyCoef is 0
	Adv        []float32 // the token's advantage
	Mask       []float32 // 1 for tokens the policy wrote, 0 for prompt and tool results
	SeqID      []int32   // which sequence of the mini-batch the token belongs to
}

// Normaliser holds the counts of the whole mini-batch that the loss is
// averaged over, so that accumulating micro-batches gives the same gradient
// as one big batch.
type Normaliser struct {
	Tokens int // loss tokens (sum of Mask) in the mini-batch
	Seqs   int // sequences with at least one loss token in the mini-batch
}

// LossStats are sums over the micro-batch's loss tokens; divide by Tokens to
// report means.
type LossStats struct {
	Tokens      int
	Clipped     int     // tokens whose gradient the clip removed
	DualClipped int     // negative-advantage tokens capped by the dual clip
	RatioSum    float64 // sum of π_θ/π_old
	KLSum       float64 // sum of the k3 estimates (when RefLogProb is set)
	ApproxKL    float64 // sum of (old - new) log-probs: KL(π_old || π_θ) estimate
	EntropySum  float64
}

// PolicyLoss returns the micro-batch's share of the PPO clipped surrogate
//
//	loss = Σ_t w_t · ( -min(r_t A_t, clip(r_t, 1-εl, 1+εh) A_t)  [dual-clipped]
//	                 + β_KL · k3_t - β_H · H_t )
//
// with r_t = exp(logp_t - old_t), weights w_t from the aggregation and the
// mini-batch counts in norm, and its gradient with respect to each token's
// log-probability (dLogProb, N) and entropy (dEntropy, N; nil when the
// entropy bonus is off). The gradient with respect to the logits follows
// from these through the backend's LogProbsBackward.
func PolicyLoss(cfg LossConfig, in PolicyTokens, norm Normaliser) (loss float64, dLogProb, dEntropy []float32, st LossStats) {
	n := len(in.LogProb)
	if len(in.OldLogProb) != n || len(in.Adv) != n || len(in.Mask) != n || len(in.SeqID) != n {
		panic("rl: PolicyLoss inputs differ in length")
	}
	if cfg.KLCoef > 0 && len(in.RefLogProb) != n {
		panic("rl: KL coefficient set without reference log-probs")
	}
	if cfg.EntropyCoef > 0 && len(in.Entropy) != n {
		panic("rl: entropy coefficient set without entropies")
	}
	w := tokenWeights(cfg.Agg, in.Mask, in.SeqID, norm)
	dLogProb = make([]float32, n)
	if cfg.EntropyCoef > 0 {
		dEntropy = make([]float32, n)
	}
	lo, hi := 1-float64(cfg.EpsLow), 1+float64(cfg.EpsHigh)
	for t := 0; t < n; t++ {
		if w[t] == 0 {
			continue
		}
		st.Tokens++
		lp, a := float64(in.LogProb[t]), float64(in.Adv[t])
		logRatio := lp - float64(in.OldLogProb[t])
		r := math.Exp(logRatio)
		st.RatioSum += r
		st.ApproxKL -= logRatio

		// The surrogate and d(surrogate)/d(logp): only the unclipped branch
		// depends on logp, with derivative -r*A.
		unclipped := -r * a
		clipped := -math.Min(math.Max(r, lo), hi) * a
		pg, grad := unclipped, -r*a
		if clipped > unclipped {
			pg, grad = clipped, 0
			st.Clipped++
		}
		if cfg.DualClip > 0 && a < 0 {
			if limit := -float64(cfg.DualClip) * a; pg > limit {
				pg, grad = limit, 0
				st.DualClipped++
			}
		}
		total := pg
		if cfg.KLCoef > 0 {
			d := float64(in.RefLogProb[t]) - lp
			k3 := math.Exp(d) - d - 1
			st.KLSum += k3
			total += float64(cfg.KLCoef) * k3
			grad += float64(cfg.KLCoef) * (1 - math.Exp(d))
		}
		if cfg.EntropyCoef > 0 {
			h := float64(in.Entropy[t])
			st.EntropySum += h
			total -= float64(cfg.EntropyCoef) * h
			dEntropy[t] = float32(-float64(cfg.EntropyCoef) * w[t])
		}
		loss += w[t] * total
		dLogProb[t] = float32(w[t] * grad)
	}
	return loss, dLogProb, dEntropy, st
}

// tokenWeights returns each token's weight in the aggregated loss (N).
func tokenWeights(agg Aggregation, mask []float32, seq []int32, norm Normaliser) []float64 {
	w := make([]float64, len(mask))
	switch agg {
	case TokenMean:
		if norm.Tokens <= 0 {
			return w
		}
		for t, m := range mask {
			w[t] = float64(m) / float64(norm.Tokens)
		}
	case SeqMeanTokenMean, SeqMeanTokenSum:
		if norm.Seqs <= 0 {
			return w
		}
		perSeq := map[int32]float64{}
		for t, m := range mask {
			perSeq[seq[t]] += float64(m)
		}
		for t, m := range mask {
			if m == 0 {
				continue
			}
			d := float64(norm.Seqs)
			if agg == SeqMeanTokenMean {
				d *= perSeq[seq[t]]
			}
			w[t] = float64(m) / d
		}
	default:
		panic("rl: unknown aggregation " + string(agg))
	}
	return w
}
