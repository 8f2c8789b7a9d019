//go:build vulkan && cgo

package vulkan

import (
	"fmt"
	"slices"

	"github.com/goarpo/arpo/backend"
)

// tableRows is the number of whole rows of width dim the view reaches.
func (b *Backend) tableRows(v backend.View, dim int) int {
	x := b.buffer(v.Buf)
	return (x.n - v.Off) / dim
}

// checkIDs panics on an id outside [0, rows): a programming error.
func checkIDs(ids []int32, rows int) {
	for i, id := range ids {
		if id < 0 || int(id) >= rows {
			panic(fmt.Sprintf("vulkan: id %d at %d is outside a table of %d rows", id, i, rows))
		}
	}
}

// Embedding implements backend.Backend; out is (len(ids), dim), table is
// (rows, dim).
func (b *Backend) Embedding(out, table backend.View, ids []int32, dim int) {
	if len(ids) == 0 || dim <= 0 {
		return
	}
	b.op()
	rows := b.tableRows(table, dim)
	checkIDs(ids, rows)
	total := len(ids) * dim
	ob, oo := b.view(out, total, true)
	tb, to := b.view(table, rows*dim, false)
	ib, ok := b.stageInts(ids)
	if !ok {
		return
	}
	b.dispatch("embedding", []binding{ob, tb, ib}, []uint32{uint32(total), uint32(dim), oo, to, 0}, groups(total, 256), 1)
}

// EmbeddingBackward implements backend.Backend; dtable is (rows, dim) and
// accumulates, dout is (len(ids), dim). The positions are grouped by id on
// the host (a stable sort); one invocation per (id, column) adds its rows
// in position order, as the CPU backend does.
func (b *Backend) EmbeddingBackward(dtable, dout backend.View, ids []int32, dim int) {
	if len(ids) == 0 || dim <= 0 {
		return
	}
	b.op()
	rows := b.tableRows(dtable, dim)
	checkIDs(ids, rows)
	order := make([]int32, len(ids))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(x, y int32) int { return int(ids[x]) - int(ids[y]) })
	var uniq, starts []int32
	for i, p := range order {
		if i == 0 || ids[p] != ids[order[i-1]] {
			uniq = append(uniq, ids[p])
			starts = append(starts, int32(i))
		}
	}
	starts = append(starts, int32(len(order)))
	info := slices.Concat(uniq, starts, order)
	runs := len(uniq)
	total := runs * dim
	db, do := b.view(dtable, rows*dim, true)
	gb, gOff := b.view(dout, len(ids)*dim, false)
	ib, ok := b.stageInts(info)
	if !ok {
		return
	}
	b.dispatch("embedding_backward", []binding{db, gb, ib}, []uint32{uint32(total), uint32(dim), do, gOff,
		0, uint32(runs), uint32(2*runs + 1)}, groups(total, 256), 1)
}

// ScatterRows implements backend.Backend; src is (len(rows), width), dst
// has at least max(rows)+1 rows. When rows repeats a destination the last
// source row wins, as on the CPU.
func (b *Backend) ScatterRows(dst, src backend.View, rows []int32, width int) {
	if width <= 0 || len(rows) == 0 {
		return
	}
	b.op()
	dstRows := b.tableRows(dst, width)
	pairs := scatterPairs("ScatterRows", rows, dstRows)
	np := len(pairs) / 2
	total := np * width
	db, do := b.view(dst, dstRows*width, true)
	sb, so := b.view(src, len(rows)*width, false)
	ib, ok := b.stageInts(pairs)
	if !ok {
		return
	}
	b.dispatch("scatter_rows", []binding{db, sb, ib}, []uint32{uint32(total), uint32(width), do, so, 0}, groups(total, 256), 1)
}

// scatterPairs checks the destination rows of a scatter into dstRows rows
// and returns (source row, destination row) pairs with each destination
// once, from the last source row that names it (the one that wins on the
// CPU), so that no two invocations write one element.
func scatterPairs(op string, rows []int32, dstRows int) []int32 {
	last := map[int32]int{}
	for i, r := range rows {
		if r < 0 || int(r) >= dstRows {
			panic(fmt.Sprintf("vulkan: %s row %d at %d is outside a destination of %d rows", op, r, i, dstRows))
		}
		last[r] = i
	}
	pairs := make([]int32, 0, 2*len(last))
	for i, r := range rows {
		if last[r] == i {
			pairs = append(pairs, int32(i), r)
		}
	}
	return pairs
}
