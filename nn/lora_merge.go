package nn

import (
	"fmt"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
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
// it after each optimizer step keeps dst fresh. Either model may be a bf16
// base: a merged weight is then computed in float32 from the widened base
// weight (W + Scale*B*A, the float32 GEMM MergeWeight runs) and rounded to
// bf16 once, round_bf16(W + Scale*B*A), the bits an engine's bf16 copy of
// the float32 merge holds.
func (m *Model) MergeInto(dst *Model) error {
	if string(dst.Cfg.HFJSON()) != string(m.Cfg.HFJSON()) || dst.NumParams() != m.NumParams() {
		return fmt.Errorf("lora: merge into a model of another config")
	}
	if dst.LoRA != nil {
		return fmt.Errorf("lora: merge into a model with adapters")
	}
	for _, x := range []*Model{m, dst} {
		if err := x.refusePacked("lora merge"); err != nil {
			return err
		}
	}
	if !m.BF16Base() && !dst.BF16Base() {
		tensor.Copy(dst.W, m.W)
		m.loraWeights(func(w *tensor.Tensor, name string, ad *Adapter) {
			MergeWeight(dst.Param(name).W, w, ad)
		})
		dst.WeightsChanged() // an engine's bf16 copy of dst re-rounds
		return nil
	}
	ads := m.adapters()
	var mg merger
	defer mg.free()
	for i, p := range m.Params {
		if err := mg.merge(dst, dst.Params[i].W, m, p.W, ads[p.Name]); err != nil {
			return fmt.Errorf("lora: merge %s: %w", p.Name, err)
		}
	}
	dst.WeightsChanged()
	return nil
}

// adapters maps each targeted weight's name to its adapter.
func (m *Model) adapters() map[string]*Adapter {
	ads := map[string]*Adapter{}
	m.loraWeights(func(_ *tensor.Tensor, name string, ad *Adapter) { ads[name] = ad })
	return ads
}

// merger writes weights between models of any storage: its float32
// scratch on the backend holds a merge on its way to bf16, its host
// scratch a bf16 weight on its way through the host (backend.BF16 has no
// bf16 copy and no widening).
type merger struct {
	f32  *tensor.Tensor
	host []uint16
	wide []float32
}

// merge sets dw (a weight of dst) to sw (the same weight of src) plus
// ad's product when ad is not nil. dw may be sw. An error is the device's
// (reading a bf16 weight back).
func (mg *merger) merge(dst *Model, dw *tensor.Tensor, src *Model, sw *tensor.Tensor, ad *Adapter) error {
	dst16, src16 := dst.StoredBF16(dw), src.StoredBF16(sw)
	switch {
	case ad == nil && dw.View() == sw.View(): // the same storage (shared)
	case ad == nil && dst16 && src16:
		h := mg.hostBuf(sw.Len())
		if err := src.bf16().ReadBF16(h, sw.View()); err != nil {
			return err
		}
		dst.bf16().WriteBF16(dw.View(), h)
	case ad == nil && dst16:
		dst.bf16().ToBF16(dw.View(), sw.View(), sw.Len())
	case ad == nil:
		return src.widen(dw, sw, mg)
	case !dst16:
		if err := src.widen(dw, sw, mg); err != nil {
			return err
		}
		tensor.MatMul(dw, ad.B, ad.A, false, false, ad.Scale, 1)
	default:
		t := mg.scratch(dst.B, sw.Shape())
		if err := src.widen(t, sw, mg); err != nil {
			return err
		}
		tensor.MatMul(t, ad.B, ad.A, false, false, ad.Scale, 1)
		dst.bf16().ToBF16(dw.View(), t.View(), t.Len())
	}
	return nil
}

// widen writes m's weight w into the float32 tensor dst (of m's backend),
// widened exactly when w is stored as bf16; nothing when dst is w.
func (m *Model) widen(dst, w *tensor.Tensor, mg *merger) error {
	switch {
	case dst == w:
	case !m.StoredBF16(w):
		tensor.Copy(dst, w)
	default:
		h := mg.hostBuf(w.Len())
		if err := m.bf16().ReadBF16(h, w.View()); err != nil {
			return err
		}
		if cap(mg.wide) < len(h) {
			mg.wide = make([]float32, len(h))
		}
		f := mg.wide[:len(h)]
		asm.BF16ToF32(f, h)
		dst.Set(f)
	}
	return nil
}

func (mg *merger) hostBuf(n int) []uint16 {
	if cap(mg.host) < n {
		mg.host = make([]uint16, n)
	}
	return mg.host[:n]
}

// scratch returns a float32 tensor of the given shape (F32 precision).
func (mg *merger) scratch(b backend.Backend, shape []int) *tensor.Tensor {
	n := prod(shape)
	if mg.f32 == nil || mg.f32.Len() < n {
		mg.free()
		mg.f32 = tensor.New(b, n)
	}
	return tensor.On(b, mg.f32.Buffer(), 0, shape...)
}

func (mg *merger) free() {
	if mg.f32 != nil {
		mg.f32.Free()
		mg.f32 = nil
	}
}

// MergedCopy returns a new model, without gradient storage, holding the
// weights m computes with (see MergeInto), stored as m's are: a bf16 base
// gives a bf16 base, round_bf16(W + Scale*B*A) for each targeted weight,
// which with adapters attached shares m's float32 weights (embeddings,
// norms, biases: frozen, never targeted), so that it adds 2 bytes a
// linear weight and nothing else; it must then not outlive m nor have its
// float32 weights written. It is for generation, the rollout engine and
// export; the caller frees it.
func (m *Model) MergedCopy() (*Model, error) { return m.mergedCopy(m.BF16Base()) }

// MergedCopyF32 is MergedCopy into a float32 model, whatever m's storage:
// for a rollout engine that decodes in float32 (the merge unrounded).
func (m *Model) MergedCopyF32() (*Model, error) { return m.mergedCopy(false) }

func (m *Model) mergedCopy(bf16Base bool) (*Model, error) {
	var dst *Model
	var err error
	switch {
	case bf16Base && m.BF16Base() && m.LoRA != nil:
		// The float32 weights (embeddings, norms, biases, an untied LM
		// head) are frozen and never targeted: share them.
		dst, err = newModelOn(m.Cfg, m.B, m.bf16(), m.W, nil)
	case bf16Base:
		dst, err = NewBF16Base(m.Cfg, m.B)
	default:
		dst, err = New(m.Cfg, m.B)
	}
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
// export. Its base stays frozen (no gradient storage). A bf16 base's
// merged weights are rounded to bf16 (see MergeInto). An error is the
// device's; the adapters are detached all the same.
func (m *Model) MergeLoRA() error {
	if m.LoRA == nil {
		return nil
	}
	var mg merger
	defer mg.free()
	var err error
	m.loraWeights(func(w *tensor.Tensor, name string, ad *Adapter) {
		switch {
		case err != nil:
		case m.StoredBF16(w):
			if e := mg.merge(m, w, m, w, ad); e != nil {
				err = fmt.Errorf("lora: merge %s: %w", name, e)
			}
		default:
			MergeWeight(w, w, ad)
		}
	})
	m.WeightsChanged()
	m.DetachLoRA()
	return err
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
