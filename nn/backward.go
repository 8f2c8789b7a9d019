package nn

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/tensor"
)

// Backward accumulates into the model's gradients the gradient of a loss
// whose derivative with respect to the logits is dlogits (T, V).
func (p *Pass) Backward(dlogits *tensor.Tensor) {
	m := p.m
	if dlogits.Dim(0) != p.T || dlogits.Dim(-1) != m.Cfg.VocabSize {
		panic(fmt.Sprintf("nn: Backward: dlogits %v for %d tokens", dlogits.Shape(), p.T))
	}
	dh := tensor.New(m.B, p.T, m.Cfg.HiddenSize)
	defer dh.Free()
	tensor.LinearBackward(dh, m.LMHeadG, nil, dlogits, p.Hidden, m.LMHead)
	p.backwardTrunk(dh)
}

// BackwardLogProbs accumulates into the model's gradients the gradient of a
// loss given its derivatives with respect to LogProbs' outputs: dlogp (T)
// and, when not nil, dent (T). targets must be those given to LogProbs. The
// logits are recomputed in row chunks, as in LogProbs, instead of kept.
func (p *Pass) BackwardLogProbs(targets []int32, dlogp, dent []float32) error {
	m, b := p.m, p.m.B
	if len(targets) != p.T || len(dlogp) != p.T || (dent != nil && len(dent) != p.T) {
		return fmt.Errorf("nn: BackwardLogProbs: %d targets, %d dlogp, %d dent for %d tokens", len(targets), len(dlogp), len(dent), p.T)
	}
	V, C, rows := m.Cfg.VocabSize, m.Cfg.HiddenSize, m.chunkRows()
	dlp := tensor.FromSlice(b, dlogp, p.T)
	defer dlp.Free()
	dentView := backend.View{}
	if dent != nil {
		de := tensor.FromSlice(b, dent, p.T)
		defer de.Free()
		dentView = de.View()
	}
	n := min(rows, p.T)
	lgBuf, dlgBuf := tensor.New(b, n, V), tensor.New(b, n, V)
	defer lgBuf.Free()
	defer dlgBuf.Free()
	dh := tensor.New(b, p.T, C)
	defer dh.Free()
	for lo := 0; lo < p.T; lo += rows {
		hi := min(lo+rows, p.T)
		lg, dlg := lgBuf.Rows(0, hi-lo), dlgBuf.Rows(0, hi-lo)
		tensor.Linear(lg, p.Hidden.Rows(lo, hi), m.LMHead, nil)
		de := backend.View{}
		if dentView.Buf != nil {
			de = dentView.At(lo)
		}
		b.LogProbsBackward(dlg.View(), lg.View(), dlp.View().At(lo), de, targets[lo:hi], hi-lo, V)
		tensor.LinearBackward(dh.Rows(lo, hi), m.LMHeadG, nil, dlg, p.Hidden.Rows(lo, hi), m.LMHead)
	}
	p.backwardTrunk(dh)
	return nil
}

// backwardTrunk runs the backward from d(loss)/d(Hidden), dh (T, C), through
// the final norm, every layer and the embedding.
func (p *Pass) backwardTrunk(dh *tensor.Tensor) {
	m, cfg := p.m, p.m.Cfg
	L := cfg.NumLayers
	// dx is d(loss)/d(residual stream); each layer updates it in place.
	dx := tensor.New(m.B, p.T, cfg.HiddenSize)
	defer dx.Free()
	RMSNormBackward(dx, m.NormG, dh, p.xs[L], m.Norm, p.rstdF)
	for l := L - 1; l >= 0; l-- {
		m.Layers[l].backward(&cfg, &p.acts[l], dx, p.xs[l], p.Pos, p.Seqs)
	}
	m.B.EmbeddingBackward(m.EmbedG.View(), dx.View(), p.Tokens, cfg.HiddenSize)
}

// backward turns dx (T, C), the gradient at the layer's output, into the
// gradient at its input x, in place, and accumulates the layer's weight
// gradients. The residual connections are why dx is updated, not replaced.
func (l *Layer) backward(cfg *Config, a *layerActs, dx, x *tensor.Tensor, pos []int32, seqs []backend.Seq) {
	b, T := dx.B, dx.Dim(0)
	C, H, KV, D, F := cfg.HiddenSize, cfg.NumHeads, cfg.NumKVHeads, cfg.HeadDim, cfg.IntermediateSize
	tmp := newScratch(b)
	defer tmp.free()

	// MLP: out = xmid + down(silu(gate)*up).
	dact := tmp.get(T, F)
	tensor.LinearBackward(dact, l.DownG, nil, dx, a.act, l.Down)
	dgate, dup := tmp.get(T, F), tmp.get(T, F)
	b.SwiGLUBackward(dgate.View(), dup.View(), dact.View(), a.gate.View(), a.up.View(), T*F)
	dxn2 := tmp.get(T, C)
	tensor.LinearBackward(dxn2, l.GateG, nil, dgate, a.xn2, l.Gate)
	tensor.LinearBackward(dxn2, l.UpG, nil, dup, a.xn2, l.Up)
	RMSNormBackward(dx, l.MLPNormG, dxn2, a.xmid, l.MLPNorm, a.rstd2)

	// Attention: xmid = x + o(attn(rope(q), rope(k), v)).
	datt := tmp.get(T, H*D)
	tensor.LinearBackward(datt, l.OG, l.OBG, dx, a.att, l.O)
	dq, dk, dv := tmp.get(T, H*D), tmp.get(T, KV*D), tmp.get(T, KV*D)
	b.AttentionBackward(dq.View(), dk.View(), dv.View(), datt.View(), a.q.View(), a.k.View(), a.v.View(), a.att.View(), a.lse.View(), seqs, H, KV, D, AttentionScale(D))
	b.RoPEBackward(dq.View(), pos, H, D, float32(cfg.RopeTheta))
	b.RoPEBackward(dk.View(), pos, KV, D, float32(cfg.RopeTheta))
	dxn1 := tmp.get(T, C)
	tensor.LinearBackward(dxn1, l.QG, l.QBG, dq, a.xn1, l.Q)
	tensor.LinearBackward(dxn1, l.KG, l.KBG, dk, a.xn1, l.K)
	tensor.LinearBackward(dxn1, l.VG, l.VBG, dv, a.xn1, l.V)
	RMSNormBackward(dx, l.AttnNormG, dxn1, x, l.AttnNorm, a.rstd1)
}

// RMSNormBackward accumulates into dx (T, C) and dw (C) from dout (T, C).
func RMSNormBackward(dx, dw, dout, x, w, rstd *tensor.Tensor) {
	T, C := x.Dim(0), x.Dim(-1)
	x.B.RMSNormBackward(dx.View(), dw.View(), dout.View(), x.View(), w.View(), rstd.View(), T, C)
}

// scratch hands out zeroed temporaries and frees them together.
type scratch struct {
	b  backend.Backend
	ts []*tensor.Tensor
}

func newScratch(b backend.Backend) *scratch { return &scratch{b: b} }

func (s *scratch) get(shape ...int) *tensor.Tensor {
	t := tensor.New(s.b, shape...)
	s.ts = append(s.ts, t)
	return t
}

func (s *scratch) free() {
	for _, t := range s.ts {
		t.Free()
	}
	s.ts = nil
}
