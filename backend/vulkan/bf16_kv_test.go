//go:build vulkan && cgo

package vulkan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/backendtest"
	"github.com/goarpo/arpo/backend/cpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBF16KV runs the conformance check of the bf16 KV cache (copies and
// scatters bit for bit, paged attention over bf16 caches bit for bit
// against PagedAttention over the widened float32 caches and near the CPU
// backend) with the split the backend chooses (none on a software driver)
// and with the keys split into forced chunks of 16 and 64.
func TestBF16KV(t *testing.T) {
	b := open(t)
	defer func() { b.pagedChunkForced = 0 }()
	for _, chunk := range []int{0, 16, 64} {
		b.pagedChunkForced = chunk
		t.Run(fmt.Sprint("chunk_", chunk), func(t *testing.T) { backendtest.RunBF16KV(t, b) })
	}
}

// newPagedBF16Case is a paged attention over bf16 caches at odd element
// offsets (3 and 1, so that rows start in the high half of a word), head
// dim 72 and grouped heads: decode rows with 300, 17 and 129 keys beside a
// prefill of 6 rows, over shuffled blocks of 8.
func newPagedBF16Case() (pagedShape, pagedData) {
	rng := rand.New(rand.NewPCG(19, 7))
	s := pagedShape{hd: 72, heads: 6, kvHeads: 2, blockSize: 8, kOff: 3, vOff: 1}
	const blocks = 80
	perm := rng.Perm(blocks)
	next := 0
	take := func(n int) []int32 {
		bs := make([]int32, n)
		for i := range bs {
			bs[i] = int32(perm[next])
			next++
		}
		return bs
	}
	d := pagedData{T: 9, seqs: []backend.PagedSeq{
		{Row: 0, N: 1, Pos: 299, Blocks: take(38)},
		{Row: 1, N: 1, Pos: 16, Blocks: take(3)},
		{Row: 2, N: 1, Pos: 128, Blocks: take(17)},
		{Row: 3, N: 6, Pos: 0, Blocks: take(1)},
	}}
	n := blocks * s.blockSize * s.kvHeads * s.hd
	d.k16, d.kWide = randBF16(rng, n, 2)
	d.v16, d.vWide = randBF16(rng, n, 1)
	d.q = make([]float32, d.T*s.heads*s.hd)
	for i := range d.q {
		d.q[i] = (2*rng.Float32() - 1) * 2
	}
	d.scale = float32(1 / math.Sqrt(float64(s.hd)))
	return s, d
}

// TestPagedAttentionBF16Split: over bf16 caches at odd offsets (head dim
// 72, grouped heads, decode rows of 17 to 300 keys beside a prefill),
// PagedAttentionBF16 gives the bits of PagedAttention over the widened
// float32 caches, unsplit and split into forced chunks of 16 and 64 keys
// (the split kernel and the combine are then the two dispatches of each
// call), and stays near the CPU backend.
func TestPagedAttentionBF16Split(t *testing.T) {
	b := open(t)
	defer func() { b.pagedChunkForced = 0 }()
	sh, c := newPagedBF16Case()
	want := c.run(t, cpu.New(1), sh, false)
	for _, chunk := range []int{0, 16, 64} {
		b.pagedChunkForced = chunk
		before, _, _ := b.Stats()
		got := c.run(t, b, sh, true)
		after, _, _ := b.Stats()
		wide := c.run(t, b, sh, false)
		if chunk > 0 {
			// Two dispatches besides the transfers: the split and the combine.
			assert.Equal(t, 2, after-before, "chunk %d: dispatches of PagedAttentionBF16", chunk)
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(wide[i]) {
				t.Fatalf("chunk %d: element %d is %v over the bf16 cache, %v over the widened float32 cache", chunk, i, got[i], wide[i])
			}
		}
		require.NoError(t, backendtest.Compare(got, want, 1e-4), "chunk %d against the cpu backend", chunk)
	}
}

// TestBF16KVProfileKinds: the profile names the dispatches that read a
// bf16 cache apart from the float32 ones (the combine is shared), and the
// bf16 copy and scatter by their shaders.
func TestBF16KVProfileKinds(t *testing.T) {
	b := open(t)
	if b.d.timestampBits == 0 {
		t.Skip("the device has no timestamps on its compute queue")
	}
	defer func() { b.pagedChunkForced = 0 }()
	sh, c := newPagedBF16Case()
	require.NoError(t, b.SetProfile(true))
	defer func() { require.NoError(t, b.SetProfile(false)) }()
	soft := b.software
	defer func() { b.software = soft }()
	for _, split := range []bool{false, true} {
		// Unsplit: as on a software driver; split: chunks of 16 keys.
		b.software, b.pagedChunkForced = !split, 16*int(b2u(split))
		c.run(t, b, sh, true)
		c.run(t, b, sh, false)
	}
	dst, src := b.AllocBF16(64), b.Alloc(64)
	defer b.Free(dst)
	defer b.Free(src)
	b.ScatterRowsBF16(backend.Whole(dst), backend.Whole(src), []int32{1}, 32)
	b.CopyBF16(backend.Whole(dst).At(1), backend.Whole(dst).At(33), 31)
	require.NoError(t, b.Sync())
	got := map[string]int{}
	for _, o := range b.Profile() {
		got[o.Kind] = o.Count
	}
	assert.Equal(t, map[string]int{
		"paged_attention_bf16": 1, "paged_attention_split_bf16": 1,
		"paged_attention": 1, "paged_attention_split": 1, "paged_attention_combine": 2,
		"scatter_rows_bf16": 1, "copy_bf16": 1,
	}, got)
}

// TestScatterRowsBF16Panics: an odd width or destination offset (bf16
// pairs would be split between invocations) and a row outside the
// destination are programming errors that panic with a clear message.
func TestScatterRowsBF16Panics(t *testing.T) {
	b := open(t)
	dst, src := b.AllocBF16(64), b.Alloc(64)
	defer b.Free(dst)
	defer b.Free(src)
	assert.PanicsWithValue(t, "vulkan: ScatterRowsBF16 with width 3 at destination element 0; both must be even (two bf16 share a word)", func() {
		b.ScatterRowsBF16(backend.Whole(dst), backend.Whole(src), []int32{0}, 3)
	})
	assert.PanicsWithValue(t, "vulkan: ScatterRowsBF16 with width 4 at destination element 1; both must be even (two bf16 share a word)", func() {
		b.ScatterRowsBF16(backend.Whole(dst).At(1), backend.Whole(src), []int32{0}, 4)
	})
	assert.PanicsWithValue(t, "vulkan: ScatterRowsBF16 row 16 at 1 is outside a destination of 16 rows", func() {
		b.ScatterRowsBF16(backend.Whole(dst), backend.Whole(src), []int32{0, 16}, 4)
	})
	require.NoError(t, b.Sync())
}

// TestCopyBF16Large: copies over many work groups at every parity of the
// offsets, and a block copy within one buffer (what forking a cached
// sequence does), leave every element outside the destination as it was.
func TestCopyBF16Large(t *testing.T) {
	b := open(t)
	rng := rand.New(rand.NewPCG(19, 8))
	const size = 6000
	bits := func() []uint16 {
		x := make([]uint16, size)
		for i := range x {
			x[i] = uint16(rng.Uint32())
		}
		return x
	}
	src, dst := b.AllocBF16(size), b.AllocBF16(size)
	defer b.Free(src)
	defer b.Free(dst)
	for _, c := range []struct{ dOff, sOff, n int }{{0, 0, 5000}, {1, 4, 5001}, {2, 3, 4998}, {3, 1, 5997}} {
		s, d := bits(), bits()
		b.WriteBF16(backend.Whole(src), s)
		b.WriteBF16(backend.Whole(dst), d)
		b.CopyBF16(backend.Whole(dst).At(c.dOff), backend.Whole(src).At(c.sOff), c.n)
		want := append([]uint16(nil), d...)
		copy(want[c.dOff:c.dOff+c.n], s[c.sOff:c.sOff+c.n])
		assert.Equal(t, want, readBF16(t, b, backend.Whole(dst), size), "%+v", c)
	}
	d := bits()
	b.WriteBF16(backend.Whole(dst), d)
	b.CopyBF16(backend.Whole(dst).At(4096), backend.Whole(dst).At(1024), 1024)
	want := append([]uint16(nil), d...)
	copy(want[4096:5120], d[1024:2048])
	assert.Equal(t, want, readBF16(t, b, backend.Whole(dst), size), "within one buffer")
}

// randBF16 returns n values uniform in [-scale, scale) rounded to bf16, as
// bf16 bits and widened back to float32: a bf16 cache and the float32
// cache holding the same values.
func randBF16(rng *rand.Rand, n int, scale float32) ([]uint16, []float32) {
	x := make([]float32, n)
	for i := range x {
		x[i] = (2*rng.Float32() - 1) * scale
	}
	h := make([]uint16, n)
	asm.F32ToBF16(h, x)
	asm.BF16ToF32(x, h)
	return h, x
}
