// Package engine runs a model of package nn for generation: a paged KV cache
// shared copy-on-write between forked sequences, batched prefill and decode
// of many sequences of different lengths in one call, and a generation loop
// that samples with per-sequence generators, reports each token's
// log-probability and entropy, and stops at end-of-sequence, a length limit
// or a stop string.
//
// ARPO's rollouts branch a trajectory right after a tool result. Fork makes
// that cheap: the branch shares every full cache block of its parent and
// copies at most one partly filled block when it first writes, so forking a
// long prefix costs a few block-table entries instead of a recomputation.
//
// What this package is not for: training (package nn) and the turn loop
// with tools (package rl), which drive this engine step by step.
package engine
