package nn

import (
	"fmt"
	"math"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/tensor"
)

// Pass is one forward pass over a packed batch: the inputs and every
// activation its backward needs. T is the number of packed tokens, C the
// hidden size, F the MLP width, H/KV/D the heads, key/value heads and head
// width. Free it when done: its buffers then serve the model's next pass.
type Pass struct {
	m      *Model
	T      int
	Tokens []int32          // (T)
	Seqs   []backend.Seq    // tile [0, T) in order
	Pos    []int32          // (T), position of each token inside its sequence
	mem    *passMem         // the buffers below, taken from the model
	xs     []*tensor.Tensor // NumLayers+1 residual streams, (T, C): xs[l] enters layer l
	acts   []layerActs
	rstdF  *tensor.Tensor // (T, 1)
	// Hidden is the final-normed hidden state (T, C), the LM head's input.
	Hidden *tensor.Tensor
	// headLSE and headEnt (T, 1) are the log-sum-exp and entropy of each
	// row's logits for the targets headTargets, kept by a fused LogProbs for
	// BackwardLogProbs.
	headLSE, headEnt *tensor.Tensor
	headTargets      []int32
}

// layerActs are one layer's activations, kept for backward. The normed
// inputs of attention and MLP are not kept: backward recomputes them (one
// cheap row-wise op each) into a buffer shared by all layers.
type layerActs struct {
	mem          *passMem       // where buffers come from; nil: fresh ones
	layer        int            // slot index of this layer's activations
	rstd1, rstd2 *tensor.Tensor // (T, 1)
	q            *tensor.Tensor // (T, H*D) after RoPE
	k, v         *tensor.Tensor // (T, KV*D), k after RoPE
	// With Qwen3's q_norm/k_norm: q and k as projected, before the norms,
	// and each head's rstd, (T*H, 1) and (T*KV, 1).
	qraw, kraw   *tensor.Tensor
	qrstd, krstd *tensor.Tensor
	att, lse     *tensor.Tensor // (T, H*D) attention output; (T, H) its log-sum-exp
	xmid         *tensor.Tensor // (T, C) residual stream after attention
	gate, up     *tensor.Tensor // (T, F)
	act          *tensor.Tensor // (T, F) silu(gate)*up
}

// keep returns a (rows, cols) buffer for one of this layer's activations.
func (a *layerActs) keep(b backend.Backend, name string, rows, cols int) *tensor.Tensor {
	return a.mem.take(b, slotKey{name, a.layer}, rows, cols)
}

// temp returns a (rows, cols) temporary shared by every layer of the pass:
// its contents are dead once the layer's forward or backward returns.
func (a *layerActs) temp(b backend.Backend, name string, rows, cols int) *tensor.Tensor {
	return a.mem.take(b, slotKey{name, -1}, rows, cols)
}

// Pack returns the sequences of a packed batch whose sequences have the
// given lengths, e.g. Pack(3, 5) = [{0 3} {3 5}].
func Pack(lens ...int) []backend.Seq {
	seqs := make([]backend.Seq, len(lens))
	start := 0
	for i, n := range lens {
		seqs[i] = backend.Seq{Start: start, Len: n}
		start += n
	}
	return seqs
}

// checkBatch validates user-supplied batch input and returns the positions.
func (m *Model) checkBatch(tokens []int32, seqs []backend.Seq) ([]int32, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("nn: empty batch")
	}
	pos := make([]int32, len(tokens))
	next := 0
	for i, s := range seqs {
		if s.Start != next || s.Len <= 0 {
			return nil, fmt.Errorf("nn: sequence %d {%d %d} does not continue the packing at row %d with a positive length", i, s.Start, s.Len, next)
		}
		if s.Len > m.Cfg.MaxPositionEmbeddings {
			return nil, fmt.Errorf("nn: sequence %d has %d tokens, more than max_position_embeddings %d", i, s.Len, m.Cfg.MaxPositionEmbeddings)
		}
		if s.Start+s.Len > len(tokens) {
			return nil, fmt.Errorf("nn: sequence %d ends at %d beyond the %d tokens", i, s.Start+s.Len, len(tokens))
		}
		for j := 0; j < s.Len; j++ {
			pos[s.Start+j] = int32(j)
		}
		next += s.Len
	}
	if next != len(tokens) {
		return nil, fmt.Errorf("nn: sequences cover %d of %d tokens", next, len(tokens))
	}
	for i, t := range tokens {
		if t < 0 || int(t) >= m.Cfg.VocabSize {
			return nil, fmt.Errorf("nn: token %d at row %d is outside the vocabulary [0, %d)", t, i, m.Cfg.VocabSize)
		}
	}
	return pos, nil
}

// Forward runs the decoder over a packed batch up to the final norm.
// tokens is (T); seqs tile [0, T) in order; a token attends only within its
// own sequence. Take logits with Logits or log-probs with LogProbs.
func (m *Model) Forward(tokens []int32, seqs []backend.Seq) (*Pass, error) {
	if err := m.refusePacked("the training forward"); err != nil {
		return nil, err
	}
	pos, err := m.checkBatch(tokens, seqs)
	if err != nil {
		return nil, err
	}
	cfg, b, T := m.Cfg, m.B, len(tokens)
	C := cfg.HiddenSize
	p := &Pass{m: m, T: T, Tokens: tokens, Seqs: seqs, Pos: pos, mem: &passMem{m: m, held: map[slotKey]*tensor.Tensor{}}}
	p.xs = make([]*tensor.Tensor, cfg.NumLayers+1)
	p.xs[0] = p.mem.take(b, slotKey{"x", 0}, T, C)
	b.Embedding(p.xs[0].View(), m.Embed.View(), tokens, C)
	p.acts = make([]layerActs, cfg.NumLayers)
	for l := range m.Layers {
		p.xs[l+1] = p.mem.take(b, slotKey{"x", l + 1}, T, C)
		p.acts[l] = layerActs{mem: p.mem, layer: l}
		m.Layers[l].forward(&cfg, &p.acts[l], p.xs[l+1], p.xs[l], pos, seqs)
	}
	p.rstdF, p.Hidden = p.temp("rstdF", T, 1), p.temp("hidden", T, C)
	RMSNorm(p.Hidden, p.rstdF, p.xs[cfg.NumLayers], m.Norm, cfg.RMSNormEps)
	return p, nil
}

// temp returns a (rows, cols) buffer of the pass outside the layers.
func (p *Pass) temp(name string, rows, cols int) *tensor.Tensor {
	return p.mem.take(p.m.B, slotKey{name, -1}, rows, cols)
}

// Free gives the pass's buffers back to the model for its next pass; the
// model frees them when a later pass replaces them or with Model.Free.
func (p *Pass) Free() {
	if p.mem != nil {
		p.mem.release()
		p.mem = nil
	}
}

// forward runs one decoder layer: out = h + MLP(norm(h)), h = x + Attn(norm(x)).
// x and out are (T, C); a receives the activations.
func (l *Layer) forward(cfg *Config, a *layerActs, out, x *tensor.Tensor, pos []int32, seqs []backend.Seq) {
	b, T := x.B, x.Dim(0)
	C, H, KV, D, F := cfg.HiddenSize, cfg.NumHeads, cfg.NumKVHeads, cfg.HeadDim, cfg.IntermediateSize
	a.rstd1 = a.keep(b, "rstd1", T, 1)
	xn := a.temp(b, "xn", T, C)
	RMSNorm(xn, a.rstd1, x, l.AttnNorm, cfg.RMSNormEps)
	a.q, a.k, a.v = a.keep(b, "q", T, H*D), a.keep(b, "k", T, KV*D), a.keep(b, "v", T, KV*D)
	if l.QNorm != nil {
		a.qraw, a.kraw = a.keep(b, "qraw", T, H*D), a.keep(b, "kraw", T, KV*D)
		a.qrstd, a.krstd = a.keep(b, "qrstd", T*H, 1), a.keep(b, "krstd", T*KV, 1)
		l.QKV(a.qraw, a.kraw, a.v, xn)
		HeadRMSNorm(a.q, a.qrstd, a.qraw, l.QNorm, H, cfg.RMSNormEps)
		HeadRMSNorm(a.k, a.krstd, a.kraw, l.KNorm, KV, cfg.RMSNormEps)
	} else {
		l.QKV(a.q, a.k, a.v, xn)
	}
	rope := cfg.RoPE()
	RoPE(a.q, pos, H, D, rope)
	RoPE(a.k, pos, KV, D, rope)
	a.att, a.lse = a.keep(b, "att", T, H*D), a.keep(b, "lse", T, H)
	b.Attention(a.att.View(), a.lse.View(), a.q.View(), a.k.View(), a.v.View(), seqs, H, KV, D, AttentionScale(D))
	a.xmid = a.keep(b, "xmid", T, C)
	l.OutProj(a.xmid, x, a.att)

	a.rstd2 = a.keep(b, "rstd2", T, 1)
	RMSNorm(xn, a.rstd2, a.xmid, l.MLPNorm, cfg.RMSNormEps)
	a.gate, a.up, a.act = a.keep(b, "gate", T, F), a.keep(b, "up", T, F), a.keep(b, "act", T, F)
	l.MLP(out, a.xmid, xn, a.gate, a.up, a.act)
}

// AttentionScale is the softmax scale of scaled dot-product attention.
func AttentionScale(headDim int) float32 { return float32(1 / math.Sqrt(float64(headDim))) }

// RMSNorm normalises each row: x and out are (T, C), w is (C), rstd is (T),
// kept for backward.
func RMSNorm(out, rstd, x, w *tensor.Tensor, eps float64) {
	T, C := x.Dim(0), x.Dim(-1)
	x.B.RMSNorm(out.View(), rstd.View(), x.View(), w.View(), T, C, float32(eps))
}

// HeadRMSNorm normalises each head of x (T, heads*D) on its own, with the
// weight w (D) shared by the heads: Qwen3's q_norm and k_norm. rstd is
// (T*heads), kept for backward.
func HeadRMSNorm(out, rstd, x, w *tensor.Tensor, heads int, eps float64) {
	rows, D := x.Dim(0)*heads, w.Dim(0)
	x.B.RMSNorm(out.View(), rstd.View(), x.View(), w.View(), rows, D, float32(eps))
}

// HeadRMSNormBackward accumulates into dx (T, heads*D) and dw (D) from dout,
// the gradient at HeadRMSNorm's output; a nil dw (a base frozen under LoRA)
// as in RMSNormBackward.
func HeadRMSNormBackward(dx, dw, dout, x, w, rstd *tensor.Tensor, heads int) {
	rows, D := x.Dim(0)*heads, w.Dim(0)
	if dw == nil {
		dw = tensor.New(x.B, D)
		defer dw.Free()
	}
	x.B.RMSNormBackward(dx.View(), dw.View(), dout.View(), x.View(), w.View(), rstd.View(), rows, D)
}

// RoPE rotates x (T, heads*headDim) in place, row i by position pos[i].
func RoPE(x *tensor.Tensor, pos []int32, heads, headDim int, rope backend.RoPEParams) {
	x.B.RoPE(x.View(), pos, heads, headDim, rope)
}

// QKV projects the normed input xn (T, C) to q (T, H*D), k and v (T, KV*D),
// before RoPE.
func (l *Layer) QKV(q, k, v, xn *tensor.Tensor) {
	tensor.Linear(q, xn, l.Q, l.QB)
	tensor.Linear(k, xn, l.K, l.KB)
	tensor.Linear(v, xn, l.V, l.VB)
	l.LoRA.add(loraQ, q, xn)
	l.LoRA.add(loraK, k, xn)
	l.LoRA.add(loraV, v, xn)
}

// OutProj sets out = x + att * O^T (+ o bias): the attention output
// projection and the residual connection. x, out are (T, C); att is (T, H*D).
func (l *Layer) OutProj(out, x, att *tensor.Tensor) {
	tensor.Copy(out, x)
	tensor.MatMul(out, att, l.O, false, true, 1, 1)
	l.LoRA.add(loraO, out, att)
	if l.OB != nil {
		out.B.AddBias(out.View(), l.OB.View(), out.Dim(0), out.Dim(-1))
	}
}

// MLP sets out = x + down(silu(gate(xn)) * up(xn)). x, xn, out are (T, C);
// gate, up and act are (T, F) and receive the intermediate values.
func (l *Layer) MLP(out, x, xn, gate, up, act *tensor.Tensor) {
	tensor.Linear(gate, xn, l.Gate, nil)
	tensor.Linear(up, xn, l.Up, nil)
	l.LoRA.add(loraGate, gate, xn)
	l.LoRA.add(loraUp, up, xn)
	act.B.SwiGLU(act.View(), gate.View(), up.View(), act.Len())
	tensor.Copy(out, x)
	tensor.MatMul(out, act, l.Down, false, true, 1, 1)
	l.LoRA.add(loraDown, out, act)
}

// Logits returns the LM head's output (T, V) for every token; the caller
// frees it. For log-probs alone, LogProbs needs far less memory.
func (p *Pass) Logits() *tensor.Tensor {
	lg := tensor.New(p.m.B, p.T, p.m.Cfg.VocabSize)
	tensor.Linear(lg, p.Hidden, p.m.LMHead, nil)
	return lg
}

// chunkRows is how many rows of logits LogProbs keeps alive at once: about
// 4M floats (16 MiB), at least one row; tests set m.chunk to force several.
func (m *Model) chunkRows() int {
	if m.chunk > 0 {
		return m.chunk
	}
	return max(1, (4<<20)/m.Cfg.VocabSize)
}

// LogProbs returns, for each token row r, log p(targets[r]) under the
// model's next-token distribution at r (0 where targets[r] < 0) and, when
// withEntropy, the entropy (nats) of that distribution. targets is (T),
// typically the tokens shifted left by one. The LM head runs in row chunks
// so no (T, V) tensor is kept.
func (p *Pass) LogProbs(targets []int32, withEntropy bool) (logp, ent []float32, err error) {
	m, b := p.m, p.m.B
	if len(targets) != p.T {
		return nil, nil, fmt.Errorf("nn: %d targets for %d tokens", len(targets), p.T)
	}
	for i, t := range targets {
		if int(t) >= m.Cfg.VocabSize {
			return nil, nil, fmt.Errorf("nn: target %d at row %d is outside the vocabulary", t, i)
		}
	}
	V, rows := m.Cfg.VocabSize, m.chunkRows()
	lp := p.temp("logp", p.T, 1)
	var et *tensor.Tensor
	entView := backend.View{}
	if fh := m.fusedHead(); fh != nil {
		p.fusedHeadForward(fh, targets, lp)
		et = p.headEnt
		if !withEntropy {
			et = nil
		}
		return readLogProbs(lp, et)
	}
	if withEntropy {
		et = p.temp("ent", p.T, 1)
	}
	chunk := p.temp("logits", min(rows, p.T), V)
	for lo := 0; lo < p.T; lo += rows {
		hi := min(lo+rows, p.T)
		lg := chunk.Rows(0, hi-lo)
		tensor.Linear(lg, p.Hidden.Rows(lo, hi), m.LMHead, nil)
		if et != nil {
			entView = et.View().At(lo)
		}
		b.LogProbs(lp.View().At(lo), entView, lg.View(), targets[lo:hi], hi-lo, V)
	}
	return readLogProbs(lp, et)
}

// readLogProbs reads the log-probs and, when et is not nil, the entropies
// back to the host.
func readLogProbs(lp, et *tensor.Tensor) (logp, ent []float32, err error) {
	if logp, err = lp.Data(); err != nil {
		return nil, nil, err
	}
	if et != nil {
		if ent, err = et.Data(); err != nil {
			return nil, nil, err
		}
	}
	return logp, ent, nil
}
