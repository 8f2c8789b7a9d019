package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBgemmSmallMatchesItsKernel: each kernel's small-m sibling gives the
// same bits as the kernel for every row it computes (TestBgemmKernels
// checks the kernels themselves against the reference sum), for 1 to MR
// rows (zero rows pad a partial sliver in both), depths across the
// unrolled loop's tail, and the scalings the GEMM driver uses.
func TestBgemmSmallMatchesItsKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, s := range BgemmKernels() {
		for _, small := range append(bgemmSiblings(s), BgemmSmall(s, 1)) {
			require.Equal(t, s.NR, small.NR, s.Name)
			require.Equal(t, s.wideA, small.wideA, s.Name)
			require.LessOrEqual(t, small.MR, s.MR, s.Name)
			for _, k := range []int{1, 2, 5, 8, 9, 63, 256, 512} {
				for rows := 1; rows <= small.MR; rows++ {
					name := fmt.Sprintf("%s/%s k=%d rows=%d", s.Name, small.Name, k, rows)
					a := randBF16(rng, rows*k)
					b := randBF16(rng, s.NR*k) // stored NR x k: a linear layer's weights
					pa, pas := make([]uint32, s.PackedASize(rows, k)), make([]uint32, small.PackedASize(rows, k))
					s.PackA(pa, a, k, false, rows, k)
					small.PackA(pas, a, k, false, rows, k)
					pb := make([]uint32, s.PackedBSize(k, s.NR))
					s.PackB(pb, b, k, true, k, s.NR)
					const ldc = 40
					c0 := randSlice(rng, s.MR*ldc)
					for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-1.5, 0}, {0.5, 2}} {
						big, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
						s.Kernel(Pairs(k), pa, pb, big, ldc, ab[0], ab[1])
						small.Kernel(Pairs(k), pas, pb, got, ldc, ab[0], ab[1])
						for i := 0; i < rows; i++ {
							for j := 0; j < ldc; j++ {
								at := i*ldc + j
								require.Equalf(t, math.Float32bits(big[at]), math.Float32bits(got[at]), "%s alpha=%v beta=%v (%d,%d)", name, ab[0], ab[1], i, j)
							}
						}
						for at := small.MR * ldc; at < len(got); at++ { // rows past the small tile untouched
							require.Equal(t, math.Float32bits(c0[at]), math.Float32bits(got[at]), name)
						}
					}
				}
			}
		}
	}
}

// TestBgemmSmallChoice: the sibling BgemmSmall picks for m rows.
func TestBgemmSmallChoice(t *testing.T) {
	for _, s := range BgemmKernels() {
		sib := bgemmSiblings(s)
		if len(sib) == 0 {
			require.Same(t, s, BgemmSmall(s, 3))
			continue
		}
		for m, mr := range map[int]int{1: 4, 4: 4, 5: 8, 8: 8, 12: 8, 16: 8} {
			require.Equalf(t, mr, BgemmSmall(s, m).MR, "%s m=%d", s.Name, m)
		}
	}
}
