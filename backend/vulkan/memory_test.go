//go:build vulkan && cgo

package vulkan

import (
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSubAllocation: many buffers share one memory block without touching
// each other's data, a freed range is reused once the queued work is done,
// and a buffer over a quarter of a block gets a block of its own, released
// with it.
func TestSubAllocation(t *testing.T) {
	b := open(t)
	blocks0, _, used0 := b.MemoryStats()
	var bufs []backend.Buffer
	for i := range 300 {
		x := b.Alloc(1 + i%37)
		b.Fill(backend.Whole(x), float32(i), x.Len())
		bufs = append(bufs, x)
	}
	blocks, _, used := b.MemoryStats()
	assert.Equal(t, max(blocks0, 1), blocks, "300 small buffers fit one block")
	assert.Greater(t, used, used0)
	for i, x := range bufs {
		got := read(t, b, backend.Whole(x), x.Len())
		for j, v := range got {
			require.Equal(t, float32(i), v, "buffer %d element %d", i, j)
		}
	}

	// Free one in the middle; after the batch completes its range is
	// reused by the next buffer of the same size, which Alloc zeroes.
	mid := bufs[150].(*Buffer)
	base := mid.base
	b.Free(mid)
	require.NoError(t, b.Sync())
	y := b.Alloc(mid.n).(*Buffer)
	assert.Equal(t, base, y.base, "the freed range is reused")
	assert.Equal(t, make([]float32, y.n), read(t, b, backend.Whole(y), y.n))
	assert.Equal(t, []float32{151}, read(t, b, backend.Whole(bufs[151]), 1), "a neighbour is untouched")

	// A freed range is not reused before the work queued on it is done:
	// the Free is deferred while recording.
	z := b.Alloc(100).(*Buffer)
	b.Fill(backend.Whole(z), 7, 100)
	zb := z.base
	b.Free(z)
	w := b.Alloc(100).(*Buffer)
	assert.NotEqual(t, zb, w.base, "range reused while queued work may still touch it")

	big := b.Alloc(blockSize/16 + 1) // more than a quarter block of bytes
	blocksBig, _, _ := b.MemoryStats()
	assert.Equal(t, blocks+1, blocksBig)
	b.Free(big)
	require.NoError(t, b.Sync())
	blocksAfter, _, _ := b.MemoryStats()
	assert.Equal(t, blocks, blocksAfter, "a dedicated block is released with its buffer")

	for _, x := range append(bufs[:150], bufs[151:]...) {
		b.Free(x)
	}
	b.Free(y)
	b.Free(w)
	require.NoError(t, b.Sync())
	_, _, usedEnd := b.MemoryStats()
	assert.Equal(t, used0, usedEnd, "everything returned")
}
