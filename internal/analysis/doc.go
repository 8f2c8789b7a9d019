// Package analysis measures how the policy's token entropy depends on the
// position relative to tool results, the observation ARPO is built on
// (the paper's figure 1): rollout trajectories are split into buckets (the
// k tokens before a tool result, which end the call; the first k tokens
// after it; later tokens; tokens before any tool call), per tool, and each
// bucket's mean normalised entropy gets a seeded bootstrap 95% confidence
// interval that resamples whole trajectories, since tokens of one
// trajectory are not independent.
//
// It reads rollout trees (rl.Tree) and draws its own table and plot; it is
// not a training metric (cmd/train logs its own entropy profile) and it
// runs no model itself except through Collect, which drives an rl.Roller.
package analysis
