package nn

import (
	"slices"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/tensor"
)

// fusedHeadMinVocab is the vocabulary from which the LM head runs fused
// with its log-softmax (backend.FusedHead) when the backend has it. Below
// it a chunk of logits holds at least 256 rows (chunkRows), the chunked
// path runs its GEMMs at full rate, and small-vocabulary runs keep the
// results they always had, bit for bit.
const fusedHeadMinVocab = 16384

// fusedHead returns the backend's fused LM head when this model uses it.
func (m *Model) fusedHead() backend.FusedHead {
	fh, ok := m.B.(backend.FusedHead)
	switch {
	case !ok || m.headMode < 0:
		return nil
	case m.headMode > 0 || m.Cfg.VocabSize >= fusedHeadMinVocab:
		return fh
	}
	return nil
}

// fusedHeadForward writes the targets' log-probs into lp (T, 1) and keeps
// each row's log-sum-exp and entropy for fusedHeadBackward.
func (p *Pass) fusedHeadForward(fh backend.FusedHead, targets []int32, lp *tensor.Tensor) {
	cfg := p.m.Cfg
	p.headLSE, p.headEnt = p.temp("lse", p.T, 1), p.temp("ent", p.T, 1)
	fh.HeadLogProbs(lp.View(), p.headEnt.View(), p.headLSE.View(), p.Hidden.View(), p.m.LMHead.View(),
		targets, p.T, cfg.VocabSize, cfg.HiddenSize)
	p.headTargets = slices.Clone(targets)
}

// fusedHeadBackward is headBackward on a backend.FusedHead: the forward's
// statistics are computed first unless LogProbs left them for the same
// targets (and always when lp asks for the log-probs), then the backward
// recomputes the logits tile by tile.
func (p *Pass) fusedHeadBackward(fh backend.FusedHead, targets []int32, lp *tensor.Tensor, dlogp, dent []float32) *tensor.Tensor {
	m, cfg := p.m, p.m.Cfg
	if lp != nil || p.headLSE == nil || !slices.Equal(p.headTargets, targets) {
		if lp == nil {
			lp = p.temp("logp", p.T, 1)
		}
		p.fusedHeadForward(fh, targets, lp)
	}
	dlp := p.temp("dlogp", p.T, 1)
	dlp.Set(dlogp)
	dentView := backend.View{}
	if dent != nil {
		de := p.temp("dent", p.T, 1)
		de.Set(dent)
		dentView = de.View()
	}
	dh := p.temp("dh", p.T, cfg.HiddenSize)
	dw := backend.View{} // a frozen base (LoRA): no weight gradient
	if m.LMHeadG != nil {
		dw = m.LMHeadG.View()
	}
	fh.HeadLogProbsBackward(dh.View(), dw, p.Hidden.View(), m.LMHead.View(), p.headLSE.View(),
		p.headEnt.View(), dlp.View(), dentView, targets, p.T, cfg.VocabSize, cfg.HiddenSize)
	return dh
}
