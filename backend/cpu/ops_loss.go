package cpu

import (
	"fmt"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
)

// checkTargets panics on a target >= vocab: a programming error. Negative
// targets mark rows without a label.
func checkTargets(targets []int32, rows, vocab int) {
	if len(targets) < rows {
		panic(fmt.Sprintf("cpu: %d targets for %d rows", len(targets), rows))
	}
	for r, t := range targets[:rows] {
		if int(t) >= vocab {
			panic(fmt.Sprintf("cpu: target %d at row %d is outside the vocabulary of %d", t, r, vocab))
		}
	}
}

// LogProbs implements backend.Backend; logits is (rows, vocab), logp and
// ent are (rows).
func (c *CPU) LogProbs(logp, ent, logits backend.View, targets []int32, rows, vocab int) {
	if rows <= 0 {
		return
	}
	checkTargets(targets, rows, vocab)
	lp, x := slice(logp, rows), slice(logits, rows*vocab)
	var en []float32
	if ent.Buf != nil {
		en = slice(ent, rows)
	}
	c.pool.chunks(rows, rowGrain(vocab), func(lo, hi int) {
		ls := make([]float32, vocab)
		for r := lo; r < hi; r++ {
			row := x[r*vocab : (r+1)*vocab]
			if t := targets[r]; t >= 0 {
				asm.LogSoftmax(ls, row)
				lp[r] = ls[t]
			} else {
				lp[r] = 0
			}
			if en != nil {
				en[r] = asm.Entropy(row)
			}
		}
	})
}

// lpBlock is the number of vocabulary entries LogProbsBackward
// exponentiates at a time, so its scratch stays in L1.
const lpBlock = 1024

// LogProbsBackward implements backend.Backend; logits and dlogits are
// (rows, vocab), dlogp and dent are (rows). A row with a negative target has
// a constant logp, so its dlogp is ignored. dlogits may alias logits.
func (c *CPU) LogProbsBackward(dlogits, logits, dlogp, dent backend.View, targets []int32, rows, vocab int) {
	if rows <= 0 {
		return
	}
	checkTargets(targets, rows, vocab)
	dx, x, dl := slice(dlogits, rows*vocab), slice(logits, rows*vocab), slice(dlogp, rows)
	var de []float32
	if dent.Buf != nil {
		de = slice(dent, rows)
	}
	c.pool.chunks(rows, rowGrain(vocab), func(lo, hi int) {
		e := make([]float32, min(vocab, lpBlock))
		for r := lo; r < hi; r++ {
			row, drow := x[r*vocab:(r+1)*vocab], dx[r*vocab:(r+1)*vocab]
			t := targets[r]
			a := dl[r]
			if t < 0 {
				a = 0
			}
			var b, H float32
			if de != nil {
				b = de[r]
			}
			if b == 0 {
				// dlogits = a*(onehot - p): the common case, all in kernels.
				asm.Softmax(drow, row)
				asm.Scale(-a, drow)
			} else {
				// Entropy first: the log-softmax below may overwrite row.
				H = asm.Entropy(row)
				asm.LogSoftmax(drow, row)
				for lo := 0; lo < vocab; lo += lpBlock {
					blk := drow[lo:min(lo+lpBlock, vocab)]
					p := e[:len(blk)]
					asm.Exp(p, blk)
					for j, lpj := range blk {
						if p[j] == 0 {
							// p*log p -> 0; computing it would give 0*Inf.
							blk[j] = 0
							continue
						}
						blk[j] = -(a + b*(lpj+H)) * p[j]
					}
				}
			}
			if t >= 0 {
				drow[t] += a
			}
		}
	})
}

// Softmax implements backend.Backend; x and out are (rows, cols); out may
// alias x.
func (c *CPU) Softmax(out, x backend.View, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	o, xs := slice(out, rows*cols), slice(x, rows*cols)
	c.pool.chunks(rows, rowGrain(cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			asm.Softmax(o[r*cols:(r+1)*cols], xs[r*cols:(r+1)*cols])
		}
	})
}
