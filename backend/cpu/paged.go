package cpu

import (
	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
)

// ScatterRows implements backend.Backend: dst[rows[i]] = src[i]; src is
// (len(rows), width).
func (c *CPU) ScatterRows(dst, src backend.View, rows []int32, width int) {
	if width <= 0 {
		return
	}
	d := dst.Buf.(*Buffer).data[dst.Off:]
	s := slice(src, len(rows)*width)
	for i, r := range rows {
		copy(d[int(r)*width:int(r+1)*width], s[i*width:(i+1)*width])
	}
}

// PagedAttention implements backend.Backend. Work is split into one piece per
// (sequence, key/value head): the query heads that share a key/value head
// (grouped-query attention) are scored together, a cache block at a time,
// with the small-matrix kernels of package asm. Each piece walks its blocks
// in position order, so the result does not depend on the thread count, and
// no row's result depends on the other rows of the call.
func (c *CPU) PagedAttention(out, q, kCache, vCache backend.View, seqs []backend.PagedSeq, blockSize, heads, kvHeads, headDim int, scale float32) {
	if len(seqs) == 0 {
		return
	}
	if heads%kvHeads != 0 {
		panic("cpu: PagedAttention heads must be a multiple of kvHeads")
	}
	qw, kw, D := heads*headDim, kvHeads*headDim, headDim
	rows := 0
	for _, s := range seqs {
		rows = max(rows, s.Row+s.N)
	}
	qs, os := slice(q, rows*qw), slice(out, rows*qw)
	kc := kCache.Buf.(*Buffer).data[kCache.Off:]
	vc := vCache.Buf.(*Buffer).data[vCache.Off:]
	group := heads / kvHeads
	c.pool.run(len(seqs)*kvHeads, func(piece int) {
		s, kvh := seqs[piece/kvHeads], piece%kvHeads
		ctxMax := s.Pos + s.N
		if (ctxMax+blockSize-1)/blockSize > len(s.Blocks) {
			panic("cpu: PagedAttention sequence longer than its block table")
		}
		scores := getScratch(group * ctxMax)
		defer putScratch(scores)
		for r := 0; r < s.N; r++ {
			ctx := s.Pos + r + 1
			sc := (*scores)[:group*ctx]
			qg := qs[(s.Row+r)*qw+kvh*group*D:]
			og := os[(s.Row+r)*qw+kvh*group*D : (s.Row+r)*qw+(kvh+1)*group*D]
			// Scores of the group's heads against each block of keys: sc is
			// (group, ctx); keys of one head sit kw apart in the cache.
			for p0 := 0; p0 < ctx; p0 += blockSize {
				n := min(blockSize, ctx-p0)
				base := (int(s.Blocks[p0/blockSize])*blockSize)*kw + kvh*D
				asm.SgemmDots(group, n, D, scale, qg, D, kc[base:], kw, 0, sc[p0:], ctx, 1)
			}
			for h := 0; h < group; h++ {
				asm.Softmax(sc[h*ctx:(h+1)*ctx], sc[h*ctx:(h+1)*ctx])
			}
			// out (group, D) = P (group, ctx) x V (ctx, D), block by block.
			for p0 := 0; p0 < ctx; p0 += blockSize {
				n := min(blockSize, ctx-p0)
				base := (int(s.Blocks[p0/blockSize])*blockSize)*kw + kvh*D
				beta := float32(1)
				if p0 == 0 {
					beta = 0
				}
				asm.SgemmRows(group, D, n, 1, sc[p0:], ctx, 1, vc[base:], kw, beta, og, D)
			}
		}
	})
}
