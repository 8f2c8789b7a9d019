package vulkan

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPlanGemmChoosesByShape(t *testing.T) {
	const inv = 1024
	assert.Equal(t, kernelNoShared, planGemm(4096, 4096, 4096, true, true, inv).kernel, "software drivers")
	assert.Equal(t, kernelGemv, planGemm(1, 4096, 4096, true, false, inv).kernel, "decode")
	assert.Equal(t, kernelGemv, planGemm(4, 896, 4864, true, false, inv).kernel)
	assert.Equal(t, kernelTiled, planGemm(1, 4096, 4096, false, false, inv).kernel, "gemv needs B stored n x k")
	assert.Equal(t, kernelTiled, planGemm(1, 300000, 64, true, false, inv).kernel, "too many gemv groups")
	assert.Equal(t, tileSmall, planGemm(16, 4096, 4096, true, false, inv).tile)
	assert.Equal(t, tileMedium, planGemm(512, 512, 512, true, false, inv).tile)
	assert.Equal(t, tileLarge, planGemm(2048, 2048, 2048, true, false, inv).tile)
	assert.Equal(t, tileSmall, planGemm(2048, 2048, 2048, true, false, 128).tile, "256 invocations not allowed (Vulkan promises 128)")
	assert.Equal(t, 1, planGemm(2048, 2048, 2048, true, false, inv).splits)
}

func TestPlanGemmSplitK(t *testing.T) {
	for _, s := range [][3]int{{64, 64, 16384}, {128, 896, 16384}, {40, 33, 1100}, {8, 8, 1 << 20}} {
		p := planGemm(s[0], s[1], s[2], false, false, 1024)
		assert.Greater(t, p.splits, 1, "%v", s)
		assert.LessOrEqual(t, p.splits, maxSplits)
		assert.Zero(t, p.kChunk%p.tile.bk, "chunks start on a k slice")
		assert.GreaterOrEqual(t, p.splits*p.kChunk, s[2], "the splits cover k")
		assert.Less(t, (p.splits-1)*p.kChunk, s[2], "no empty split")
	}
	assert.Equal(t, 1, planGemm(64, 64, 512, false, false, 1024).splits, "short k")
	assert.Equal(t, 1, planGemm(4096, 4096, 16384, false, false, 1024).splits, "enough tiles")
}

// The BF16 GEMM's k segments come from k alone, so every schedule of a
// product sums in the same order: m and n change the tile and whether the
// segments are split over work groups, never kSeg.
func TestPlanGemmBF16SegmentsFromKOnly(t *testing.T) {
	for _, k := range []int{1, 15, 16, 1023, 1024, 1100, 4864, 16384, 1 << 20} {
		segs, kSeg := gemmBF16Segments(k)
		assert.Zero(t, kSeg%bf16SegmentAlign, "k=%d: segments start on a k slice of every tile", k)
		assert.GreaterOrEqual(t, segs*kSeg, k, "k=%d: the segments cover k", k)
		assert.Less(t, (segs-1)*kSeg, max(k, 1), "k=%d: no empty segment", k)
		assert.LessOrEqual(t, segs, maxSplits)
		if k < splitMinK {
			assert.Equal(t, 1, segs, "k=%d", k)
		}
		for _, mn := range [][2]int{{1, 896}, {4, 4096}, {5, 4096}, {37, 100}, {200, 512}, {4096, 4096}, {2048, 151936}} {
			for _, transB := range []bool{false, true} {
				p := planGemmBF16(mn[0], mn[1], k, transB, 1024)
				assert.Equal(t, kSeg, p.kSeg, "m=%d n=%d k=%d", mn[0], mn[1], k)
				if mn[0] <= gemvRows && transB {
					assert.Equal(t, kernelGemv, p.kernel, "decode")
				} else {
					assert.Equal(t, kernelTiled, p.kernel)
				}
				if p.splits <= 1 {
					continue
				}
				assert.Equal(t, segs, p.splits, "a split is one segment")
				assert.Equal(t, kSeg, p.kChunk)
			}
		}
	}
	assert.Greater(t, planGemmBF16(1, 896, 4864, true, 1024).splits, 1, "decode of a thin layer splits")
	assert.Equal(t, 1, planGemmBF16(1, 4096, 4864, true, 1024).splits, "decode of a wide layer does not")
	assert.Equal(t, 1, planGemmBF16(4096, 4096, 4864, true, 1024).splits, "enough tiles")
	assert.Equal(t, tileLarge, planGemmBF16(2048, 2048, 2048, true, 1024).tile)
	assert.Equal(t, tileSmall, planGemmBF16(2048, 2048, 2048, true, 128).tile)
}
