package nn

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/tensor"
)

// A bf16 base is a model whose linear weights (q, k, v, o, gate, up, down)
// are stored as bf16 (backend.BF16 buffers) with no float32 copy and no
// gradients: a frozen base for LoRA, scoring and generation in half the
// memory of a float32 one. Embeddings, the LM head, norms and biases stay
// float32 (the fused LM head of large vocabularies has no bf16 form). Every
// product with a linear weight and the LM head runs on GemmBF16 (bf16
// products, float32 sums), as in a float32 model after SetPrecision(BF16);
// since GemmBF16 rounds a float32 operand exactly as the stored bf16 was
// rounded, a bf16 base computes the same bits as that float32 model holding
// the same weights (the widened bf16 values): loss, log-probs, LoRA
// gradients and generated tokens alike.
//
// What needs float32 base weights or base gradients is refused with an
// error (ErrBF16Base): training the base (NewAdamW without LoRA), F32
// precision, a full checkpoint. Reading the weights (Weights, BaseHash,
// export) widens them exactly.

// ErrBF16Base is wrapped by the errors of what a bf16 base cannot do.
var ErrBF16Base = errors.New("the base's linear weights are bf16 (frozen, no float32 copy)")

// NewBF16Base allocates a bf16 base (see above) with zero weights on b;
// fill it with Init or a loader (LoadHFBF16Base). It fails when b has no
// bf16 storage and GEMM (backend.BF16).
func NewBF16Base(cfg Config, b backend.Backend) (*Model, error) {
	bf, ok := backend.AsBF16(b)
	if !ok {
		return nil, fmt.Errorf("nn: bf16 base: the %s backend has no bf16 GEMM (backend.BF16)", b.Name())
	}
	return newModel(cfg, b, bf)
}

// BF16Base reports whether m is a bf16 base (NewBF16Base).
func (m *Model) BF16Base() bool { return m.W16 != nil || m.packed != nil }

// StoredBF16 reports whether t is one of m's weights stored as bf16 (a
// linear weight of a bf16 base, or a view of one).
func (m *Model) StoredBF16(t *tensor.Tensor) bool {
	return m.W16 != nil && t.Buffer() == m.W16.Buffer()
}

// IsLinearWeight reports whether a parameter name is that of a linear
// weight (q, k, v, o, gate, up, down) a bf16 base stores as bf16.
func IsLinearWeight(name string) bool {
	for _, mod := range hfModule {
		if strings.HasSuffix(name, "."+mod+".weight") {
			return true
		}
	}
	return false
}

// bf16 returns the backend's BF16 interface; only called on a bf16 base,
// whose construction checked it.
func (m *Model) bf16() backend.BF16 {
	bf, _ := backend.AsBF16(m.B)
	return bf
}

// paramData reads a parameter's weights back to the host as float32; bf16
// ones are widened exactly.
func (m *Model) paramData(w *tensor.Tensor) ([]float32, error) {
	if _, _, ok := m.PackedWeight(w); ok {
		return nil, m.refusePacked("read the weights")
	}
	if !m.StoredBF16(w) {
		return w.Data()
	}
	h := make([]uint16, w.Len())
	if err := m.bf16().ReadBF16(h, w.View()); err != nil {
		return nil, fmt.Errorf("nn: read %v: %w", w.Shape(), err)
	}
	out := make([]float32, len(h))
	asm.BF16ToF32(out, h)
	return out, nil
}

// setParam writes data into a parameter's weights; bf16 ones are rounded
// (asm.F32ToBF16, as GemmBF16 rounds a float32 operand) through scratch,
// which is grown as needed and returned for reuse.
func (m *Model) setParam(w *tensor.Tensor, data []float32, scratch []uint16) []uint16 {
	if _, _, ok := m.PackedWeight(w); ok {
		m.packParam(w, data)
		return scratch
	}
	if !m.StoredBF16(w) {
		w.Set(data)
		return scratch
	}
	if len(data) != w.Len() {
		panic(fmt.Sprintf("nn: setParam: %d values for shape %v", len(data), w.Shape()))
	}
	if cap(scratch) < len(data) {
		scratch = make([]uint16, len(data))
	}
	h := scratch[:len(data)]
	asm.F32ToBF16(h, data)
	m.bf16().WriteBF16(w.View(), h)
	return scratch
}

// refuseBF16Base returns an error naming what, when m is a bf16 base.
func (m *Model) refuseBF16Base(what string) error {
	if m.BF16Base() {
		return fmt.Errorf("nn: %s: %w; load the model in float32 for that", what, ErrBF16Base)
	}
	return nil
}
