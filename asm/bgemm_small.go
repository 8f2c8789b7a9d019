package asm

// bgemmSmallOf maps a BF16 GEMM kernel to its short siblings, shortest
// first (filled by bgemm_small_amd64.go).
var bgemmSmallOf = map[*BgemmKernel][]*BgemmKernel{}

// BgemmSmall returns the kernel for a product of m rows (a decode step:
// one row a sequence) that goes with s: a shorter tile than s's 14 x 32
// (4 x 32 or 8 x 32, so a lone row does 4, not 14, rows of arithmetic)
// that adds the same products in the same order as s and rounds its store
// the same way, so every element of C gets the same bits from any of them.
// Where s has no siblings (the generic 4 x 4 twin is short already) it
// returns s.
//
// Among the siblings it takes the one with the least estimated time for m
// rows: ceil(m/MR) tiles, each costing max(MR, 6) rows, because a tile of
// fewer than 6 rows keeps too few accumulators in flight to hide the
// latency of VDPBF16PS (measured: 8 and 16 rows against a 4864 x 896
// weight took 0.72-0.94x the time on 8-row tiles that they took on 4-row
// ones,
// BenchmarkGemmBF16Decode in backend/cpu, docs/PERFORMANCE-decode.md).
func BgemmSmall(s *BgemmKernel, m int) *BgemmKernel {
	sib := bgemmSmallOf[s]
	if len(sib) == 0 {
		return s
	}
	best, cost := sib[0], 0
	for _, t := range sib {
		c := (m + t.MR - 1) / t.MR * max(t.MR, 6)
		if best == t || c < cost {
			best, cost = t, c
		}
	}
	return best
}

// bgemmSiblings lists s's short siblings (tests).
func bgemmSiblings(s *BgemmKernel) []*BgemmKernel { return bgemmSmallOf[s] }
