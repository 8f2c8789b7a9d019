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
	dh := p.temp("dh", p.T, m.Cfg.HiddenSize)
	linearBackward(dh, 0, m.LMHeadG, nil, dlogits, p.Hidden, m.LMHead)
	p.backwardTrunk(dh)
}

// BackwardLogProbs accumulates into the model's gradients the gradient of a
// loss given its derivatives with respect to LogProbs' outputs: dlogp (T)
// and, when not nil, dent (T). targets must be those given to LogProbs. The
// logits are recomputed in row chunks, as in LogProbs, instead of kept.
func (p *Pass) BackwardLogProbs(targets []int32, dlogp, dent []float32) error {
	if len(targets) != p.T || len(dlogp) != p.T || (dent != nil && len(dent) != p.T) {
		return fmt.Errorf("nn: BackwardLogProbs: %d targets, %d dlogp, %d dent for %d tokens", len(targets), len(dlogp), len(dent), p.T)
	}
	dh := p.headBackward(targets, nil, dlogp, dent)
	p.backwardTrunk(dh)
	return nil
}

// headBackward runs the LM head and the log-prob backward over row chunks:
// logits = Hidden*LMHead^T, then (when lp is not nil) the log-probs of the
// targets into lp (T, 1), then dlogits from dlogp (T) and dent (T, or nil),
// accumulated into LMHeadG and written into the returned d(loss)/d(Hidden),
// (T, C). Computing the log-probs here too lets CrossEntropy run the LM head
// once instead of twice, with the same results as LogProbs then
// BackwardLogProbs.
func (p *Pass) headBackward(targets []int32, lp *tensor.Tensor, dlogp, dent []float32) *tensor.Tensor {
	m, b := p.m, p.m.B
	if fh := m.fusedHead(); fh != nil {
		return p.fusedHeadBackward(fh, targets, lp, dlogp, dent)
	}
	V, C, rows := m.Cfg.VocabSize, m.Cfg.HiddenSize, m.chunkRows()
	dlp := p.temp("dlogp", p.T, 1)
	dlp.Set(dlogp)
	dentView := backend.View{}
	if dent != nil {
		de := p.temp("dent", p.T, 1)
		de.Set(dent)
		dentView = de.View()
	}
	n := min(rows, p.T)
	lgBuf, dlgBuf := p.temp("logits", n, V), p.temp("dlogits", n, V)
	dh := p.temp("dh", p.T, C)
	for lo := 0; lo < p.T; lo += rows {
		hi := min(lo+rows, p.T)
		lg, dlg := lgBuf.Rows(0, hi-lo), dlgBuf.Rows(0, hi-lo)
		tensor.Linear(lg, p.Hidden.Rows(lo, hi), m.LMHead, nil)
		if lp != nil {
			b.LogProbs(lp.View().At(lo), backend.View{}, lg.View(), targets[lo:hi], hi-lo, V)
		}
		de := backend.View{}
		if dentView.Buf != nil {
			de = dentView.At(lo)
		}
		b.LogProbsBackward(dlg.View(), lg.View(), dlp.View().At(lo), de, targets[lo:hi], hi-lo, V)
		linearBackward(dh.Rows(lo, hi), 0, m.LMHeadG, nil, dlg, p.Hidden.Rows(lo, hi), m.LMHead)
	}
	return dh
}

// backwardTrunk runs the backward from d(loss)/d(Hidden), dh (T, C), through
// the final norm, every layer and the embedding.
func (p *Pass) backwardTrunk(dh *tensor.Tensor) {
	m, cfg := p.m, p.m.Cfg
	L := cfg.NumLayers
	// dx is d(loss)/d(residual stream); each layer updates it in place.
	dx := p.temp("dx", p.T, cfg.HiddenSize)
	dx.Zero()
	RMSNormBackward(dx, m.NormG, dh, p.xs[L], m.Norm, p.rstdF)
	for l := L - 1; l >= 0; l-- {
		m.Layers[l].backward(&cfg, &p.acts[l], dx, p.xs[l], p.Pos, p.Seqs)
	}
	if m.EmbedG != nil {
		m.B.EmbeddingBackward(m.EmbedG.View(), dx.View(), p.Tokens, cfg.HiddenSize)
	}
}

// backward turns dx (T, C), the gradient at the layer's output, into the
// gradient at its input x, in place, and accumulates the layer's weight
// gradients. The residual connections are why dx is updated, not replaced.
// The normed inputs, not kept by forward, are recomputed bit for bit by the
// same op.
func (l *Layer) backward(cfg *Config, a *layerActs, dx, x *tensor.Tensor, pos []int32, seqs []backend.Seq) {
	b, T := dx.B, dx.Dim(0)
	C, H, KV, D, F := cfg.HiddenSize, cfg.NumHeads, cfg.NumKVHeads, cfg.HeadDim, cfg.IntermediateSize
	xn, rstd := a.temp(b, "xn", T, C), a.temp(b, "rstd", T, 1)
	dxn := a.temp(b, "dxn", T, C)

	// MLP: out = xmid + down(silu(gate)*up).
	RMSNorm(xn, rstd, a.xmid, l.MLPNorm, cfg.RMSNormEps)
	dact := a.temp(b, "dact", T, F)
	linearBackward(dact, 0, l.DownG, nil, dx, a.act, l.Down)
	l.LoRA.backward(loraDown, dact, dx, a.act)
	dgate, dup := a.temp(b, "dgate", T, F), a.temp(b, "dup", T, F)
	b.SwiGLUBackward(dgate.View(), dup.View(), dact.View(), a.gate.View(), a.up.View(), T*F)
	linearBackward(dxn, 0, l.GateG, nil, dgate, xn, l.Gate)
	linearBackward(dxn, 1, l.UpG, nil, dup, xn, l.Up)
	l.LoRA.backward(loraGate, dxn, dgate, xn)
	l.LoRA.backward(loraUp, dxn, dup, xn)
	RMSNormBackward(dx, l.MLPNormG, dxn, a.xmid, l.MLPNorm, a.rstd2)

	// Attention: xmid = x + o(attn(rope(q), rope(k), v)), q and k head-normed
	// first in Qwen3.
	datt := a.temp(b, "datt", T, H*D)
	linearBackward(datt, 0, l.OG, l.OBG, dx, a.att, l.O)
	l.LoRA.backward(loraO, datt, dx, a.att)
	dq, dk, dv := a.temp(b, "dq", T, H*D), a.temp(b, "dk", T, KV*D), a.temp(b, "dv", T, KV*D)
	b.AttentionBackward(dq.View(), dk.View(), dv.View(), datt.View(), a.q.View(), a.k.View(), a.v.View(), a.att.View(), a.lse.View(), seqs, H, KV, D, AttentionScale(D))
	rope := cfg.RoPE()
	b.RoPEBackward(dq.View(), pos, H, D, rope)
	b.RoPEBackward(dk.View(), pos, KV, D, rope)
	if l.QNorm != nil {
		// dq and dk are now the gradients at the norms' outputs; carry them
		// to the projections' outputs.
		dqr, dkr := a.temp(b, "dqraw", T, H*D), a.temp(b, "dkraw", T, KV*D)
		dqr.Zero()
		dkr.Zero()
		HeadRMSNormBackward(dqr, l.QNormG, dq, a.qraw, l.QNorm, a.qrstd, H)
		HeadRMSNormBackward(dkr, l.KNormG, dk, a.kraw, l.KNorm, a.krstd, KV)
		dq, dk = dqr, dkr
	}
	RMSNorm(xn, rstd, x, l.AttnNorm, cfg.RMSNormEps)
	linearBackward(dxn, 0, l.QG, l.QBG, dq, xn, l.Q)
	linearBackward(dxn, 1, l.KG, l.KBG, dk, xn, l.K)
	linearBackward(dxn, 1, l.VG, l.VBG, dv, xn, l.V)
	l.LoRA.backward(loraQ, dxn, dq, xn)
	l.LoRA.backward(loraK, dxn, dk, xn)
	l.LoRA.backward(loraV, dxn, dv, xn)
	RMSNormBackward(dx, l.AttnNormG, dxn, x, l.AttnNorm, a.rstd1)
}

// linearBackward is tensor.LinearBackward with dx = beta*dx + dy*w: beta 0
// overwrites dx (a reused buffer holds stale values), 1 accumulates into it.
// dw and dbias (when not nil) accumulate; a nil dw (a base frozen under
// LoRA) skips the weight-gradient GEMM altogether.
func linearBackward(dx *tensor.Tensor, beta float32, dw, dbias, dy, x, w *tensor.Tensor) {
	tensor.MatMul(dx, dy, w, false, false, 1, beta)
	if dw != nil {
		tensor.LinearBackward(nil, dw, dbias, dy, x, w)
	}
}

// RMSNormBackward accumulates into dx (T, C) and dw (C) from dout (T, C).
// A nil dw (a base frozen under LoRA) sends the weight's gradient to a
// scratch buffer that is dropped.
func RMSNormBackward(dx, dw, dout, x, w, rstd *tensor.Tensor) {
	T, C := x.Dim(0), x.Dim(-1)
	if dw == nil {
		dw = tensor.New(x.B, C)
		defer dw.Free()
	}
	x.B.RMSNormBackward(dx.View(), dw.View(), dout.View(), x.View(), w.View(), rstd.View(), T, C)
}
