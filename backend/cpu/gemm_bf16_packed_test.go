package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
)

// TestGemmBF16PackedMatchesUnpacked: a product with a weight packed ahead
// of time gives every element of C the bits GemmBF16(false, true, ...)
// gives it with the weight as it is, for every kernel, on both paths
// (1-16 rows the small one, more the blocked one), W in bf16 and in float32,
// A in both, widths off the kernel's NR, K past one block with an odd last
// block, leading dimensions past the rows, beta 0 and 1, alpha not 1,
// packing and multiplying on 1 to 3 threads.
func TestGemmBF16PackedMatchesUnpacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	defer func(k *asm.BgemmKernel) { bgemmKernel = k }(bgemmKernel)
	for _, sh := range [][2]int{{33, 7}, {64, 128}, {100, 515}, {250, 1100}, {4100, 40}} {
		n, k := sh[0], sh[1]
		ldw := k + 3
		wf := randF32(rng, n*ldw)
		wh := make([]uint16, len(wf))
		asm.F32ToBF16(wh, wf)
		for _, s := range asm.BgemmKernels() {
			bgemmKernel = s
			for wi, w := range []backend.View{hv(wh), fv(wf)} {
				for _, th := range []int{1, 3} {
					c := New(th)
					pw := c.AllocPackedBF16(n, k)
					require.Equal(t, n*k, pw.Len())
					c.PackBF16(pw, w, ldw)
					for _, m := range []int{1, 2, 5, 16, 17, 40} {
						lda, ldc := k+1, n+2
						a := randF32(rng, m*lda)
						ah := make([]uint16, len(a))
						asm.F32ToBF16(ah, a)
						for ai, av := range []backend.View{fv(a), hv(ah)} {
							for _, beta := range []float32{0, 1} {
								c0 := randF32(rng, m*ldc)
								want := append([]float32(nil), c0...)
								New(1).GemmBF16(false, true, m, n, k, -0.75, av, lda, w, ldw, beta, fv(want), ldc)
								got := append([]float32(nil), c0...)
								c.GemmBF16Packed(m, -0.75, av, lda, pw, beta, fv(got), ldc)
								name := fmt.Sprintf("%s n=%d k=%d m=%d W %d A %d beta %v threads %d", s.Name, n, k, m, wi, ai, beta, th)
								require.Equal(t, f32Bits(want), f32Bits(got), name)
							}
						}
					}
					c.Free(pw)
				}
			}
		}
	}
	c := New(1)
	_, ok := backend.AsPackedBF16(c)
	require.True(t, ok)
	// A weight packed for one kernel must not meet another.
	ks := asm.BgemmKernels()
	if len(ks) > 1 {
		bgemmKernel = ks[0]
		pw := c.AllocPackedBF16(4, 4)
		c.PackBF16(pw, fv(make([]float32, 16)), 4)
		bgemmKernel = ks[1]
		require.Panics(t, func() { c.GemmBF16Packed(1, 1, fv(make([]float32, 4)), 4, pw, 0, fv(make([]float32, 4)), 4) })
	}
}
