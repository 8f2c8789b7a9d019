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
