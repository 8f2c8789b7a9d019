package nn

import "fmt"

// Batch is one packed micro-batch for supervised training.
type Batch struct {
	// Tokens is (T), the sequences one after another.
	Tokens []int32
	// Lens are the sequence lengths, e.g. [120, 87]; they sum to T.
	Lens []int
	// Mask is (T): Mask[r] weights the prediction of token r+1 from row r
	// (1 for completion tokens, 0 for prompt and tool-result tokens); nil
	// means every prediction counts. The last row of a sequence never counts.
	Mask []float32
}

// lossMask returns the batch's targets and effective mask.
func (bt Batch) lossMask(p *Pass) ([]int32, []float32, error) {
	targets := p.NextTokenTargets()
	mask := make([]float32, p.T)
	if bt.Mask != nil && len(bt.Mask) != p.T {
		return nil, nil, fmt.Errorf("nn: batch mask has %d values for %d tokens", len(bt.Mask), p.T)
	}
	for r := range mask {
		switch {
		case targets[r] < 0:
		case bt.Mask == nil:
			mask[r] = 1
		default:
			mask[r] = bt.Mask[r]
		}
	}
	return targets, mask, nil
}

// TrainStep runs one optimizer step of supervised fine-tuning over the
// micro-batches (gradient accumulation): the loss is the token mean of the
// masked cross-entropy over all of them. It returns that loss.
func TrainStep(m *Model, opt *AdamW, micro []Batch) (float32, StepInfo, error) {
	// The denominator counts loss tokens over every micro-batch, so the
	// accumulated gradient equals the gradient of one big batch.
	var denom float32
	for _, bt := range micro {
		n := 0
		for i, l := range bt.Lens {
			if l <= 0 {
				return 0, StepInfo{}, fmt.Errorf("nn: sequence %d has length %d", i, l)
			}
			n += l
		}
		if n != len(bt.Tokens) || (bt.Mask != nil && len(bt.Mask) != n) {
			return 0, StepInfo{}, fmt.Errorf("nn: batch of %d tokens, %d mask values, lengths summing to %d", len(bt.Tokens), len(bt.Mask), n)
		}
		pos := 0
		for _, l := range bt.Lens {
			for r := pos; r < pos+l-1; r++ {
				if bt.Mask == nil {
					denom++
				} else {
					denom += bt.Mask[r]
				}
			}
			pos += l
		}
	}
	if denom <= 0 {
		return 0, StepInfo{}, fmt.Errorf("nn: no loss token in the batch")
	}
	m.ZeroGrad()
	var loss float32
	for _, bt := range micro {
		p, err := m.Forward(bt.Tokens, Pack(bt.Lens...))
		if err != nil {
			return 0, StepInfo{}, err
		}
		targets, mask, err := bt.lossMask(p)
		if err == nil {
			var l float32
			l, err = p.CrossEntropy(targets, mask, denom)
			loss += l
		}
		p.Free()
		if err != nil {
			return 0, StepInfo{}, err
		}
	}
	info, err := opt.Update(m)
	return loss, info, err
}
