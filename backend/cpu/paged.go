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

// PagedAttention implements backend.Backend. Each query row and head is
// computed on its own: scores against the row's keys (asm.DotRows over runs
// of consecutive cache rows), scale, softmax, then the probabilities times
// the values (asm.AxpyRows, a block at a time). Every step has a fixed order
// given by the row's own context length and the block size, so the result
// does not depend on the thread count, on the other rows of the call, on how
// the work is split, or on where the blocks sit in the cache.
//
// Work is split into pieces of (sequence, run of key/value heads). Within a
// piece the heads are walked inside each block, so that the piece reads
// each block's rows in one dense sweep (a head alone uses headDim floats of
// each row): with a cache larger than the CPU caches, scattered short reads
// are what costs. A batch gives one piece per sequence; a lone sequence one
// per key/value head, so that threads still have pieces to share.
func (c *CPU) PagedAttention(out, q, kCache, vCache backend.View, seqs []backend.PagedSeq, blockSize, heads, kvHeads, headDim int, scale float32) {
	if len(seqs) == 0 {
		return
	}
	if heads%kvHeads != 0 {
		panic("cpu: PagedAttention heads must be a multiple of kvHeads")
	}
	qw, kw, D := heads*headDim, kvHeads*headDim, headDim
	rows, work := 0, 0
	for _, s := range seqs {
		rows = max(rows, s.Row+s.N)
		work += s.N * (s.Pos + (s.N+1)/2) // keys scored per query head, about
	}
	work *= 2 * heads * headDim // a dot and an axpy per key
	qs, os := slice(q, rows*qw), slice(out, rows*qw)
	kc := kCache.Buf.(*Buffer).data[kCache.Off:]
	vc := vCache.Buf.(*Buffer).data[vCache.Off:]
	group := heads / kvHeads
	split := 1 // pieces per sequence
	if len(seqs) < 2*c.pool.threads {
		split = kvHeads
	}
	per := kvHeads / split // key/value heads per piece
	c.pool.runWork(len(seqs)*split, work, func(piece int) {
		s, kv0 := seqs[piece/split], piece%split*per
		ctxMax := s.Pos + s.N
		if (ctxMax+blockSize-1)/blockSize > len(s.Blocks) {
			panic("cpu: PagedAttention sequence longer than its block table")
		}
		h0, nh := kv0*group, per*group // query heads [h0, h0+nh)
		scores := getScratch(nh * ctxMax)
		defer putScratch(scores)
		for r := 0; r < s.N; r++ {
			ctx := s.Pos + r + 1
			sc := (*scores)[:nh*ctx] // (nh, ctx)
			qr := qs[(s.Row+r)*qw+h0*D : (s.Row+r)*qw+(h0+nh)*D]
			or := os[(s.Row+r)*qw+h0*D : (s.Row+r)*qw+(h0+nh)*D]
			pagedScores(sc, qr, kc, s.Blocks, blockSize, kw, kv0*D, group, D)
			for h := 0; h < nh; h++ {
				asm.Scale(scale, sc[h*ctx:(h+1)*ctx])
				asm.Softmax(sc[h*ctx:(h+1)*ctx], sc[h*ctx:(h+1)*ctx])
			}
			pagedValues(or, sc, vc, s.Blocks, blockSize, kw, kv0*D, group, D)
		}
	})
}

// pagedScores sets sc (nh, ctx) to the dot products of the query heads q
// (nh, D) with the keys at positions [0, ctx) of a sequence with block
// table blocks; query head h uses the D floats at column col+(h/group)*D of
// the cache rows, kw floats wide. Each score is its own dot, so neither the
// runs of consecutive blocks nor the loop order change any bit.
func pagedScores(sc, q, kc []float32, blocks []int32, blockSize, kw, col, group, D int) {
	nh := len(q) / D
	ctx := len(sc) / nh
	nb := (ctx + blockSize - 1) / blockSize
	for b := 0; b < nb; {
		e := b + 1
		for e < nb && blocks[e] == blocks[e-1]+1 {
			e++
		}
		p0 := b * blockSize
		n := min(e*blockSize, ctx) - p0
		base := int(blocks[b])*blockSize*kw + col
		for h := 0; h < nh; h++ {
			asm.DotRows(sc[h*ctx+p0:h*ctx+p0+n], q[h*D:(h+1)*D], kc[base+h/group*D:], kw)
		}
		b = e
	}
}

// pagedValues sets o (nh, D) to the probabilities p (nh, ctx) times the
// values, laid out as the keys of pagedScores. It goes a block at a time,
// always: AxpyRows's order depends on its lengths, and block boundaries are
// the same for every layout of the cache.
func pagedValues(o, p, vc []float32, blocks []int32, blockSize, kw, col, group, D int) {
	nh := len(o) / D
	ctx := len(p) / nh
	clear(o)
	for p0 := 0; p0 < ctx; p0 += blockSize {
		n := min(blockSize, ctx-p0)
		base := int(blocks[p0/blockSize])*blockSize*kw + col
		for h := 0; h < nh; h++ {
			asm.AxpyRows(o[h*D:(h+1)*D], p[h*ctx+p0:h*ctx+p0+n], vc[base+h/group*D:], kw)
		}
	}
}
