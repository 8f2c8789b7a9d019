//go:build vulkan && cgo

package vulkan

import (
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProfileCountsOpKinds: with timestamps on, each dispatch is counted
// under its kind (the tile shape for the tiled GEMM), across batches; off
// again, nothing is recorded.
func TestProfileCountsOpKinds(t *testing.T) {
	b := open(t)
	if b.d.timestampBits == 0 {
		t.Skip("the device has no timestamps on its compute queue")
	}
	soft := b.software
	b.software = false
	defer func() { b.software = soft }()
	require.NoError(t, b.SetProfile(true))
	const m, n, k = 40, 40, 24
	a, w, c := b.Alloc(m*k), b.Alloc(n*k), b.Alloc(m*n)
	for range 3 {
		b.Fill(backend.Whole(a), 1, m*k)
		b.Gemm(false, true, m, n, k, 1, backend.Whole(a), k, backend.Whole(w), k, 0, backend.Whole(c), n)
		require.NoError(t, b.Sync())
	}
	got := map[string]int{}
	for _, o := range b.Profile() {
		got[o.Kind] = o.Count
		assert.GreaterOrEqual(t, int64(o.Time), int64(0))
	}
	assert.Equal(t, map[string]int{"fill": 3, "gemm_tiled/64x64": 3}, got)
	assert.Contains(t, b.ProfileTable(), "gemm_tiled/64x64")
	require.NoError(t, b.SetProfile(false))
	b.Fill(backend.Whole(a), 2, m*k)
	require.NoError(t, b.Sync())
	assert.Empty(t, b.Profile())
}
