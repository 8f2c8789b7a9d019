package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/backend"
)

// BenchmarkTrainStep times one SFT step (forward, loss, backward, AdamW) of
// a small Llama (hidden 128, 2 layers) on 4 x 128 tokens on the CPU backend,
// and of the same model as Qwen3 (q_norm/k_norm) and with Llama 3's RoPE
// scaling; cmd/bench train measures the larger configs.
func BenchmarkTrainStep(b *testing.B) {
	cfg := Config{ModelType: "llama", VocabSize: 512, HiddenSize: 128, NumLayers: 2, NumHeads: 4, NumKVHeads: 4,
		HeadDim: 32, IntermediateSize: 512, RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 512}
	qwen3, llama3 := cfg, cfg
	qwen3.ModelType = "qwen3"
	llama3.RopeScaling = &RopeScaling{RopeType: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 128}
	b.Run("llama", func(b *testing.B) { benchTrainStep(b, cfg) })
	b.Run("qwen3", func(b *testing.B) { benchTrainStep(b, qwen3) })
	b.Run("llama3-rope", func(b *testing.B) { benchTrainStep(b, llama3) })
}

func benchTrainStep(b *testing.B, cfg Config) {
	be, err := backend.Open("cpu", backend.Options{Threads: 1})
	if err != nil {
		b.Skip(err)
	}
	m, err := New(cfg, be)
	if err != nil {
		b.Fatal(err)
	}
	m.Init(1)
	opt, err := NewAdamW(m, DefaultAdamW(1e-4))
	if err != nil {
		b.Fatal(err)
	}
	bt := Batch{Tokens: randTokens(rand.New(rand.NewPCG(1, 1)), 512, cfg.VocabSize), Lens: []int{128, 128, 128, 128}}
	b.SetBytes(0)
	for b.Loop() {
		if _, _, err := TrainStep(m, opt, []Batch{bt}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(512*b.N)/b.Elapsed().Seconds(), "tokens/s")
}
