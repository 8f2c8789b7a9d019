package cpu

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEmbedding(t *testing.T) {
	c := New(3)
	rng := newRNG(7)
	const vocab, dim = 11, 6
	table := randVec(rng, vocab*dim, 1)
	ids := []int32{3, 0, 10, 3, 3, 7}
	out := buf(make([]float32, len(ids)*dim))
	c.Embedding(out, buf(table), ids, dim)
	for i, id := range ids {
		require.Equal(t, table[int(id)*dim:int(id+1)*dim], data(out)[i*dim:(i+1)*dim], "row %d", i)
	}

	// Backward accumulates into the table, summing repeated ids.
	dout := randVec(rng, len(ids)*dim, 1)
	dtable := buf(table)
	c.EmbeddingBackward(dtable, buf(dout), ids, dim)
	want := to64(table)
	for i, id := range ids {
		for j := 0; j < dim; j++ {
			want[int(id)*dim+j] += float64(dout[i*dim+j])
		}
	}
	requireClose(t, want, data(dtable), 1e-6, "embedding backward")
}

func TestEmbeddingBadID(t *testing.T) {
	c := New(1)
	table := buf(make([]float32, 4*2))
	out := buf(make([]float32, 2))
	require.Panics(t, func() { c.Embedding(out, table, []int32{4}, 2) })
	require.Panics(t, func() { c.Embedding(out, table, []int32{-1}, 2) })
	require.Panics(t, func() { c.EmbeddingBackward(table, out, []int32{9}, 2) })
}
