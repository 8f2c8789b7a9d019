package backend

// FusedHead is implemented by backends that run the LM head fused with its
// log-softmax: the logits h*w^T are computed a tile at a time, reduced to
// per-row statistics (forward) or turned into gradients (backward) while
// the tile is in cache, and never stored. With a 150k vocabulary a (T, V)
// logits matrix is 600 KB a token, and streaming it through memory several
// times costs more than the GEMMs that make it.
//
// It is optional: nn uses it when the backend has it (the CPU backend) and
// otherwise runs Gemm, LogProbs and LogProbsBackward over row chunks of
// logits.
type FusedHead interface {
	// HeadLogProbs takes h (rows, hidden) and w (vocab, hidden), the LM
	// head's weight, and writes for each row r of logits = h*w^T:
	// lse[r] = log(sum(exp(logits[r]))), logp[r] = logits[r][targets[r]] -
	// lse[r] (0 where targets[r] < 0) and, when ent.Buf is not nil, ent[r] =
	// the entropy (nats) of softmax(logits[r]).
	HeadLogProbs(logp, ent, lse, h, w View, targets []int32, rows, vocab, hidden int)
	// HeadLogProbsBackward takes lse and ent as HeadLogProbs wrote them
	// (ent only when dent.Buf is not nil) and the gradient of a loss with
	// respect to logp (dlogp) and ent (dent, or no buffer), forms dlogits as
	// LogProbsBackward defines it, and writes dh (rows, hidden) = dlogits*w
	// and accumulates dw (vocab, hidden) += dlogits^T*h, unless dw has no
	// buffer (a frozen LM head: the GEMM is skipped). Rows whose dlogp
	// (or whose target is negative) and dent are both 0 contribute nothing
	// and cost nothing.
	HeadLogProbsBackward(dh, dw, h, w, lse, ent, dlogp, dent View, targets []int32, rows, vocab, hidden int)
}
