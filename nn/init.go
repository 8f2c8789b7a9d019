package nn

import (
	"math/rand/v2"
	"strings"
)

// InitStd is the standard deviation of the normal initialisation of
// embeddings and linear weights, Hugging Face's initializer_range default
// for Llama and Qwen2.
const InitStd = 0.02

// Init fills the weights from scratch, reproducibly from seed: embedding and
// linear weights ~ normal(0, InitStd), norm weights 1, biases 0 (as Hugging
// Face's _init_weights does). Parameters are drawn in Params order from one
// PCG stream, so the same seed gives bitwise the same model.
func (m *Model) Init(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x6e6e2e496e6974)) // "nn.Init"
	for _, p := range m.Params {
		v := make([]float32, p.W.Len())
		switch {
		case strings.HasSuffix(p.Name, "norm.weight"):
			for i := range v {
				v[i] = 1
			}
		case strings.HasSuffix(p.Name, ".bias"):
		default:
			for i := range v {
				v[i] = float32(rng.NormFloat64() * InitStd)
			}
		}
		p.W.Set(v)
	}
}
