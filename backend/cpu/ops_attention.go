package cpu

import (
	"fmt"
	"math"
	"slices"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
)

// attnShape holds the sizes shared by the attention forward and backward.
type attnShape struct {
	T, heads, kvHeads, hd int
	group                 int // query heads per kv head
	qs, ks                int // row strides of q and k/v
}

// checkAttention validates the sizes and that seqs tile [0, T) in order;
// violations are programming errors.
func checkAttention(seqs []backend.Seq, heads, kvHeads, headDim int) attnShape {
	if heads <= 0 || kvHeads <= 0 || headDim <= 0 || heads%kvHeads != 0 {
		panic(fmt.Sprintf("cpu: attention with %d heads, %d kv heads, head dim %d", heads, kvHeads, headDim))
	}
	T := 0
	for i, s := range seqs {
		if s.Start != T || s.Len < 0 {
			panic(fmt.Sprintf("cpu: attention sequence %d is %+v; sequences must tile [0, T) in order", i, s))
		}
		T += s.Len
	}
	return attnShape{T: T, heads: heads, kvHeads: kvHeads, hd: headDim,
		group: heads / kvHeads, qs: heads * headDim, ks: kvHeads * headDim}
}

// attnPiece is one unit of parallel attention work: one head of one
// sequence.
type attnPiece struct {
	seq  backend.Seq
	head int
}

// attnPieces lists the (sequence, head) pairs, longest sequences first so
// that the pool's dynamic scheduling balances the quadratic costs. Every
// piece writes disjoint outputs, so the order does not affect the results.
func attnPieces(seqs []backend.Seq, heads int) []attnPiece {
	var ps []attnPiece
	for _, s := range seqs {
		if s.Len == 0 {
			continue
		}
		for h := 0; h < heads; h++ {
			ps = append(ps, attnPiece{s, h})
		}
	}
	slices.SortStableFunc(ps, func(a, b attnPiece) int { return b.seq.Len - a.seq.Len })
	return ps
}

// attnBlock is the number of query rows attention handles at a time: their
// scores against all earlier keys form one (attnBlock, L) scratch block,
// computed and consumed by GEMMs.
const attnBlock = 64

// serialPool runs gemm inline inside an attention piece: the pieces are
// already spread over the backend's pool, which must not be re-entered.
var serialPool = newPool(1)

// blockGemm is C = alpha*op(A)*op(B) + beta*C on the calling goroutine, with
// the backend's packed kernel. Its blocking depends only on the shape.
// Attention transposes K and V itself so that its score products are NN:
// at head dim 32 the NT shapes (64 x L x 32) take the driver's dot-product
// path, 4-5x slower than the packed kernel on the same shape NN.
func blockGemm(ta, tb bool, m, n, k int, alpha float32, A []float32, lda int, B []float32, ldb int, beta float32, C []float32, ldc int) {
	gemm(serialPool, gemmKernel, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
}

// Attention implements backend.Backend; q, out are (T, heads*headDim), k, v
// are (T, kvHeads*headDim), lse is (T, heads).
//
// fillOnes sets every element of x to 1 and returns it: with asm.Axpy it
// subtracts a scalar from a row in a vector kernel (y + (-c)*1 rounds as
// y - c), which asm lacks as an op of its own.
func fillOnes(x []float32) []float32 {
	for i := range x {
		x[i] = 1
	}
	return x
}

// transposeHead writes the head columns [col, col+hd) of rows [0, n) of x
// (row stride ld) transposed into dst (hd, n).
func transposeHead(dst, x []float32, n, ld, col, hd int) {
	j := 0
	// Four rows at a time: each destination row gets four adjacent values
	// per pass instead of one.
	for ; j+4 <= n; j += 4 {
		r0 := x[j*ld+col : j*ld+col+hd]
		r1 := x[(j+1)*ld+col : (j+1)*ld+col+hd]
		r2 := x[(j+2)*ld+col : (j+2)*ld+col+hd]
		r3 := x[(j+3)*ld+col : (j+3)*ld+col+hd]
		for d := range r0 {
			o := dst[d*n+j : d*n+j+4]
			o[0], o[1], o[2], o[3] = r0[d], r1[d], r2[d], r3[d]
		}
	}
	for ; j < n; j++ {
		row := x[j*ld+col : j*ld+col+hd]
		for d, v := range row {
			dst[d*n+j] = v
		}
	}
}

// Each (sequence, head) piece walks its query rows in blocks of attnBlock:
// S = scale*Q_blk*K^T over the keys up to the block's last row, a causal
// softmax row by row, then O_blk = P*V. Only the (attnBlock, L) block of
// scores exists at a time.
func (c *CPU) Attention(out, lse, q, k, v backend.View, seqs []backend.Seq, heads, kvHeads, headDim int, scale float32) {
	sh := checkAttention(seqs, heads, kvHeads, headDim)
	if sh.T == 0 {
		return
	}
	O, L := slice(out, sh.T*sh.qs), slice(lse, sh.T*heads)
	Q, K, V := slice(q, sh.T*sh.qs), slice(k, sh.T*sh.ks), slice(v, sh.T*sh.ks)
	pieces := attnPieces(seqs, heads)
	hd := headDim
	c.pool.run(len(pieces), func(pi int) {
		p := pieces[pi]
		h, g := p.head, p.head/sh.group
		st, n := p.seq.Start, p.seq.Len
		Vs := V[st*sh.ks+g*hd:]
		nb := min(n, attnBlock) * n
		sp := getScratch(nb + hd*n + n)
		defer putScratch(sp)
		S, KT, ones := (*sp)[:nb], (*sp)[nb:nb+hd*n], fillOnes((*sp)[nb+hd*n:])
		transposeHead(KT, K[st*sh.ks:], n, sh.ks, g*hd, hd)
		for i0 := 0; i0 < n; i0 += attnBlock {
			i1 := min(i0+attnBlock, n)
			nq := i1 - i0
			qb := Q[(st+i0)*sh.qs+h*hd:]
			blockGemm(false, false, nq, i1, hd, scale, qb, sh.qs, KT, n, 0, S, i1)
			for r := 0; r < nq; r++ {
				row := S[r*i1 : (r+1)*i1]
				s := row[:i0+r+1]
				m := asm.Max(s)
				asm.Axpy(-m, ones[:len(s)], s) // s -= m, exactly
				asm.Exp(s, s)
				l := asm.Sum(s)
				asm.Scale(1/l, s)
				clear(row[i0+r+1:]) // the causal mask
				L[(st+i0+r)*heads+h] = m + float32(math.Log(float64(l)))
			}
			blockGemm(false, false, nq, hd, i1, 1, S, i1, Vs, sh.ks, 0, O[(st+i0)*sh.qs+h*hd:], sh.qs)
		}
	})
}

// AttentionBackward implements backend.Backend; dq has q's shape, dk and dv
// have k's. Probabilities are recomputed from lse, flash-attention style,
// one block of attnBlock query rows at a time: with P = exp(scale*Q*K^T -
// lse) (causally masked), dP = dO*V^T, D = rowsum(dO*O) and
// dS = P*(dP - D)*scale:
//
//	dQ = dS*K;  dK += dS^T*Q;  dV += P^T*dO
//
// Pieces are (sequence, head) pairs. With grouped-query attention several
// heads feed one kv head, so each piece accumulates its dk and dv into its
// own head's slot of a scratch (T, heads, headDim) pair, and a second pass
// sums the slots of a group in head order: no piece races another and the
// sums do not depend on the thread count.
func (c *CPU) AttentionBackward(dq, dk, dv, dout, q, k, v, out, lse backend.View, seqs []backend.Seq, heads, kvHeads, headDim int, scale float32) {
	sh := checkAttention(seqs, heads, kvHeads, headDim)
	if sh.T == 0 {
		return
	}
	T, hd := sh.T, headDim
	DQ, DK, DV := slice(dq, T*sh.qs), slice(dk, T*sh.ks), slice(dv, T*sh.ks)
	DO, O, L := slice(dout, T*sh.qs), slice(out, T*sh.qs), slice(lse, T*heads)
	Q, K, V := slice(q, T*sh.qs), slice(k, T*sh.ks), slice(v, T*sh.ks)

	// Per-head gradient rows for k and v, row stride gs, head h at column
	// h*hd: the outputs themselves when each kv head has one query head
	// (then h is the kv head), else the scratch described above.
	gK, gV, gs := DK, DV, sh.ks
	if sh.group > 1 {
		gK, gV, gs = make([]float32, T*sh.qs), make([]float32, T*sh.qs), sh.qs
	}

	pieces := attnPieces(seqs, heads)
	c.pool.run(len(pieces), func(pi int) {
		p := pieces[pi]
		h, g := p.head, p.head/sh.group
		st, n := p.seq.Start, p.seq.Len
		col := h * hd
		for t := st; t < st+n; t++ {
			clear(gK[t*gs+col : t*gs+col+hd])
			clear(gV[t*gs+col : t*gs+col+hd])
		}
		Ks := K[st*sh.ks+g*hd:]
		gKs, gVs := gK[st*gs+col:], gV[st*gs+col:]
		nb := min(n, attnBlock) * n
		sp := getScratch(2*nb + 2*hd*n + n)
		defer putScratch(sp)
		P, dS, KT, VT := (*sp)[:nb], (*sp)[nb:2*nb], (*sp)[2*nb:2*nb+hd*n], (*sp)[2*nb+hd*n:2*nb+2*hd*n]
		ones := fillOnes((*sp)[2*nb+2*hd*n:])
		transposeHead(KT, K[st*sh.ks:], n, sh.ks, g*hd, hd)
		transposeHead(VT, V[st*sh.ks:], n, sh.ks, g*hd, hd)
		for i0 := 0; i0 < n; i0 += attnBlock {
			i1 := min(i0+attnBlock, n)
			nq := i1 - i0
			qb, dob := Q[(st+i0)*sh.qs+h*hd:], DO[(st+i0)*sh.qs+h*hd:]
			blockGemm(false, false, nq, i1, hd, scale, qb, sh.qs, KT, n, 0, P, i1)
			blockGemm(false, false, nq, i1, hd, 1, dob, sh.qs, VT, n, 0, dS, i1)
			for r := 0; r < nq; r++ {
				t := st + i0 + r
				o := t*sh.qs + h*hd
				D := asm.Dot(DO[o:o+hd], O[o:o+hd])
				li := L[t*heads+h]
				pr, dr := P[r*i1:(r+1)*i1], dS[r*i1:(r+1)*i1]
				s := pr[:i0+r+1]
				asm.Axpy(-li, ones[:len(s)], s) // s -= li, exactly
				asm.Exp(s, s)
				// dr = p*(dr - D)*scale in that order, in kernels.
				d := dr[:len(s)]
				asm.Axpy(-D, ones[:len(s)], d)
				asm.Mul(d, d, s)
				asm.Scale(scale, d)
				clear(pr[i0+r+1:]) // the causal mask
				clear(dr[i0+r+1:])
			}
			blockGemm(false, false, nq, hd, i1, 1, dS, i1, Ks, sh.ks, 0, DQ[(st+i0)*sh.qs+h*hd:], sh.qs)
			blockGemm(true, false, i1, hd, nq, 1, dS, i1, qb, sh.qs, 1, gKs, gs)
			blockGemm(true, false, i1, hd, nq, 1, P, i1, dob, sh.qs, 1, gVs, gs)
		}
	})
	if sh.group == 1 {
		return
	}
	c.pool.chunks(T, rowGrain(sh.qs), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			for g := 0; g < kvHeads; g++ {
				dst := t*sh.ks + g*hd
				src := t*sh.qs + g*sh.group*hd
				copy(DK[dst:dst+hd], gK[src:src+hd])
				copy(DV[dst:dst+hd], gV[src:src+hd])
				for e := 1; e < sh.group; e++ {
					asm.Add(DK[dst:dst+hd], DK[dst:dst+hd], gK[src+e*hd:src+(e+1)*hd])
					asm.Add(DV[dst:dst+hd], DV[dst:dst+hd], gV[src+e*hd:src+(e+1)*hd])
				}
			}
		}
	})
}
