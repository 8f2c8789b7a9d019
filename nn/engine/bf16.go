package engine

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/tensor"
)

// weights16 is the engine's bf16 copy of the model's linear weights (q, k,
// v, o, gate, up, down, the LM head): decode reads half the bytes, and the
// backend's GemmBF16 rounds the activations as it packs them. Embeddings,
// norms and biases stay the model's float32. Where the backend can keep a
// weight in its BF16 kernel's packed layout (backend.PackedBF16, the CPU)
// the copy is kept packed: a decode step's few rows then read each weight
// once as it is, instead of transposing it into pairs of k every product,
// with the same bits (GemmBF16Packed). Of a bf16 base (nn.NewBF16Base) it
// copies only the LM head: the linear weights already are bf16, and the
// engine decodes with them in place (no second copy; see gemm16), unpacked,
// or packed in a packed bf16 base (nn.NewPackedBF16Base).
type weights16 struct {
	bf      backend.BF16
	packed  backend.PackedBF16 // nil: bufs are plain bf16 buffers
	bufs    map[*tensor.Tensor]backend.Buffer
	version uint64 // the model's WeightsVersion the copy was taken at
}

// packWeights16 lets the bf16 copy be packed where the backend can
// (tests turn it off to compare with the plain copy).
var packWeights16 = true

// SetPrecision chooses the weights the engine decodes with: nn.F32 (the
// default, except for a bf16 base, which decodes in BF16 from the start
// and refuses F32) uses the model's float32 weights in place; nn.BF16 keeps a bf16
// copy of the linear weights (and the LM head), rounded to nearest even,
// and runs their products on the backend's GemmBF16 (bf16 operands,
// float32 sums), halving the weight bytes each decode step reads. The copy
// is refreshed by RefreshWeights, and by Forward whenever the model's
// WeightsVersion moved (every AdamW update). Whatever the engine's
// precision, the log-probs a loss uses are recomputed by the training
// model in its own precision. BatchInvariant holds in both: GemmBF16's rows
// do not depend on the rows computed with them. It returns an error,
// changing nothing, when the backend has no bf16 GEMM.
func (e *Engine) SetPrecision(p nn.Precision) error {
	switch p {
	case nn.F32:
		if e.m.BF16Base() {
			return fmt.Errorf("engine: f32 weights: %w", nn.ErrBF16Base)
		}
		e.freeWeights16()
		return nil
	case nn.BF16:
		bf, ok := backend.AsBF16(e.b)
		if !ok {
			return fmt.Errorf("engine: bf16 weights: the %s backend has no bf16 GEMM", e.b.Name())
		}
		if e.w16 != nil {
			return nil
		}
		w := &weights16{bf: bf, bufs: map[*tensor.Tensor]backend.Buffer{}}
		if packWeights16 {
			w.packed, _ = backend.AsPackedBF16(e.b)
		}
		for _, t := range linearWeights(e.m) {
			if _, _, packed := e.m.PackedWeight(t); w.bufs[t] != nil || e.m.StoredBF16(t) || packed {
				continue
			}
			if w.packed != nil {
				w.bufs[t] = w.packed.AllocPackedBF16(t.Dim(0), t.Dim(1))
			} else {
				w.bufs[t] = bf.AllocBF16(t.Len())
			}
		}
		e.w16 = w
		e.RefreshWeights()
		return nil
	}
	return fmt.Errorf("engine: unknown precision %v", p)
}

// Precision is the precision of the weights the engine decodes with.
func (e *Engine) Precision() nn.Precision {
	if e.w16 != nil {
		return nn.BF16
	}
	return nn.F32
}

// RefreshWeights rounds the model's current linear weights into the bf16
// copy; with float32 weights it does nothing. Call it after writing the
// model's weights in place without nn.Model.WeightsChanged.
func (e *Engine) RefreshWeights() {
	w := e.w16
	if w == nil {
		return
	}
	for t, buf := range w.bufs {
		if w.packed != nil {
			w.packed.PackBF16(buf, t.View(), t.Dim(1))
		} else {
			w.bf.ToBF16(backend.Whole(buf), t.View(), t.Len())
		}
	}
	w.version = e.m.WeightsVersion()
}

// refreshIfStale refreshes the bf16 copy when the model's weights changed
// since it was taken.
func (e *Engine) refreshIfStale() {
	if e.w16 != nil && e.w16.version != e.m.WeightsVersion() {
		e.RefreshWeights()
	}
}

func (e *Engine) freeWeights16() {
	if e.w16 == nil {
		return
	}
	for _, buf := range e.w16.bufs {
		e.b.Free(buf)
	}
	e.w16 = nil
}

// gemm16 computes y = x W^T on the engine's bf16 copy of W, packed or
// not, or on W itself when the model stores it as bf16 (a bf16 base, W
// plain or packed); false when it keeps no copy of W.
func (e *Engine) gemm16(m, n, k int, x backend.View, wt *tensor.Tensor, y backend.View) bool {
	if e.w16 == nil {
		return false
	}
	if e.m.StoredBF16(wt) {
		e.w16.bf.GemmBF16(false, true, m, n, k, 1, x, k, wt.View(), k, 0, y, n)
		return true
	}
	if buf, p, ok := e.m.PackedWeight(wt); ok {
		p.GemmBF16Packed(m, 1, x, k, buf, 0, y, n)
		return true
	}
	buf, ok := e.w16.bufs[wt]
	switch {
	case !ok:
		return false
	case e.w16.packed != nil:
		e.w16.packed.GemmBF16Packed(m, 1, x, k, buf, 0, y, n)
	default:
		e.w16.bf.GemmBF16(false, true, m, n, k, 1, x, k, backend.Whole(buf), k, 0, y, n)
	}
	return true
}

// linearWeights lists the weights the engine multiplies by: every layer's
// projections and the LM head (the embedding when tied).
func linearWeights(m *nn.Model) []*tensor.Tensor {
	ts := []*tensor.Tensor{m.LMHead}
	for i := range m.Layers {
		l := &m.Layers[i]
		ts = append(ts, l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down)
	}
	return ts
}
