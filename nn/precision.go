package nn

import (
	"fmt"

	"github.com/goarpo/arpo/tensor"
)

// Precision is the arithmetic of a model's matrix products (tensor.Precision).
type Precision = tensor.Precision

// The precisions of SetPrecision.
const (
	F32  = tensor.F32
	BF16 = tensor.BF16
)

// SetPrecision sets the precision of the model's training and scoring
// GEMMs. F32 (the default) is float32 throughout. BF16 is mixed precision:
// every product with a linear weight (q, k, v, o, gate, up, down and the LM
// head) rounds its operands to bf16 and sums in float32: the forward
// (x W^T), the input gradient (dy W) and the weight gradient (dy^T x, into
// the float32 gradient). The weights stay float32 (the optimizer's master
// copy, updated by AdamW in float32 with float32 moments), and embeddings,
// norms, RoPE, attention, softmax, the loss and the fused LM head of large
// vocabularies (backend.FusedHead, which has no bf16 form) stay float32.
// It returns an error, changing nothing, when the backend has no bf16 GEMM,
// or for F32 on a bf16 base (NewBF16Base), which is BF16 from the start.
func (m *Model) SetPrecision(p Precision) error {
	if err := tensor.CheckPrecision(m.B, p); err != nil {
		return fmt.Errorf("nn: precision %v: %w", p, err)
	}
	if p != BF16 {
		if err := m.refuseBF16Base(fmt.Sprintf("precision %v", p)); err != nil {
			return err
		}
	}
	for _, t := range m.linearTensors() {
		if t != nil { // a frozen base (LoRA) has no gradients
			t.SetPrecision(p)
		}
	}
	return nil
}

// Precision is the model's GEMM precision (SetPrecision).
func (m *Model) Precision() Precision {
	if len(m.Layers) > 0 {
		return m.Layers[0].Q.Precision()
	}
	return m.LMHead.Precision()
}

// linearTensors returns the weights and gradients of every linear layer
// and of the LM head (the embedding when tied: the flag only changes its
// products, not the embedding lookup).
func (m *Model) linearTensors() []*tensor.Tensor {
	ts := []*tensor.Tensor{m.LMHead, m.LMHeadG}
	for i := range m.Layers {
		l := &m.Layers[i]
		ts = append(ts, l.Q, l.QG, l.K, l.KG, l.V, l.VG, l.O, l.OG, l.Gate, l.GateG, l.Up, l.UpG, l.Down, l.DownG)
	}
	return ts
}

// WeightsChanged records that the weights were written in place: AdamW's
// Update calls it; code that writes weights of a model some engine already
// decodes with (Set on a Param, a merge) must call it too, so that copies
// of the weights (nn/engine's bf16 copy) are refreshed before their next use.
func (m *Model) WeightsChanged() { m.version++ }

// WeightsVersion counts the calls of WeightsChanged: a copy of the weights
// taken at version v is current while WeightsVersion() == v.
func (m *Model) WeightsVersion() uint64 { return m.version }

// ParsePrecision reads "f32" or "bf16" (tensor.ParsePrecision).
func ParsePrecision(s string) (Precision, error) { return tensor.ParsePrecision(s) }
