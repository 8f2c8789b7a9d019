package engine

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/sample"
)

// TestDecodeIsThreadInvariant: decoding one stream and a batch of eight
// gives bitwise the same tokens and log-probs on 1, 2 and 3 threads, at a
// width where the pool splits a lone row's matrix-vector products and
// attention over threads (above its least work per hand-off) and keeps
// the smaller ones on the calling thread.
func TestDecodeIsThreadInvariant(t *testing.T) {
	run := func(threads, batch int) []*Stream {
		m, err := nn.New(nn.Config{ModelType: "llama", VocabSize: 300, HiddenSize: 256, NumLayers: 2, NumHeads: 8,
			NumKVHeads: 4, HeadDim: 32, IntermediateSize: 512, RopeTheta: 10000, RMSNormEps: 1e-6,
			MaxPositionEmbeddings: 256}, cpu.New(threads))
		require.NoError(t, err)
		m.Init(6)
		e := New(m, Options{BlockSize: 16})
		defer e.Close()
		var streams []*Stream
		for i := 0; i < batch; i++ {
			streams = append(streams, e.NewStream([]int32{1, 2, int32(3 + i)}, sample.Params{Temperature: 1}, sample.NewRNG(11, uint64(i)), 40, GenConfig{}))
		}
		require.NoError(t, e.Generate(streams, GenConfig{}))
		return streams
	}
	for _, batch := range []int{1, 8} {
		one := run(1, batch)
		for _, threads := range []int{2, 3} {
			got := run(threads, batch)
			for i := range one {
				require.Equal(t, one[i].Tokens, got[i].Tokens, "batch %d, threads %d, stream %d", batch, threads, i)
				require.Equal(t, one[i].LogProbs, got[i].LogProbs, "batch %d, threads %d, stream %d", batch, threads, i)
			}
		}
	}
}
