package nn

import "fmt"

// MaskedCE is the supervised fine-tuning loss: the mean negative log-prob
// over the tokens whose mask is non-zero,
//
//	loss = -sum_r mask[r]*logp[r] / denom,
//
// and its derivative with respect to logp. logp and mask are (T). denom is
// the number of loss tokens in the whole optimizer batch, so that gradient
// accumulation over micro-batches averages over all of them; 0 means
// sum(mask) of this call. With no loss token, loss and gradient are 0.
func MaskedCE(logp, mask []float32, denom float32) (loss float32, dlogp []float32) {
	if len(logp) != len(mask) {
		panic(fmt.Sprintf("nn: MaskedCE: %d logp, %d mask", len(logp), len(mask)))
	}
	if denom == 0 {
		for _, w := range mask {
			denom += w
		}
	}
	dlogp = make([]float32, len(logp))
	if denom == 0 {
		return 0, dlogp
	}
	var sum float64
	for r, w := range mask {
		if w != 0 {
			sum -= float64(w) * float64(logp[r])
			dlogp[r] = -w / denom
		}
	}
	return float32(sum / float64(denom)), dlogp
}

// NextTokenTargets returns the training targets of a packed batch: the next
// token of the same sequence, -1 on each sequence's last row.
func (p *Pass) NextTokenTargets() []int32 {
	t := make([]int32, p.T)
	for _, s := range p.Seqs {
		for j := s.Start; j < s.Start+s.Len-1; j++ {
			t[j] = p.Tokens[j+1]
		}
		t[s.Start+s.Len-1] = -1
	}
	return t
}

// CrossEntropy is the fused SFT step on a pass: it computes MaskedCE of the
// targets' log-probs and accumulates its gradient into the model, with the
// LM head in row chunks both ways. targets and mask are (T); denom as in
// MaskedCE.
func (p *Pass) CrossEntropy(targets []int32, mask []float32, denom float32) (float32, error) {
	if len(mask) != p.T || len(targets) != p.T {
		return 0, fmt.Errorf("nn: %d targets and %d mask values for %d tokens", len(targets), len(mask), p.T)
	}
	for i, t := range targets {
		if int(t) >= p.m.Cfg.VocabSize {
			return 0, fmt.Errorf("nn: target %d at row %d is outside the vocabulary", t, i)
		}
	}
	// MaskedCE's gradient does not depend on logp, so it is known before the
	// LM head runs, and the head's forward and backward share one pass over
	// each chunk of logits.
	_, dlogp := MaskedCE(make([]float32, p.T), mask, denom)
	lp := p.temp("logp", p.T, 1)
	dh := p.headBackward(targets, lp, dlogp, nil)
	logp, err := lp.Data()
	if err != nil {
		return 0, err
	}
	loss, _ := MaskedCE(logp, mask, denom)
	p.backwardTrunk(dh)
	return loss, nil
}
