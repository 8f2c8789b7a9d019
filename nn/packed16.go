package nn

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/tensor"
)

// A packed bf16 base is a bf16 base (NewBF16Base) for the rollout engine
// alone: each linear weight (q, k, v, o, gate, up, down) is held in the
// backend's packed bf16 layout (backend.PackedBF16), its own buffer, with
// no plain copy. The engine multiplies by it with GemmBF16Packed, the bits
// GemmBF16 computes with the unpacked weight, so a packed base generates
// exactly what a bf16 base does, at the packed copy's decode speed and in
// a bf16 base's memory. Nothing but the engine can read a packed weight:
// the training forward (Forward), LoRA (AttachLoRA, merges), reading the
// weights back (Weights, SaveHF, BaseHash, export) and what a bf16 base
// already refuses (F32 precision, AdamW, a checkpoint) return an error
// wrapping ErrPackedBF16Base. Writing the weights (Init, SetWeights, a
// loader) packs them.

// ErrPackedBF16Base is wrapped by the errors of what a packed bf16 base
// cannot do; it wraps ErrBF16Base.
var ErrPackedBF16Base = fmt.Errorf("%w, packed for the rollout engine (not readable as a tensor)", ErrBF16Base)

// NewPackedBF16Base allocates a packed bf16 base (see above) with zero
// weights on b. Where b has a bf16 GEMM but no packed layout (Vulkan) it
// returns a plain bf16 base (NewBF16Base), which computes the same bits.
func NewPackedBF16Base(cfg Config, b backend.Backend) (*Model, error) {
	p, ok := backend.AsPackedBF16(b)
	if !ok || !packBF16Bases {
		return NewBF16Base(cfg, b)
	}
	bf, _ := backend.AsBF16(b)
	return newModelOn(cfg, b, bf, nil, p)
}

// packBF16Bases lets tests take the fallback (a plain bf16 base).
var packBF16Bases = true

// PackedBF16Base reports whether m is a packed bf16 base
// (NewPackedBF16Base).
func (m *Model) PackedBF16Base() bool { return m.packed != nil }

// PackedWeight returns the packed buffer of t and the backend's
// PackedBF16 when t is a linear weight of a packed bf16 base; ok is false
// otherwise.
func (m *Model) PackedWeight(t *tensor.Tensor) (buf backend.Buffer, p backend.PackedBF16, ok bool) {
	if m.packed == nil || !m.packedW[t] {
		return nil, nil, false
	}
	return t.Buffer(), m.packed, true
}

// refusePacked returns an error naming what, when m is a packed bf16 base.
func (m *Model) refusePacked(what string) error {
	if m.PackedBF16Base() {
		return fmt.Errorf("nn: %s: %w; load the model without packing (or in float32) for that", what, ErrPackedBF16Base)
	}
	return nil
}

// packParam packs data (float32, rounded to bf16 as GemmBF16 rounds it)
// into the packed weight w.
func (m *Model) packParam(w *tensor.Tensor, data []float32) {
	if len(data) != w.Len() {
		panic(fmt.Sprintf("nn: packParam: %d values for shape %v", len(data), w.Shape()))
	}
	t := tensor.New(m.B, w.Len())
	defer t.Free()
	t.Set(data)
	m.packed.PackBF16(w.Buffer(), t.View(), w.Dim(1))
}
