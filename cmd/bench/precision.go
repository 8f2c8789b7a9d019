package main

import (
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/nn"
)

// addPrecisionFlag registers --precision: the GEMM precision of the model
// (train: nn.Model.SetPrecision) or of the engine's weights (decode:
// engine.SetPrecision).
func addPrecisionFlag(fs *pflag.FlagSet, what string) *string {
	return fs.String("precision", "f32", what+": f32, or bf16 (bf16 GEMM operands, f32 sums; cpu and vulkan)")
}

// parsePrecision reads --precision.
func parsePrecision(s string) (nn.Precision, error) {
	p, err := nn.ParsePrecision(s)
	if err != nil {
		return p, badInput("--precision: %v", err)
	}
	return p, nil
}

// peakGF measures a register-only ceiling loop (asm.F32Peak, asm.BF16Peak)
// in GFLOP/s on threads threads at once: the best of many short
// repetitions over 200 ms, as the GEMM lines are measured, so that both see
// the same luck on a shared machine. It is 0 where the CPU lacks the loop's
// instructions.
func peakGF(threads int, run func(n int) bool, flopsPerIter int) float64 {
	const iters = 256
	if !run(1) {
		return 0
	}
	best := time.Duration(1 << 62)
	for t0 := time.Now(); time.Since(t0) < 200*time.Millisecond; {
		t1 := time.Now()
		var wg sync.WaitGroup
		for range threads - 1 {
			wg.Go(func() { run(iters) })
		}
		run(iters)
		wg.Wait()
		best = min(best, time.Since(t1))
	}
	return float64(threads) * iters * float64(flopsPerIter) / best.Seconds() / 1e9
}

// f32PeakGF is the float32 FMA ceiling (24 independent 512-bit
// VFMADD231PS per iteration on each thread) in GFLOP/s.
func f32PeakGF(threads int) float64 { return peakGF(threads, asm.F32Peak, asm.F32PeakFlops) }

// modelFlopsPerStep is the arithmetic of one training step (forward and
// backward) of batch sequences of seqLen tokens, in the usual convention:
// 6 flops per token per parameter of a matrix product (every linear
// weight and the LM head; embeddings and norms take none), plus causal
// attention's QK^T and AV (2 * S^2/2 * H*D each per layer and sequence in
// the forward, twice that in the backward).
func modelFlopsPerStep(c nn.Config, batch, seqLen int) float64 {
	C, HD, KVD, F := c.HiddenSize, c.NumHeads*c.HeadDim, c.NumKVHeads*c.HeadDim, c.IntermediateSize
	perLayer := C*HD + 2*C*KVD + HD*C + 3*C*F
	n := float64(c.NumLayers*perLayer + c.VocabSize*C)
	T := float64(batch * seqLen)
	attn := 6 * float64(c.NumLayers) * float64(seqLen) * float64(seqLen) * float64(HD) * float64(batch)
	return 6*n*T + attn
}
