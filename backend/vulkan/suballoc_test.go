package vulkan

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRangeAllocReuseAndCoalesce(t *testing.T) {
	r := newRangeAlloc(1024)
	a, ok := r.alloc(256, 64)
	require.True(t, ok)
	b, _ := r.alloc(256, 64)
	c, _ := r.alloc(256, 64)
	assert.Equal(t, []uint64{0, 256, 512}, []uint64{a, b, c})
	r.release(b, 256)
	// A smaller buffer goes into the hole (best fit), not the tail.
	d, ok := r.alloc(128, 64)
	require.True(t, ok)
	assert.Equal(t, uint64(256), d)
	// Freed ranges merge with both neighbours.
	r.release(a, 256)
	r.release(c, 256)
	r.release(d, 128)
	assert.True(t, r.empty())
	assert.Equal(t, []freeRange{{0, 1024}}, r.free)
	_, ok = r.alloc(1024, 64)
	assert.True(t, ok, "the whole block is one range again")
	_, ok = r.alloc(4, 4)
	assert.False(t, ok, "a full block refuses")
}

func TestRangeAllocAlignment(t *testing.T) {
	r := newRangeAlloc(4096)
	x, _ := r.alloc(12, 4)
	y, ok := r.alloc(100, 256)
	require.True(t, ok)
	assert.Equal(t, uint64(0), x)
	assert.Equal(t, uint64(256), y)
	// The gap before the aligned range stays free.
	z, ok := r.alloc(200, 4)
	require.True(t, ok)
	assert.Equal(t, uint64(12), z)
}

func TestRangeAllocRejectsDoubleRelease(t *testing.T) {
	r := newRangeAlloc(1024)
	x, _ := r.alloc(64, 64)
	r.release(x, 64)
	assert.Panics(t, func() { r.release(x, 64) })
}

// TestRangeAllocFragmentation allocates and frees at random against a
// model of which bytes are taken: ranges never overlap, stay in the
// block, and after freeing everything the block is one range again.
func TestRangeAllocFragmentation(t *testing.T) {
	const size = 1 << 16
	r := newRangeAlloc(size)
	rng := rand.New(rand.NewPCG(1, 2))
	taken := make([]bool, size)
	type live struct{ off, size uint64 }
	var lives []live
	for step := 0; step < 5000; step++ {
		if len(lives) > 0 && rng.IntN(2) == 0 {
			i := rng.IntN(len(lives))
			l := lives[i]
			r.release(l.off, l.size)
			for j := l.off; j < l.off+l.size; j++ {
				taken[j] = false
			}
			lives = append(lives[:i], lives[i+1:]...)
			continue
		}
		n := uint64(1+rng.IntN(64)) * 16
		off, ok := r.alloc(n, 64)
		if !ok {
			continue
		}
		require.Zero(t, off%64)
		require.LessOrEqual(t, off+n, uint64(size))
		for j := off; j < off+n; j++ {
			require.False(t, taken[j], "byte %d handed out twice", j)
			taken[j] = true
		}
		lives = append(lives, live{off, n})
		for i := 1; i < len(r.free); i++ {
			require.Less(t, r.free[i-1].off+r.free[i-1].size, r.free[i].off, "free ranges sorted and coalesced")
		}
	}
	for _, l := range lives {
		r.release(l.off, l.size)
	}
	assert.True(t, r.empty())
	assert.Equal(t, []freeRange{{0, size}}, r.free)
}
