package run

import (
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/load"
)

// A LoRA run in bf16 (--precision bf16 with --lora-rank) keeps its frozen
// base as a bf16 base (nn.NewBF16Base: 2 bytes a linear weight, no float32
// copy) when --model is a Hugging Face folder whose linear weights are
// stored as BF16 (load.LosslessBF16), as the released Qwen and Llama
// checkpoints are. It computes the bits a float32 base in BF16 precision
// computes, and hashes the same (nn.Model.BaseHash), so runs started before
// this resume unchanged. Its rollout model is a bf16 merged copy,
// round_bf16(W + scale*B*A), under --rollout-precision bf16, and the
// float32 merge otherwise, as before. A base stored as F32 or F16 stays
// float32 (rounding it would make it another base); so does every run
// without LoRA or in f32, whose base is trained or read in float32.

// wantsBF16Base reports whether the flags ask for a bf16 base: LoRA in
// bf16 precision.
func (c Config) wantsBF16Base() bool {
	_, lora := c.lora()
	p, err := parsePrecision("precision", c.Precision)
	return lora && err == nil && p == nn.BF16
}

// bf16BaseFor reports whether the run loads model (its --model, or a LoRA
// checkpoint's base) as a bf16 base. A model that cannot be read is no
// bf16 base: loading it reports the problem, in load's words.
func (c Config) bf16BaseFor(model string) bool {
	if !c.wantsBF16Base() {
		return false
	}
	f, err := load.Resolve(model)
	if err != nil {
		return false
	}
	ok, err := load.LosslessBF16(f)
	return ok && err == nil
}
