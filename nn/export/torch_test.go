package export

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/load"
)

// torchFixture is testdata/torch_logprobs.json, written by
// scripts/torch_hf_check.py from the folders this test exports: for each
// case, the log-probability of every next token as an independent PyTorch
// reader and forward computes it from the exported files alone.
const torchFixture = "testdata/torch_logprobs.json"

// fixtureDirEnv, when set, makes TestExportMatchesTorch write its exported
// folders and cases.json there for the script instead of comparing.
const fixtureDirEnv = "ARPO_EXPORT_FIXTURE_DIR"

type torchCase struct {
	Name     string    `json:"name"`
	IDs      []int32   `json:"ids"`
	LogProbs []float64 `json:"logprobs,omitempty"` // of ids[1:]
}

// exportCase exports one fixture model to dir and returns its token ids.
func exportCase(t *testing.T, name, dir string) []int32 {
	t.Helper()
	b := cpu.New(1)
	seeded := func(cfg nn.Config, dtype string) []int32 {
		m, err := nn.New(cfg, b)
		require.NoError(t, err)
		defer m.Free()
		r := rand.New(rand.NewPCG(11, uint64(len(name))))
		w := make([]float32, m.W.Len())
		for i := range w {
			w[i] = float32(r.NormFloat64() * 0.3)
		}
		m.W.Set(w)
		require.NoError(t, Write(Source{Model: m, DType: dtype}, dir, Options{}))
		ids := make([]int32, 24)
		for i := range ids {
			ids[i] = int32(r.IntN(cfg.VocabSize))
		}
		return ids
	}
	switch name {
	case "llama-arith-bf16":
		// The shared BF16 checkpoint, exported as it came in.
		l, err := load.Load(shareddata.Path(t, "models/llama-arith-random"), load.Options{Backend: b})
		require.NoError(t, err)
		defer l.Free()
		require.NoError(t, Write(FromLoaded(l), dir, Options{}))
		return []int32{4, 5, 14, 6, 7, 15, 8, 9, 0, 10, 11, 12, 13, 4, 14, 5, 6, 15, 1}
	case "qwen3-bf16", "llama3-rope-scaling-bf16":
		// nn's PyTorch folder fixtures, exported as they came in.
		src := map[string]string{"qwen3-bf16": "../testdata/hf-qwen3", "llama3-rope-scaling-bf16": "../testdata/hf-llama3"}[name]
		l, err := load.Load(src, load.Options{Backend: b})
		require.NoError(t, err)
		defer l.Free()
		require.NoError(t, Write(FromLoaded(l), dir, Options{}))
		r := rand.New(rand.NewPCG(5, uint64(len(name))))
		ids := make([]int32, 24)
		for i := range ids {
			ids[i] = int32(r.IntN(l.Model.Cfg.VocabSize))
		}
		return ids
	case "qwen2-tied-gqa-bf16":
		return seeded(nn.Config{ModelType: "qwen2", VocabSize: 96, HiddenSize: 32, NumLayers: 2, NumHeads: 4,
			NumKVHeads: 2, HeadDim: 8, IntermediateSize: 48, RopeTheta: 1e6, RMSNormEps: 1e-6,
			MaxPositionEmbeddings: 64, HiddenAct: "silu", TieWordEmbeddings: true}, "BF16")
	case "llama-bias-headdim-f32":
		return seeded(nn.Config{ModelType: "llama", VocabSize: 80, HiddenSize: 24, NumLayers: 2, NumHeads: 4,
			NumKVHeads: 1, HeadDim: 10, IntermediateSize: 40, RopeTheta: 500, RMSNormEps: 1e-5,
			MaxPositionEmbeddings: 64, HiddenAct: "silu", AttentionBias: true}, "F32")
	}
	t.Fatalf("unknown case %s", name)
	return nil
}

var torchCases = []string{"llama-arith-bf16", "qwen2-tied-gqa-bf16", "llama-bias-headdim-f32", "qwen3-bf16", "llama3-rope-scaling-bf16"}

// Our forward over each exported folder gives the log-probs an independent
// PyTorch reader of the same files gives (scripts/torch_hf_check.py): the
// files say what we mean them to say (names, layouts, dtypes, config).
func TestExportMatchesTorch(t *testing.T) {
	if dir := os.Getenv(fixtureDirEnv); dir != "" {
		var cases []torchCase
		for _, name := range torchCases {
			cases = append(cases, torchCase{Name: name, IDs: exportCase(t, name, filepath.Join(dir, name))})
		}
		data, err := json.MarshalIndent(cases, "", " ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "cases.json"), data, 0o644))
		t.Skipf("wrote the fixture folders to %s; now run scripts/torch_hf_check.py --fixture %s", dir, dir)
	}
	data, err := os.ReadFile(torchFixture)
	require.NoError(t, err)
	var want []torchCase
	require.NoError(t, json.Unmarshal(data, &want))
	require.Len(t, want, len(torchCases))
	for _, wc := range want {
		t.Run(wc.Name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), wc.Name)
			ids := exportCase(t, wc.Name, dir)
			require.Equal(t, wc.IDs, ids, "the fixture was made from these ids")
			l, err := load.Load(dir, load.Options{Backend: cpu.New(1)})
			require.NoError(t, err)
			defer l.Free()
			e := engine.New(l.Model, engine.Options{})
			defer e.Close()
			s := e.NewSeq()
			defer e.Release(s)
			logits, err := e.Forward([]engine.Feed{{Seq: s, Tokens: ids, All: true}})
			require.NoError(t, err)
			V := l.Model.Cfg.VocabSize
			require.Len(t, wc.LogProbs, len(ids)-1)
			worst := 0.0
			for i := 0; i+1 < len(ids); i++ {
				got := logSoftmaxAt(logits[i*V:(i+1)*V], ids[i+1])
				worst = math.Max(worst, math.Abs(got-wc.LogProbs[i]))
				require.InDelta(t, wc.LogProbs[i], got, 1e-5, "token %d", i+1)
			}
			t.Logf("largest |log-prob difference| to torch: %.2g", worst)
		})
	}
}

// logSoftmaxAt is log softmax(row)[target] in float64.
func logSoftmaxAt(row []float32, target int32) float64 {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v) - mx)
	}
	return float64(row[target]) - mx - math.Log(sum)
}
