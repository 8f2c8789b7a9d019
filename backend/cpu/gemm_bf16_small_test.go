package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/asm"
)

// TestGemmBF16SmallMatchesBlocked: the small-m path gives every element of
// C the blocked path's bits, for every kernel, transpose, 1 to 16 rows,
// edge slivers, K past one block (odd last block included) and 1 to 3
// threads: so a row's result does not depend on m or on the path, which
// the batch-invariant engine relies on. beta is 0 or 1, where the blocked
// path's own full and partial tiles agree (see TestGemmBF16).
func TestGemmBF16SmallMatchesBlocked(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	shapes := [][2]int{{33, 7}, {64, 128}, {100, 515}, {250, 1100}}
	pools := map[int]*CPU{1: New(1), 2: New(2), 3: New(3)}
	for _, s := range asm.BgemmKernels() {
		for si, sh := range shapes {
			for _, m := range []int{1, 2, 3, 5, 8, 16} {
				for tr := 0; tr < 4; tr++ {
					g := gemmCase{ta: tr&1 != 0, tb: tr&2 != 0, m: m, n: sh[0], k: sh[1], alpha: []float32{1, -0.75}[si%2], beta: float32(tr % 2)}
					_, ca := stored(g.ta, g.m, g.k)
					_, cb := stored(g.tb, g.k, g.n)
					g.lda, g.ldb, g.ldc = ca+si%2, cb+1, g.n+3
					a, b, c0 := bgemmOperands(rng, g)
					// A as bf16, and as float32 rounded while packed (the
					// engine's activations against its bf16 weights).
					af := make([]float32, len(a))
					for i := range af {
						af[i] = rng.Float32()*2 - 1
					}
					for _, A := range []bf16Operand{{h: a}, {f: af}} {
						B := bf16Operand{h: b}
						want := append([]float32(nil), c0...)
						gemmBF16Blocked(pools[1].pool, s, g.ta, g.tb, g.m, g.n, g.k, g.alpha, A, g.lda, B, g.ldb, nil, g.beta, want, g.ldc)
						for _, th := range []int{1, 3} {
							got := append([]float32(nil), c0...)
							gemmBF16(pools[th].pool, s, g.ta, g.tb, g.m, g.n, g.k, g.alpha, A, g.lda, B, g.ldb, nil, g.beta, got, g.ldc) // m <= 16: the small path
							name := fmt.Sprintf("%s %v f32 A %v threads=%d", s.Name, g, A.f != nil, th)
							for i := range want {
								require.Equalf(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "%s at %d: %v != %v", name, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}
