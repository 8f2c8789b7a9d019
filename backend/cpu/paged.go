package cpu

import (
	"fmt"

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

// ScatterRowsBF16 implements backend.BF16KV: row i of src, rounded to
// bf16, goes to row rows[i] of the bf16 buffer dst.
func (c *CPU) ScatterRowsBF16(dst, src backend.View, rows []int32, width int) {
	if width <= 0 {
		return
	}
	if width%2 != 0 || dst.Off%2 != 0 {
		panic(fmt.Sprintf("cpu: ScatterRowsBF16 width %d and offset %d must be even", width, dst.Off))
	}
	d := bf16Data(dst)
	s := slice(src, len(rows)*width)
	for i, r := range rows {
		asm.F32ToBF16(d[int(r)*width:int(r+1)*width], s[i*width:(i+1)*width])
	}
}

// CopyBF16 implements backend.BF16KV.
func (c *CPU) CopyBF16(dst, src backend.View, n int) {
	copy(sliceBF16(dst, n), sliceBF16(src, n))
}

// bf16Data returns a bf16 view's elements from its offset to the end of
// its buffer.
func bf16Data(v backend.View) []uint16 {
	b, ok := v.Buf.(*BF16Buffer)
	if !ok {
		panic(fmt.Sprintf("cpu: a bf16 cache op got a %T, not a bf16 buffer", v.Buf))
	}
	return b.data[v.Off:]
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
	kc := kCache.Buf.(*Buffer).data[kCache.Off:]
	vc := vCache.Buf.(*Buffer).data[vCache.Off:]
	c.pagedAttention(out, q, kvCache{k: kc, v: vc}, seqs, blockSize, heads, kvHeads, headDim, scale)
}

// PagedAttentionBF16 implements backend.BF16KV: PagedAttention with the
// bf16 forms of its row kernels (asm.DotRowsBF16, asm.AxpyRowsBF16), which
// widen the cache as they load it (bf16 to float32 is exact) and keep the
// float32 kernels' order, so the bits are PagedAttention's on the widened
// cache, and a decode step reads half the cache bytes.
func (c *CPU) PagedAttentionBF16(out, q, kCache, vCache backend.View, seqs []backend.PagedSeq, blockSize, heads, kvHeads, headDim int, scale float32) {
	kc := bf16Data(kCache)
	vc := bf16Data(vCache)
	c.pagedAttention(out, q, kvCache{k16: kc, v16: vc}, seqs, blockSize, heads, kvHeads, headDim, scale)
}

// kvCache is a paged cache's keys and values, float32 (k, v) or bf16
// (k16, v16), from the start of the op's views.
type kvCache struct {
	k, v     []float32
	k16, v16 []uint16
}

// dotRows is asm.DotRows (or DotRowsBF16) of q with len(out) key rows
// from element at of the cache, ld apart.
func (kv kvCache) dotRows(out, q []float32, at, ld int) {
	if kv.k16 != nil {
		asm.DotRowsBF16(out, q, kv.k16[at:], ld)
		return
	}
	asm.DotRows(out, q, kv.k[at:], ld)
}

// axpyRows is asm.AxpyRows (or AxpyRowsBF16) of p with len(p) value rows
// from element at of the cache, ld apart.
func (kv kvCache) axpyRows(out, p []float32, at, ld int) {
	if kv.v16 != nil {
		asm.AxpyRowsBF16(out, p, kv.v16[at:], ld)
		return
	}
	asm.AxpyRows(out, p, kv.v[at:], ld)
}

// prefetch asks the CPU to load n cache rows of keys (or values) from
// element at, ld apart, w elements each: the next block of a sequence,
// while the current one is computed. Blocks of one sequence lie apart in
// the cache, and a row's columns for one piece are a short piece of a
// long row, a pattern the CPU's own prefetchers do not follow.
func (kv kvCache) prefetch(values bool, at, n, ld, w int) {
	elem := 4
	if kv.k16 != nil {
		elem = 2
	}
	if n*w*elem > pagedPrefetchMax {
		return
	}
	for i := range n {
		r := at + i*ld
		switch {
		case values && kv.v16 != nil:
			asm.PrefetchBF16(kv.v16[r : r+w])
		case values:
			asm.PrefetchF32(kv.v[r : r+w])
		case kv.k16 != nil:
			asm.PrefetchBF16(kv.k16[r : r+w])
		default:
			asm.PrefetchF32(kv.k[r : r+w])
		}
	}
}

// pagedPrefetchMax bounds the bytes of a block prefetch: a block larger
// than about half an L1 data cache (32-48 KiB here) would evict the block
// being computed. Measured on BenchmarkPagedAttentionDecode: the Llama 3
// 8B shape's float32 blocks (64 KiB a piece) ran 4-10% slower prefetched,
// its bf16 blocks (32 KiB) 1.2x faster on one thread.
const pagedPrefetchMax = 32 << 10

func (c *CPU) pagedAttention(out, q backend.View, kv kvCache, seqs []backend.PagedSeq, blockSize, heads, kvHeads, headDim int, scale float32) {
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
			pagedScores(sc, qr, kv, s.Blocks, blockSize, kw, kv0*D, group, D)
			for h := 0; h < nh; h++ {
				asm.Scale(scale, sc[h*ctx:(h+1)*ctx])
				asm.Softmax(sc[h*ctx:(h+1)*ctx], sc[h*ctx:(h+1)*ctx])
			}
			pagedValues(or, sc, kv, s.Blocks, blockSize, kw, kv0*D, group, D)
		}
	})
}

// pagedScores sets sc (nh, ctx) to the dot products of the query heads q
// (nh, D) with the keys at positions [0, ctx) of a sequence with block
// table blocks; query head h uses the D floats at column col+(h/group)*D of
// the cache rows, kw floats wide. Each score is its own dot, so neither the
// runs of consecutive blocks nor the loop order change any bit.
func pagedScores(sc, q []float32, kv kvCache, blocks []int32, blockSize, kw, col, group, D int) {
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
		if e < nb {
			kv.prefetch(false, int(blocks[e])*blockSize*kw+col, min(blockSize, ctx-e*blockSize), kw, nh/group*D)
		}
		for h := 0; h < nh; h++ {
			kv.dotRows(sc[h*ctx+p0:h*ctx+p0+n], q[h*D:(h+1)*D], base+h/group*D, kw)
		}
		b = e
	}
}

// pagedValues sets o (nh, D) to the probabilities p (nh, ctx) times the
// values, laid out as the keys of pagedScores. It goes a block at a time,
// always: AxpyRows's order depends on its lengths, and block boundaries are
// the same for every layout of the cache.
func pagedValues(o, p []float32, kv kvCache, blocks []int32, blockSize, kw, col, group, D int) {
	nh := len(o) / D
	ctx := len(p) / nh
	clear(o)
	for p0 := 0; p0 < ctx; p0 += blockSize {
		n := min(blockSize, ctx-p0)
		base := int(blocks[p0/blockSize])*blockSize*kw + col
		if next := p0 + blockSize; next < ctx {
			kv.prefetch(true, int(blocks[next/blockSize])*blockSize*kw+col, min(blockSize, ctx-next), kw, nh/group*D)
		}
		for h := 0; h < nh; h++ {
			kv.axpyRows(o[h*D:(h+1)*D], p[h*ctx+p0:h*ctx+p0+n], base+h/group*D, kw)
		}
	}
}
