//go:build vulkan && cgo

package vulkan

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
)

// checkTargets panics on a target >= vocab; negative targets mark rows
// without a label.
func checkTargets(targets []int32, rows, vocab int) {
	if len(targets) < rows {
		panic(fmt.Sprintf("vulkan: %d targets for %d rows", len(targets), rows))
	}
	for r, t := range targets[:rows] {
		if int(t) >= vocab {
			panic(fmt.Sprintf("vulkan: target %d at row %d is outside the vocabulary of %d", t, r, vocab))
		}
	}
}

// Softmax implements backend.Backend; x and out are (rows, cols).
func (b *Backend) Softmax(out, x backend.View, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	b.op()
	ob, oo := b.view(out, rows*cols, true)
	xb, xo := b.view(x, rows*cols, false)
	b.dispatch("softmax", []binding{ob, xb}, []uint32{uint32(rows), uint32(cols), oo, xo}, uint32(min(rows, maxGroups)), 1)
}

// LogProbs implements backend.Backend; logits is (rows, vocab), logp and
// ent are (rows); ent.Buf may be nil.
func (b *Backend) LogProbs(logp, ent, logits backend.View, targets []int32, rows, vocab int) {
	if rows <= 0 {
		return
	}
	checkTargets(targets, rows, vocab)
	b.op()
	lb, lo := b.view(logp, rows, true)
	eb, eo, hasEnt := lb, lo, uint32(0)
	if ent.Buf != nil {
		eb, eo = b.view(ent, rows, true)
		hasEnt = 1
	}
	xb, xo := b.view(logits, rows*vocab, false)
	tb, ok := b.stageInts(targets[:rows])
	if !ok {
		return
	}
	b.dispatch("logprobs", []binding{lb, eb, xb, tb}, []uint32{uint32(rows), uint32(vocab), lo, eo, xo, 0, hasEnt},
		uint32(min(rows, maxGroups)), 1)
}

// LogProbsBackward implements backend.Backend; logits and dlogits are
// (rows, vocab), dlogp and dent are (rows); dent.Buf may be nil.
func (b *Backend) LogProbsBackward(dlogits, logits, dlogp, dent backend.View, targets []int32, rows, vocab int) {
	if rows <= 0 {
		return
	}
	checkTargets(targets, rows, vocab)
	b.op()
	db, do := b.view(dlogits, rows*vocab, true)
	xb, xo := b.view(logits, rows*vocab, false)
	lb, lo := b.view(dlogp, rows, false)
	eb, eo, hasDent := lb, lo, uint32(0)
	if dent.Buf != nil {
		eb, eo = b.view(dent, rows, false)
		hasDent = 1
	}
	tb, ok := b.stageInts(targets[:rows])
	if !ok {
		return
	}
	b.dispatch("logprobs_backward", []binding{db, xb, lb, eb, tb},
		[]uint32{uint32(rows), uint32(vocab), do, xo, lo, eo, 0, hasDent}, uint32(min(rows, maxGroups)), 1)
}
