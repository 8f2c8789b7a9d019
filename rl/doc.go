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
//
// Where ARPO's three ideas live:
//   - branch.go: the branching rule (step entropy, ΔH, branch probability,
//     the decision), as pure functions; loop.go measures and acts on it;
//   - attribution.go: soft and hard attribution of advantages over a tree;
//   - loss.go: the PPO clipped surrogate with dual clip and its gradient.
//
// rollout.go and loop.go run the rollout (tree.go holds its tree),
// advantage.go the group and batch advantages, trainer.go one RL step and
// diagnostics.go what a step's groups and branch points say.
package rl
