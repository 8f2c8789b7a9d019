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
// (sequence, head); each piece walks its keys in position order, so the
// result does not depend on the thread count.
func (c *CPU) PagedAttention(out, q, kCache, vCache backend.View, seqs []backend.PagedSeq, blockSize, heads, kvHeads, headDim int, scale float32) {
	if len(seqs) == 0 {
		return
	}
	if heads%kvHeads != 0 {
		panic("cpu: PagedAttention heads must be a multiple of kvHeads")
	}
	qw, kw := heads*headDim, kvHeads*headDim
	rows := 0
	for _, s := range seqs {
		rows = max(rows, s.Row+s.N)
	}
	qs, os := slice(q, rows*qw), slice(out, rows*qw)
	kc := kCache.Buf.(*Buffer).data[kCache.Off:]
	vc := vCache.Buf.(*Buffer).data[vCache.Off:]
	group := heads / kvHeads
	c.pool.run(len(seqs)*heads, func(piece int) {
		s, h := seqs[piece/heads], piece%heads
		kvh := h / group
		ctx := s.Pos + s.N
		if (ctx+blockSize-1)/blockSize > len(s.Blocks) {
			panic("cpu: PagedAttention sequence longer than its block table")
		}
		scores := make([]float32, ctx)
		// rowOf maps a position to its cache row's key/value offset.
		rowOf := func(p int) int {
			return (int(s.Blocks[p/blockSize])*blockSize+p%blockSize)*kw + kvh*headDim
		}
		for r := 0; r < s.N; r++ {
			qr := qs[(s.Row+r)*qw+h*headDim : (s.Row+r)*qw+(h+1)*headDim]
			n := s.Pos + r + 1
			sc := scores[:n]
			for p := 0; p < n; p++ {
				o := rowOf(p)
				sc[p] = scale * asm.Dot(qr, kc[o:o+headDim])
			}
			asm.Softmax(sc, sc)
			or := os[(s.Row+r)*qw+h*headDim : (s.Row+r)*qw+(h+1)*headDim]
			clear(or)
			for p := 0; p < n; p++ {
				o := rowOf(p)
				asm.Axpy(sc[p], vc[o:o+headDim], or)
			}
		}
	})
}
