package engine

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/goarpo/arpo/backend"
	_ "github.com/goarpo/arpo/backend/vulkan" // registers "vulkan" (a real device with -tags vulkan)
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/safetensors"
	"github.com/goarpo/arpo/nn/sample"
	"github.com/stretchr/testify/require"
)

// TestGoldenGreedyGeneration decodes greedily through the paged KV cache and
// compares with scripts/torch_golden.py's plain-PyTorch generation (which
// reruns the whole sequence for every token): the logits of every step
// within a relative error of 1e-4 and the generated ids exactly, for the six
// fixture configs (Llama, Qwen2, Qwen3 with q_norm/k_norm, Llama 3 "llama3"
// and "linear" RoPE scaling), on the CPU backend and, when built with it,
// the Vulkan one. Two identical streams run batched, one of them forked
// from a third after the prompt, so batching and copy-on-write forks are in
// the decode path too.
func TestGoldenGreedyGeneration(t *testing.T) {
	const path = "../testdata/golden.safetensors"
	ts, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	meta, err := safetensors.ReadMetadata(path)
	require.NoError(t, err)
	cases, err := strconv.Atoi(meta["cases"])
	require.NoError(t, err)
	require.Equal(t, 6, cases)
	for _, bname := range []string{"cpu", "vulkan"} {
		b, err := backend.Open(bname, backend.Options{Threads: 2})
		if err != nil {
			t.Logf("%s backend unavailable: %v", bname, err)
			continue
		}
		for k := 0; k < cases; k++ {
			t.Run(fmt.Sprintf("%s/c%d", bname, k), func(t *testing.T) {
				get := func(name string) []float32 {
					x, ok := ts[fmt.Sprintf("c%d.%s", k, name)]
					require.True(t, ok, "fixture lacks %s", name)
					return x.Data
				}
				ids := func(name string) []int32 {
					var out []int32
					for _, v := range get(name) {
						out = append(out, int32(v))
					}
					return out
				}
				cfg, err := nn.ParseConfig([]byte(meta[fmt.Sprintf("c%d.config", k)]))
				require.NoError(t, err)
				m, err := nn.New(cfg, b)
				require.NoError(t, err)
				defer m.Free()
				for _, p := range m.Params {
					p.W.Set(get("w." + p.Name))
				}
				prompt, want, wantLogits := ids("gen.prompt"), ids("gen.tokens"), get("gen.logits")
				V := cfg.VocabSize

				e := New(m, Options{BlockSize: 4})
				defer e.Close()
				// Step by step through Forward: prefill, then one token a call.
				s := e.NewSeq()
				feed := prompt
				for i, tok := range want {
					got, err := e.Forward([]Feed{{Seq: s, Tokens: feed}})
					require.NoError(t, err)
					requireRel(t, wantLogits[i*V:(i+1)*V], got, 1e-4, fmt.Sprintf("logits of step %d", i))
					feed = []int32{tok}
				}

				// Greedy streams, batched; one forked after the prompt.
				greedy := sample.Params{}
				g := GenConfig{}
				limit := len(prompt) + len(want)
				a := e.NewStream(prompt, greedy, sample.NewRNG(1, 1), limit, g)
				parent := e.NewStream(prompt, greedy, sample.NewRNG(1, 2), limit, g)
				require.NoError(t, e.Feed([]*Stream{parent}))
				c := e.ForkStream(parent, sample.NewRNG(1, 3))
				require.NoError(t, e.Generate([]*Stream{a, c}, g))
				require.Equal(t, want, a.Tokens, "greedy ids")
				require.Equal(t, want, c.Tokens, "greedy ids of the forked stream")
			})
		}
	}
}

// requireRel checks max|got-want| <= tol * max(max|want|, 1e-6).
func requireRel(t *testing.T, want, got []float32, tol float64, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	var d, s float64
	for i := range want {
		d = max(d, abs(float64(got[i]-want[i])))
		s = max(s, abs(float64(want[i])))
	}
	require.LessOrEqual(t, d, tol*max(s, 1e-6), "%s: max error %.3g of max %.3g", msg, d, s)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
