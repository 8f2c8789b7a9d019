//go:build vulkan && cgo

package vulkan

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/backendtest"
	"github.com/goarpo/arpo/backend/cpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vk "github.com/vulkan-go/vulkan"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = 2*rng.Float32() - 1
	}
	return x
}

func read(t *testing.T, b backend.Backend, v backend.View, n int) []float32 {
	t.Helper()
	x := make([]float32, n)
	require.NoError(t, b.Read(x, v))
	return x
}

func TestOpenRejectsBadDeviceIndex(t *testing.T) {
	open(t) // skips without a device
	_, err := Open(99)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "device index 99 out of range")
}

func TestRegisteredAsVulkan(t *testing.T) {
	open(t)
	b, err := backend.Open("vulkan", backend.Options{Device: 0})
	require.NoError(t, err)
	defer b.(*Backend).Close()
	assert.True(t, strings.HasPrefix(b.Name(), "vulkan ("), b.Name())
	for _, op := range backend.AllOps {
		assert.True(t, b.Supports(op), op)
	}
	assert.False(t, b.Supports("no_such_op"))
}

// TestBarriersOnlyBetweenDependentOps checks the hazard tracking: ops on
// disjoint data share an epoch, a read of just-written data gets a
// barrier, and nothing is submitted before Read.
func TestBarriersOnlyBetweenDependentOps(t *testing.T) {
	b := open(t)
	x, y := b.Alloc(1000), b.Alloc(1000)
	require.NoError(t, b.Sync())
	_, bar0, sub0 := b.Stats()
	b.Fill(backend.Whole(x), 1, 500)
	b.Fill(backend.Whole(x).At(500), 2, 500) // disjoint half of the same buffer
	b.Fill(backend.Whole(y), 3, 1000)
	_, bar1, sub1 := b.Stats()
	assert.Equal(t, bar0, bar1, "independent fills need no barrier")
	assert.Equal(t, sub0, sub1, "nothing is submitted before a read")
	b.Add(backend.Whole(y), backend.Whole(x), backend.Whole(y), 1000) // reads both
	_, bar2, _ := b.Stats()
	assert.Equal(t, bar1+1, bar2)
	got := read(t, b, backend.Whole(y), 1000)
	assert.Equal(t, float32(4), got[0])
	assert.Equal(t, float32(5), got[999])
	_, _, sub3 := b.Stats()
	assert.Equal(t, sub1+1, sub3)
}

// TestWriteIsOrderedWithQueuedOps: a Write after a queued op that reads the
// same buffer must not change what that op sees.
func TestWriteIsOrderedWithQueuedOps(t *testing.T) {
	b := open(t)
	x, y := b.Alloc(4), b.Alloc(4)
	b.Write(backend.Whole(x), []float32{1, 2, 3, 4})
	b.Copy(backend.Whole(y), backend.Whole(x), 4)
	b.Write(backend.Whole(x), []float32{9, 9, 9, 9})
	assert.Equal(t, []float32{1, 2, 3, 4}, read(t, b, backend.Whole(y), 4))
	assert.Equal(t, []float32{9, 9, 9, 9}, read(t, b, backend.Whole(x), 4))
	b.Free(x)
	b.Free(y)
	require.NoError(t, b.Sync())
}

// TestDeterministic: the same ops on the same inputs give bitwise equal
// results.
func TestDeterministic(t *testing.T) {
	b := open(t)
	rng := rand.New(rand.NewPCG(1, 2))
	const m, n, k, T, heads, hd = 70, 90, 130, 80, 4, 32
	run := func() ([]float32, []float32, float32) {
		a, bb, c := b.Alloc(m*k), b.Alloc(k*n), b.Alloc(m*n)
		q, kk, v := b.Alloc(T*heads*hd), b.Alloc(T*heads*hd), b.Alloc(T*heads*hd)
		o, lse := b.Alloc(T*heads*hd), b.Alloc(T*heads)
		r := rand.New(rand.NewPCG(7, 7))
		for _, x := range []backend.Buffer{a, bb, q, kk, v} {
			b.Write(backend.Whole(x), randSlice(r, x.Len()))
		}
		b.Gemm(false, true, m, n, k, 1, backend.Whole(a), k, backend.Whole(bb), k, 0, backend.Whole(c), n)
		b.Attention(backend.Whole(o), backend.Whole(lse), backend.Whole(q), backend.Whole(kk), backend.Whole(v),
			[]backend.Seq{{Start: 0, Len: 50}, {Start: 50, Len: 30}}, heads, heads, hd, 0.2)
		ss, err := b.SumSquares(backend.Whole(o), o.Len())
		require.NoError(t, err)
		return read(t, b, backend.Whole(c), m*n), read(t, b, backend.Whole(o), o.Len()), ss
	}
	_ = rng
	c1, o1, s1 := run()
	c2, o2, s2 := run()
	assert.Equal(t, c1, c2)
	assert.Equal(t, o1, o2)
	assert.Equal(t, s1, s2)
}

// TestLargeGemmAgainstCPU covers shapes spanning many tiles, with offsets.
func TestLargeGemmAgainstCPU(t *testing.T) {
	b := open(t)
	ref := cpu.New(1)
	rng := rand.New(rand.NewPCG(3, 4))
	const m, n, k = 200, 130, 300
	a, bm, c0 := randSlice(rng, 5+k*m), randSlice(rng, 7+n*k), randSlice(rng, 1+m*n)
	outs := map[string][]float32{}
	soft := b.software
	defer func() { b.software = soft }()
	for name, be := range map[string]backend.Backend{"vulkan": b, "vulkan-gpu-kernels": b, "cpu": ref} {
		b.software = soft && name == "vulkan"
		av, bv, cv := be.Alloc(len(a)), be.Alloc(len(bm)), be.Alloc(len(c0))
		be.Write(backend.Whole(av), a)
		be.Write(backend.Whole(bv), bm)
		be.Write(backend.Whole(cv), c0)
		be.Gemm(true, true, m, n, k, 1.5, backend.Whole(av).At(5), m, backend.Whole(bv).At(7), k, -0.5, backend.Whole(cv).At(1), n)
		outs[name] = read(t, be, backend.Whole(cv), len(c0))
	}
	require.NoError(t, backendtest.Compare(outs["vulkan"], outs["cpu"], 1e-4))
	require.NoError(t, backendtest.Compare(outs["vulkan-gpu-kernels"], outs["cpu"], 1e-4))
}

// TestValidationLayerReports makes sure the messenger works, so that a
// clean run with the layer on means something. It runs only with the layer
// enabled.
func TestValidationLayerReports(t *testing.T) {
	if !strings.Contains(os.Getenv("VK_INSTANCE_LAYERS"), "VK_LAYER_KHRONOS_validation") {
		t.Skip("VK_INSTANCE_LAYERS does not enable VK_LAYER_KHRONOS_validation")
	}
	b, err := Open(0)
	if err != nil {
		t.Skipf("vulkan backend unavailable: %v", err)
	}
	defer b.Close()
	before := len(ValidationMessages())
	// A zero-sized buffer is invalid usage the layer always reports.
	var buf vk.Buffer
	r := vk.CreateBuffer(b.d.dev, &vk.BufferCreateInfo{
		SType: vk.StructureTypeBufferCreateInfo, Size: 0, Usage: bufferUsage, SharingMode: vk.SharingModeExclusive,
	}, nil, &buf)
	if r == vk.Success && buf != vk.NullBuffer {
		vk.DestroyBuffer(b.d.dev, buf, nil)
	}
	msgs := ValidationMessages()[before:]
	require.NotEmpty(t, msgs, "the validation layer reported nothing for a zero-sized buffer")
	t.Logf("expected message: %s", msgs[0])
	// Drop them so that other tests do not count them.
	validation.Lock()
	validation.msgs = validation.msgs[:before]
	validation.Unlock()
}

// TestViewsBeyondStorageBufferRange: a buffer larger than the device's
// storage-buffer range still works, because each op binds only the window
// it touches.
func TestViewsBeyondStorageBufferRange(t *testing.T) {
	b := open(t)
	limit := int(b.d.limits.MaxStorageBufferRange / 4)
	if limit > 64<<20 {
		t.Skipf("storage buffer range of %d floats; a larger buffer would take too much memory for a test", limit)
	}
	n := limit + 4096
	x := b.Alloc(n)
	defer b.Free(x)
	tail := backend.Whole(x).At(n - 3000)
	b.Write(tail, []float32{1, 2, 3})
	b.Fill(tail.At(3), 0.5, 2997)
	b.Add(tail.At(10), tail, tail.At(1), 2) // [1+2, 2+3]
	got := read(t, b, tail, 12)
	assert.Equal(t, []float32{1, 2, 3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 3, 5}, got)
	assert.Equal(t, []float32{0, 0}, read(t, b, backend.Whole(x).At(5), 2), "Alloc zeroes")
}
