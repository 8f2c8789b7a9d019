package engine

// DefaultOptions are the engine settings every command uses: KV-cache
// blocks of 16 positions (a fork copies at most 15 shared positions; a
// 512-position trajectory walks 32 block-table entries) and 256 blocks to
// start with (4,096 positions, a batch of rollouts' worth; the cache doubles
// when full, so this sets only the first allocation, never a result).
//
// BatchInvariant is off here: training rollouts turn it on
// (dist.EngineOptions), because a prompt rolled out on a worker must give
// the bits it gets in the trainer's batch. Evaluation and generation run all
// their prompts in one process, in batches fixed by their flags, so they
// reproduce without it; turning it on would move their results in the last
// bits (and so, rarely, a token) against the numbers recorded so far. A
// run's own evaluations use the rollout engine, so cmd/eval on a run's
// checkpoint may differ from them by such last-bit effects.
func DefaultOptions() Options { return Options{BlockSize: 16, InitialBlocks: 256} }
