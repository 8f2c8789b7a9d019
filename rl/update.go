package rl

// Update runs the PPO update of one RL step on seqs, the second half of
// Step without the rollout (cmd/bench's rl suite times it): the epochs and
// mini-batches of tr.Cfg, micro-batches of at most Cfg.MicroTokens tokens,
// an optimizer step per mini-batch. It fills the loss fields of the metrics
// (loss, clip fraction, KL estimates, gradient norm, learning rate).
func (tr *Trainer) Update(seqs []Sequence) (StepMetrics, error) {
	var met StepMetrics
	if err := tr.Cfg.Validate(); err != nil {
		return met, err
	}
	err := tr.update(seqs, &met)
	return met, err
}
