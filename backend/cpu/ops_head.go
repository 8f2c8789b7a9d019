package cpu

import (
	"math"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
)

// The fused LM head (backend.FusedHead). The vocabulary is cut into blocks
// of headVB columns, and the blocks into at most headGroups groups of
// consecutive blocks. A group is one task: it walks its blocks in order and,
// for each block, every row block of headRowBlock rows, computing the logits
// tile (rows x headVB, ~100 KiB) with the packed GEMM micro-kernel and using
// it at once, in L2:
//
//   - forward: a running max, sum of exp and sum of exp*(x - max) per row,
//     and the target's logit; the groups' statistics are merged per row in
//     group order;
//   - backward: the tile is recomputed (one GEMM of depth hidden), turned
//     into dlogits in place, and multiplied into the group's partial dh
//     (rows x hidden, summed over groups in group order at the end) and into
//     the block's rows of dw, which stay in cache across the row blocks.
//
// Groups, blocks and row blocks depend on the sizes (and the kernel's tile)
// only, and every sum runs in a fixed order inside one task or in group
// order after them, so the results are bitwise the same for any thread
// count.
const (
	headVB     = 256
	headGroups = 8
	// headMaxRows bounds the rows one backward pass over the vocabulary
	// takes, so that the groups' partial dh (headGroups x rows x hidden)
	// stays a few MiB; longer batches take several passes.
	headMaxRows = 1024
)

// headRowBlock is the rows of one logits tile: a multiple of the kernel's
// MR (so packed row blocks sit at row*hidden), about 112.
func headRowBlock(s *asm.SgemmKernel) int { return max(1, 112/s.MR) * s.MR }

// headGroupBlocks returns the vocabulary blocks [lo, hi) of group g of n.
func headGroupBlocks(g, groups, blocks int) (lo, hi int) {
	return g * blocks / groups, (g + 1) * blocks / groups
}

// headStat is a row's softmax statistics over part of the vocabulary,
// relative to its running max m: s = sum(exp(x - m)), w = sum(exp(x - m)*(x
// - m)); xt is the target's logit when the target lies in that part.
type headStat struct {
	m     float32
	s, w  float64
	xt    float32
	hasXT bool
}

// add folds the statistics (m, s, w) of more logits into st.
func (st *headStat) add(m float32, s, w float64) {
	switch {
	case s == 0 && w == 0 && math.IsInf(float64(m), -1):
		return
	case st.s == 0 && math.IsInf(float64(st.m), -1):
		st.m, st.s, st.w = m, s, w
		return
	}
	M := max(st.m, m)
	ca, cb := math.Exp(float64(st.m-M)), math.Exp(float64(m-M))
	st.w = ca*(st.w-float64(M-st.m)*st.s) + cb*(w-float64(M-m)*s)
	st.s = ca*st.s + cb*s
	st.m = M
}

// addRow folds one row of logits into st.
func (st *headStat) addRow(row []float32) {
	bm := asm.Max(row)
	if bm > st.m {
		if st.s != 0 {
			c := math.Exp(float64(st.m - bm))
			st.w = c * (st.w - float64(bm-st.m)*st.s)
			st.s *= c
		}
		st.m = bm
	}
	s, w := asm.ExpSums(row, st.m)
	st.s += float64(s)
	st.w += float64(w)
}

// packHeadRows packs rows (rows x hidden) of h as the A operand of the
// logits GEMM, row block by row block, so row block r0 starts at r0*hidden.
func (c *CPU) packHeadRows(s *asm.SgemmKernel, h []float32, rows, hidden, rb int) []float32 {
	pa := make([]float32, s.PackedASize(rows, hidden))
	c.pool.run(gemmCeilDiv(rows, rb), func(i int) {
		r0 := i * rb
		s.PackA(pa[r0*hidden:], h[r0*hidden:], hidden, false, min(rb, rows-r0), hidden)
	})
	return pa
}

// HeadLogProbs implements backend.FusedHead.
func (c *CPU) HeadLogProbs(logp, ent, lse, h, w backend.View, targets []int32, rows, vocab, hidden int) {
	if rows <= 0 {
		return
	}
	checkTargets(targets, rows, vocab)
	s := gemmKernel
	H, W := slice(h, rows*hidden), slice(w, vocab*hidden)
	lp, ls := slice(logp, rows), slice(lse, rows)
	var en []float32
	if ent.Buf != nil {
		en = slice(ent, rows)
	}
	rb := headRowBlock(s)
	pa := c.packHeadRows(s, H, rows, hidden, rb)
	blocks := gemmCeilDiv(vocab, headVB)
	groups := min(headGroups, blocks)
	stats := make([][]headStat, groups)
	c.pool.run(groups, func(g int) {
		st := make([]headStat, rows)
		for r := range st {
			st[r].m = float32(math.Inf(-1))
		}
		pb := make([]float32, s.PackedBSize(hidden, headVB))
		tile := make([]float32, rb*headVB)
		edge := make([]float32, s.MR*s.NR)
		lo, hi := headGroupBlocks(g, groups, blocks)
		for blk := lo; blk < hi; blk++ {
			v0 := blk * headVB
			vb := min(headVB, vocab-v0)
			s.PackB(pb, W[v0*hidden:], hidden, true, hidden, vb)
			for r0 := 0; r0 < rows; r0 += rb {
				n := min(rb, rows-r0)
				gemmTask(s, hidden, n, vb, 1, pa[r0*hidden:], pb, 0, tile, headVB, edge)
				for i := 0; i < n; i++ {
					r := r0 + i
					row := tile[i*headVB : i*headVB+vb]
					st[r].addRow(row)
					if t := int(targets[r]); t >= v0 && t < v0+vb {
						st[r].xt, st[r].hasXT = row[t-v0], true
					}
				}
			}
		}
		stats[g] = st
	})
	c.pool.chunks(rows, 256, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			tot := stats[0][r]
			for g := 1; g < groups; g++ {
				o := stats[g][r]
				tot.add(o.m, o.s, o.w)
				if o.hasXT {
					tot.xt, tot.hasXT = o.xt, true
				}
			}
			l := float64(tot.m) + math.Log(tot.s)
			ls[r] = float32(l)
			if targets[r] >= 0 {
				lp[r] = float32(float64(tot.xt) - l)
			} else {
				lp[r] = 0
			}
			if en != nil {
				e := math.Log(tot.s) - tot.w/tot.s
				if e < 0 {
					e = 0 // rounding on a one-hot row
				}
				en[r] = float32(e)
			}
		}
	})
}

// HeadLogProbsBackward implements backend.FusedHead.
func (c *CPU) HeadLogProbsBackward(dh, dw, h, w, lse, ent, dlogp, dent backend.View, targets []int32, rows, vocab, hidden int) {
	if rows <= 0 {
		return
	}
	checkTargets(targets, rows, vocab)
	H, W := slice(h, rows*hidden), slice(w, vocab*hidden)
	DH := slice(dh, rows*hidden)
	var DW []float32 // nil: no weight gradient (a frozen head)
	if dw.Buf != nil {
		DW = slice(dw, vocab*hidden)
	}
	ls, dl := slice(lse, rows), slice(dlogp, rows)
	var en, de []float32
	if dent.Buf != nil {
		en, de = slice(ent, rows), slice(dent, rows)
	}
	clear(DH)
	// The rows with a gradient, in order; the others' dlogits are zero.
	var act []int
	for r := 0; r < rows; r++ {
		if (targets[r] >= 0 && dl[r] != 0) || (de != nil && de[r] != 0) {
			act = append(act, r)
		}
	}
	for lo := 0; lo < len(act); lo += headMaxRows {
		part := act[lo:min(lo+headMaxRows, len(act))]
		n := len(part)
		hc := make([]float32, n*hidden)
		rw := make([]headRow, n)
		for i, r := range part {
			copy(hc[i*hidden:(i+1)*hidden], H[r*hidden:(r+1)*hidden])
			rw[i] = headRow{t: targets[r], lse: ls[r]}
			if targets[r] >= 0 {
				rw[i].a = dl[r]
			}
			if de != nil {
				rw[i].b, rw[i].ent = de[r], en[r]
			}
		}
		dhc := c.headBackwardRows(hc, W, DW, rw, n, vocab, hidden)
		for i, r := range part {
			copy(DH[r*hidden:(r+1)*hidden], dhc[i*hidden:(i+1)*hidden])
		}
	}
}

// headRow is what the backward needs of one row: its target, lse and
// entropy, and the loss's derivatives a = dloss/dlogp, b = dloss/dent.
type headRow struct {
	t        int32
	lse, ent float32
	a, b     float32
}

// headBackwardRows runs the backward over n compacted rows h (n x hidden):
// it accumulates dW (unless DW is nil) and returns dh (n x hidden).
func (c *CPU) headBackwardRows(h, W, DW []float32, rw []headRow, n, vocab, hidden int) []float32 {
	s := gemmKernel
	rb := headRowBlock(s)
	pa := c.packHeadRows(s, h, n, hidden, rb)
	// h as the B operand of dW += dlogits^T h, row block by row block.
	bStride := gemmCeilDiv(hidden, s.NR) * s.NR
	var pbH []float32
	if DW != nil {
		pbH = make([]float32, gemmCeilDiv(n, rb)*rb*bStride)
		c.pool.run(gemmCeilDiv(n, rb), func(i int) {
			r0 := i * rb
			s.PackB(pbH[r0*bStride:], h[r0*hidden:], hidden, false, min(rb, n-r0), hidden)
		})
	}
	blocks := gemmCeilDiv(vocab, headVB)
	groups := min(headGroups, blocks)
	parts := make([][]float32, groups)
	c.pool.run(groups, func(g int) {
		part := make([]float32, n*hidden)
		pbW := make([]float32, s.PackedBSize(hidden, headVB))
		pbWT := make([]float32, s.PackedBSize(headVB, hidden))
		tile := make([]float32, rb*headVB)
		paD := make([]float32, s.PackedASize(rb, headVB))
		paDT := make([]float32, s.PackedASize(headVB, rb))
		edge := make([]float32, s.MR*s.NR)
		lo, hi := headGroupBlocks(g, groups, blocks)
		for blk := lo; blk < hi; blk++ {
			v0 := blk * headVB
			vb := min(headVB, vocab-v0)
			s.PackB(pbW, W[v0*hidden:], hidden, true, hidden, vb)
			s.PackB(pbWT, W[v0*hidden:], hidden, false, vb, hidden)
			beta := float32(1)
			if blk == lo {
				beta = 0
			}
			for r0 := 0; r0 < n; r0 += rb {
				m := min(rb, n-r0)
				gemmTask(s, hidden, m, vb, 1, pa[r0*hidden:], pbW, 0, tile, headVB, edge)
				for i := 0; i < m; i++ {
					headDLogits(tile[i*headVB:i*headVB+vb], rw[r0+i], v0)
				}
				// dh rows += dlogits * W_blk; dW_blk += dlogits^T * h rows.
				s.PackA(paD, tile, headVB, false, m, vb)
				gemmTask(s, vb, m, hidden, 1, paD, pbWT, beta, part[r0*hidden:], hidden, edge)
				if DW != nil {
					s.PackA(paDT, tile, headVB, true, vb, m)
					gemmTask(s, m, vb, hidden, 1, paDT, pbH[r0*bStride:], 1, DW[v0*hidden:], hidden, edge)
				}
			}
		}
		parts[g] = part
	})
	dh := parts[0]
	c.pool.chunks(n, 64, func(lo, hi int) {
		d := dh[lo*hidden : hi*hidden]
		for g := 1; g < groups; g++ {
			asm.Add(d, d, parts[g][lo*hidden:hi*hidden])
		}
	})
	return dh
}

// headDLogits turns one row of logits x (vocabulary columns v0...) into
// dlogits in place: with p = exp(x - lse),
//
//	d = a*(1[j == t] - p) - b*p*(log p + H) = -(a + b*(x - lse + H))*p + a*1[j == t].
func headDLogits(x []float32, r headRow, v0 int) {
	if r.b == 0 {
		asm.ExpSub(x, x, r.lse)
		asm.Scale(-r.a, x)
	} else {
		// d = -(a + b*(H - lse))*p - b*(x*p), in vector passes over the row
		// while it is in L1; log p + H = x - lse + H.
		var buf [headVB]float32
		xp := buf[:len(x)]
		copy(xp, x)
		asm.ExpSub(x, x, r.lse)
		asm.Mul(xp, xp, x)
		asm.Scale(-(r.a + r.b*(r.ent-r.lse)), x)
		asm.Axpy(-r.b, xp, x)
	}
	if t := int(r.t) - v0; t >= 0 && t < len(x) {
		x[t] += r.a
	}
}
