package cpu

import (
	"fmt"
	"slices"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
)

// tableRows returns how many rows of dim elements the view holds, for
// range-checking token ids with a clear message.
func tableRows(table backend.View, dim int) int {
	return (table.Buf.Len() - table.Off) / dim
}

// checkIDs panics on an id outside [0, rows): a programming error of the
// caller (the tokenizer and model disagree on the vocabulary).
func checkIDs(ids []int32, rows int) {
	for i, id := range ids {
		if id < 0 || int(id) >= rows {
			panic(fmt.Sprintf("cpu: token id %d at %d is outside the table's %d rows", id, i, rows))
		}
	}
}

// Embedding implements backend.Backend; table is (vocab, dim), out is
// (len(ids), dim).
func (c *CPU) Embedding(out, table backend.View, ids []int32, dim int) {
	if len(ids) == 0 || dim <= 0 {
		return
	}
	rows := tableRows(table, dim)
	checkIDs(ids, rows)
	o, t := slice(out, len(ids)*dim), slice(table, rows*dim)
	c.pool.chunks(len(ids), rowGrain(dim), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			id := int(ids[i])
			copy(o[i*dim:(i+1)*dim], t[id*dim:(id+1)*dim])
		}
	})
}

// EmbeddingBackward implements backend.Backend; dtable is (vocab, dim), dout
// is (len(ids), dim). The positions are grouped by id (a stable sort), and
// each id's rows are added in position order by one piece, so every dtable
// row gets the same sum as the serial loop, whatever the thread count.
func (c *CPU) EmbeddingBackward(dtable, dout backend.View, ids []int32, dim int) {
	if len(ids) == 0 || dim <= 0 {
		return
	}
	rows := tableRows(dtable, dim)
	checkIDs(ids, rows)
	dt, d := slice(dtable, rows*dim), slice(dout, len(ids)*dim)
	// order holds the positions sorted by (id, position); runs of one id are
	// contiguous in it.
	order := make([]int32, len(ids))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return int(ids[a]) - int(ids[b]) })
	var starts []int // start of each run in order, plus len(order)
	for i := range order {
		if i == 0 || ids[order[i]] != ids[order[i-1]] {
			starts = append(starts, i)
		}
	}
	starts = append(starts, len(order))
	runs := len(starts) - 1
	c.pool.chunks(runs, rowGrain(dim), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for _, p := range order[starts[r]:starts[r+1]] {
				id := int(ids[p])
				row := dt[id*dim : (id+1)*dim]
				asm.Add(row, row, d[int(p)*dim:(int(p)+1)*dim])
			}
		}
	})
}
