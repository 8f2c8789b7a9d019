package nn

import (
	"fmt"

	"github.com/goarpo/arpo/tensor"
)

// MergeWeight sets dst = w + Scale*B*A, the weight a linear with adapter ad
// acts as: a pure function of its inputs (dst may be w, nothing else is
// touched), so a rollout copy in any precision can be built from its result.
func MergeWeight(dst, w *tensor.Tensor, ad *Adapter) {
	if dst != w {
		tensor.Copy(dst, w)
	}
	tensor.MatMul(dst, ad.B, ad.A, false, false, ad.Scale, 1)
}

// loraWeights pairs each targeted base weight of m with its adapter.
func (m *Model) loraWeights(f func(w *tensor.Tensor, name string, ad *Adapter)) {
	for i := range m.Layers {
		l := &m.Layers[i]
		if l.LoRA == nil {
			continue
		}
		ws := [numLoRATargets]*tensor.Tensor{l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down}
		for t, ad := range l.LoRA.Adapters {
			if ad != nil {
				f(ws[t], fmt.Sprintf("model.layers.%d.%s.weight", i, hfModule[t]), ad)
			}
		}
	}
}

// MergeInto writes into dst, a model of the same config (e.g. the rollout
// engine's copy), the weights m computes with: the base's, each targeted
// one merged with its adapter. Without LoRA it copies the weights. Calling
// it after each optimizer step keeps dst fresh.
func (m *Model) MergeInto(dst *Model) error {
	if string(dst.Cfg.HFJSON()) != string(m.Cfg.HFJSON()) || dst.W.Len() != m.W.Len() {
		return fmt.Errorf("lora: merge into a model of another config")
	}
	if dst.LoRA != nil {
		return fmt.Errorf("lora: merge into a model with adapters")
	}
	tensor.Copy(dst.W, m.W)
	m.loraWeights(func(w *tensor.Tensor, name string, ad *Adapter) {
		MergeWeight(dst.Param(name).W, w, ad)
	})
	dst.WeightsChanged() // an engine's bf16 copy of dst re-rounds
	return nil
}

// MergedCopy returns a new model, without gradient storage, holding the
// weights m computes with (see MergeInto): for generation, the rollout
// engine and export. The caller frees it.
func (m *Model) MergedCopy() (*Model, error) {
	dst, err := New(m.Cfg, m.B)
	if err != nil {
		return nil, err
	}
	dst.freezeBase()
	if err := m.MergeInto(dst); err != nil {
		dst.Free()
		return nil, err
	}
	return dst, nil
}

// MergeLoRA folds the adapters into the base weights in place and detaches
// them: the model then computes as before without adapters, e.g. for
// export. Its base stays frozen (no gradient storage).
func (m *Model) MergeLoRA() {
	if m.LoRA == nil {
		return
	}
	m.loraWeights(func(w *tensor.Tensor, _ string, ad *Adapter) { MergeWeight(w, w, ad) })
	m.WeightsChanged()
	m.DetachLoRA()
}

// DetachLoRA drops the adapters without merging them; the base stays
// frozen (no gradient storage).
func (m *Model) DetachLoRA() {
	if m.LoRA == nil {
		return
	}
	for i := range m.Layers {
		m.Layers[i].LoRA = nil
	}
	m.LoRA.free()
	m.LoRA = nil
}
