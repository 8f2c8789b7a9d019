//go:build vulkan && cgo

package vulkan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/backendtest"
	"github.com/goarpo/arpo/backend/cpu"
	"github.com/stretchr/testify/require"
)

// gemmCase runs one product on b and on the CPU backend, with operands at
// odd offsets and padded leading dimensions (pad 0 keeps them tight, so
// that vec4 loads are taken where the shape allows), and compares C.
func gemmCase(t *testing.T, b *Backend, ref backend.Backend, transA, transB bool, m, n, k, pad int, beta float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(m*1000003+n*1009+k), uint64(pad)))
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	lda, ldb, ldc := ac+pad, bc+pad, n+pad
	offA, offB, offC := pad, 2*pad, 3*pad
	a, bm, c0 := randSlice(rng, offA+ar*lda), randSlice(rng, offB+br*ldb), randSlice(rng, offC+m*ldc)
	if beta == 0 {
		for i := range c0 {
			c0[i] = float32(math.NaN()) // beta = 0 ignores C
		}
	}
	var outs [2][]float32
	for i, be := range []backend.Backend{b, ref} {
		av, bv, cv := be.Alloc(len(a)), be.Alloc(len(bm)), be.Alloc(len(c0))
		be.Write(backend.Whole(av), a)
		be.Write(backend.Whole(bv), bm)
		be.Write(backend.Whole(cv), c0)
		be.Gemm(transA, transB, m, n, k, 0.75, backend.Whole(av).At(offA), lda, backend.Whole(bv).At(offB), ldb, beta, backend.Whole(cv).At(offC), ldc)
		out := read(t, be, backend.Whole(cv), len(c0))
		for _, x := range []backend.Buffer{av, bv, cv} {
			be.Free(x)
		}
		// Compare the m x n part only (the padding keeps its NaNs).
		for r := range m {
			outs[i] = append(outs[i], out[offC+r*ldc:offC+r*ldc+n]...)
		}
	}
	require.NoError(t, backendtest.Compare(outs[0], outs[1], 1e-4), "transA=%v transB=%v m=%d n=%d k=%d pad=%d beta=%v", transA, transB, m, n, k, pad, beta)
}

// TestGemmKernelsAgainstCPU forces each GEMM kernel (every tile shape,
// split-K, gemv, the software kernel) on odd shapes and every transpose
// case, and compares with the CPU backend.
func TestGemmKernelsAgainstCPU(t *testing.T) {
	b := open(t)
	ref := cpu.New(1)
	defer func() { b.gemmPlan = nil }()
	tiled := func(tile gemmTileShape, kChunk int) func(m, n, k int, transB bool) gemmPlan {
		return func(m, n, k int, transB bool) gemmPlan {
			if kChunk == 0 || kChunk >= k {
				return gemmPlan{kernel: kernelTiled, tile: tile, splits: 1, kChunk: k}
			}
			return gemmPlan{kernel: kernelTiled, tile: tile, splits: ceilDiv(k, kChunk), kChunk: kChunk}
		}
	}
	plans := map[string]func(m, n, k int, transB bool) gemmPlan{
		"tiled-128x128": tiled(tileLarge, 0),
		"tiled-64x64":   tiled(tileMedium, 0),
		"tiled-32x32":   tiled(tileSmall, 0),
		"splitk-64x64":  tiled(tileMedium, 48), // a chunk that is not a multiple of bk
		"splitk-32x32":  tiled(tileSmall, 32),
		"noshared":      func(int, int, int, bool) gemmPlan { return gemmPlan{kernel: kernelNoShared, splits: 1} },
	}
	shapes := [][3]int{{1, 1, 1}, {7, 33, 5}, {33, 7, 257}, {130, 67, 33}, {1, 257, 129}, {260, 270, 40}}
	for name, plan := range plans {
		t.Run(name, func(t *testing.T) {
			b.gemmPlan = plan
			for si, s := range shapes {
				for i, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					// Alternate tight operands (vec4 loads) and padded ones.
					if (i+si)%2 == 0 {
						gemmCase(t, b, ref, tr[0], tr[1], s[0], s[1], s[2], 0, 0)
					} else {
						gemmCase(t, b, ref, tr[0], tr[1], s[0], s[1], s[2], 3, 0.5)
					}
				}
			}
		})
	}
	t.Run("gemv", func(t *testing.T) {
		b.gemmPlan = func(int, int, int, bool) gemmPlan { return gemmPlan{kernel: kernelGemv, splits: 1} }
		for _, s := range [][3]int{{1, 1, 1}, {1, 7, 33}, {3, 33, 7}, {4, 257, 130}, {2, 5, 257}} {
			for _, transA := range []bool{false, true} {
				gemmCase(t, b, ref, transA, true, s[0], s[1], s[2], 0, 0)
				gemmCase(t, b, ref, transA, true, s[0], s[1], s[2], 1, 0.5)
			}
		}
	})
}

// TestGemmKernelsDeterministic: a split-K product and a gemv give the same
// bits twice, and every tile shape gives the bits of every other (they sum
// k in the same order).
func TestGemmKernelsDeterministic(t *testing.T) {
	b := open(t)
	defer func() { b.gemmPlan = nil }()
	const m, n, k = 37, 45, 300
	rng := rand.New(rand.NewPCG(5, 6))
	av, bv, cv := b.Alloc(m*k), b.Alloc(n*k), b.Alloc(m*n)
	b.Write(backend.Whole(av), randSlice(rng, m*k))
	b.Write(backend.Whole(bv), randSlice(rng, n*k))
	run := func(p gemmPlan, rows int) []float32 {
		b.gemmPlan = func(int, int, int, bool) gemmPlan { return p }
		b.Gemm(false, true, rows, n, k, 1, backend.Whole(av), k, backend.Whole(bv), k, 0, backend.Whole(cv), n)
		return read(t, b, backend.Whole(cv), rows*n)
	}
	want := run(gemmPlan{kernel: kernelTiled, tile: tileLarge, splits: 1, kChunk: k}, m)
	for _, tile := range gemmTiles {
		require.Equal(t, want, run(gemmPlan{kernel: kernelTiled, tile: tile, splits: 1, kChunk: k}, m), tile.name)
	}
	split := gemmPlan{kernel: kernelTiled, tile: tileSmall, splits: 3, kChunk: 112}
	require.Equal(t, run(split, m), run(split, m))
	gemv := gemmPlan{kernel: kernelGemv, splits: 1}
	require.Equal(t, run(gemv, 3), run(gemv, 3))
}

// TestGemmChosenKernelsAgainstCPU runs planGemm's own choice (GPU kernels
// forced on a software driver) on shapes that reach each branch: gemv,
// each tile, and split-K.
func TestGemmChosenKernelsAgainstCPU(t *testing.T) {
	b := open(t)
	ref := cpu.New(1)
	soft := b.software
	b.software = false
	defer func() { b.software = soft }()
	for _, s := range [][3]int{{1, 96, 64}, {20, 40, 16}, {65, 70, 30}, {40, 33, 1100}} {
		p := planGemm(s[0], s[1], s[2], true, false, b.maxInvocations())
		t.Run(fmt.Sprintf("%dx%dx%d", s[0], s[1], s[2]), func(t *testing.T) {
			t.Logf("plan %+v", p)
			gemmCase(t, b, ref, false, true, s[0], s[1], s[2], 0, 0.5)
		})
	}
}
