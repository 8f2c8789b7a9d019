package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/backend"
	_ "github.com/goarpo/arpo/backend/cpu"    // registers "cpu"
	_ "github.com/goarpo/arpo/backend/vulkan" // registers "vulkan" (a real device with -tags vulkan)
	"github.com/goarpo/arpo/nn/safetensors"
	"github.com/stretchr/testify/require"
)

// fixtureCase is case k of a fixture written by scripts/torch_*.py:
// tensors named "c<k>.<name>", the model's config in meta["c<k>.config"].
type fixtureCase struct {
	t    *testing.T
	ts   map[string]safetensors.Tensor
	meta map[string]string
	k    int
}

// get returns the case's tensor name.
func (f fixtureCase) get(name string) []float32 {
	x, ok := f.ts[fmt.Sprintf("c%d.%s", f.k, name)]
	require.True(f.t, ok, "fixture lacks %s", name)
	return x.Data
}

// ints returns the case's tensor name (token ids, targets) as int32.
func (f fixtureCase) ints(name string) []int32 {
	v := f.get(name)
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}

// lens returns the lengths of the case's packed sequences.
func (f fixtureCase) lens() []int {
	var out []int
	for _, l := range f.get("lens") {
		out = append(out, int(l))
	}
	return out
}

// config parses the case's model config.
func (f fixtureCase) config() Config {
	cfg, err := ParseConfig([]byte(f.meta[fmt.Sprintf("c%d.config", f.k)]))
	require.NoError(f.t, err)
	return cfg
}

// testBackends returns the reference backend and, when registered, the CPU
// backend with 2 threads.
func testBackends(t *testing.T) map[string]backend.Backend {
	bs := map[string]backend.Backend{"ref": refBackend{}}
	for _, name := range []string{"cpu", "vulkan"} {
		if b, err := backend.Open(name, backend.Options{Threads: 2}); err == nil {
			bs[name] = b
		} else {
			t.Logf("%s backend unavailable: %v", name, err)
		}
	}
	return bs
}

func intPtr(v int) *int { return &v }

// tinyConfigs cover the variants: GQA with q/k/v bias and tied embeddings
// (qwen2), Llama with q/k/v/o biases, untied, and Qwen3 with Llama 3's RoPE.
func tinyConfigs() map[string]Config {
	cs := map[string]Config{
		"qwen2-gqa-tied": {ModelType: "qwen2", VocabSize: 11, HiddenSize: 8, NumLayers: 2, NumHeads: 4, NumKVHeads: 2,
			HeadDim: 4, IntermediateSize: 12, RopeTheta: 10000, RMSNormEps: 1e-6, TieWordEmbeddings: true, MaxPositionEmbeddings: 64},
		"llama-bias": {ModelType: "llama", VocabSize: 9, HiddenSize: 8, NumLayers: 2, NumHeads: 2, NumKVHeads: 2,
			HeadDim: 6, IntermediateSize: 10, RopeTheta: 500, RMSNormEps: 1e-5, AttentionBias: true, MaxPositionEmbeddings: 64},
		// Qwen3: q_norm/k_norm, head_dim != hidden/heads, tied embeddings;
		// with Llama 3's RoPE remapping (head_dim 6 at theta 500 puts one
		// pair in each of its three bands) and the special ids.
		"qwen3-llama3rope": {ModelType: "qwen3", VocabSize: 10, HiddenSize: 8, NumLayers: 2, NumHeads: 2, NumKVHeads: 1,
			HeadDim: 6, IntermediateSize: 12, RopeTheta: 500, RMSNormEps: 1e-6, TieWordEmbeddings: true, MaxPositionEmbeddings: 64,
			RopeScaling: &RopeScaling{RopeType: "llama3", Factor: 4, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64},
			BOSTokenID:  intPtr(1), EOSTokenID: TokenIDs{2, 3}, TorchDtype: "bfloat16"},
	}
	for k, c := range cs {
		c.HiddenAct = "silu" // as ParseConfig fills it
		cs[k] = c
	}
	return cs
}

// randomize draws every weight from normal(0, std) (norms around 1) so that
// a finite-difference check sees real curvature, not a near-linear model.
func randomize(t *testing.T, m *Model, seed uint64, std float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, p := range m.Params {
		v := make([]float32, p.W.Len())
		for i := range v {
			v[i] = float32(rng.NormFloat64() * std)
			if !p.Decay && len(p.W.Shape()) == 1 && p.Name[len(p.Name)-6:] == "weight" {
				v[i] += 1
			}
		}
		p.W.Set(v)
	}
}

func randTokens(rng *rand.Rand, n, vocab int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(rng.IntN(vocab))
	}
	return out
}

func readAll(t *testing.T, ts interface{ Data() ([]float32, error) }) []float32 {
	t.Helper()
	d, err := ts.Data()
	require.NoError(t, err)
	return d
}

// relErr is max|a-b| / max(max|b|, floor).
func relErr(a, b []float32, floor float64) float64 {
	var num, den float64
	for i := range a {
		num = math.Max(num, math.Abs(float64(a[i])-float64(b[i])))
		den = math.Max(den, math.Abs(float64(b[i])))
	}
	return num / math.Max(den, floor)
}
