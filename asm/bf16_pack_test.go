package asm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBgemmPackF32 checks that packing a float32 source gives the words of
// packing its bf16 rounding (F32ToBF16, then PackA/PackB), for every
// kernel's tile, both orientations, odd k and ld, partial slivers, and
// blocks large enough to take several groups of slivers and several runs of
// k through the conversion buffer. The source holds values that round
// (ties included), denormals and a NaN, so a packer that truncated or
// skipped the rounding rules would differ.
func TestBgemmPackF32(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, s := range BgemmKernels() {
		for _, trans := range []bool{false, true} {
			for _, sz := range [][3]int{{1, 1, 3}, {s.MR, 2, 0}, {s.MR + 1, 5, 3}, {s.NR + 3, 7, 1}, {3 * s.NR, 16, 2},
				{2*s.MR + 1, 70, 4}, {s.NR, 64, 0}, {300, 97, 1}, {40, 1100, 2}, {530, 600, 0}} {
				w, k := sz[0], sz[1]
				ld := max(w, k) + sz[2]
				src := make([]float32, ld*max(w, k)+ld)
				for i := range src {
					switch rng.IntN(50) {
					case 0:
						src[i] = math.Float32frombits(rng.Uint32() & 0x807fffff) // denormal
					case 1:
						src[i] = float32(math.NaN())
					case 2:
						src[i] = math.Float32frombits(rng.Uint32()&0xffff0000 | 0x8000) // a tie
					default:
						src[i] = math.Float32frombits(rng.Uint32()&0x3fffffff | 0x3c000000)
					}
				}
				h := make([]uint16, len(src))
				F32ToBF16(h, src)
				want := make([]uint32, s.PackedASize(w, k))
				got := make([]uint32, len(want))
				s.PackA(want, h, ld, trans, w, k)
				s.PackAF32(got, src, ld, trans, w, k)
				require.Equal(t, want, got, "%s PackA trans=%v %v", s.Name, trans, sz)
				want = make([]uint32, s.PackedBSize(k, w))
				got = make([]uint32, len(want))
				s.PackB(want, h, ld, !trans, k, w)
				s.PackBF32(got, src, ld, !trans, k, w)
				require.Equal(t, want, got, "%s PackB trans=%v %v", s.Name, !trans, sz)
			}
		}
	}
}
