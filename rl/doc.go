// Package rl is the reinforcement-learning core: rollout engines
// (trajectory-level and ARPO's entropy-adaptive branching tree), advantage
// estimators (GRPO, REINFORCE++, DAPO's dynamic sampling, soft and hard
// attribution over a rollout tree), the PPO clipped policy loss with its
// closed-form gradient, and the SFT and RL trainers.
//
// The math lives in pure functions over slices with their shapes in the doc
// comment, so it can be tested against hand-computed cases and finite
// differences without a model. The package reaches tools only through a small
// interface and models through package nn.
package rl
