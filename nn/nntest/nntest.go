// Package nntest builds tiny models for the tests of other packages: a
// random model in Qwen3's layout, written as the Hugging Face folder a
// downloaded Qwen3 checkpoint is (config.json with the keys Qwen3 publishes,
// model.safetensors with Qwen3's tensor names and tied embeddings).
package nntest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/internal/atomicfile"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/safetensors"
)

// Qwen3 special token ids, as Qwen3's config.json names them: bos is
// <|endoftext|>, eos <|im_end|>.
const (
	Qwen3BOS = 151643
	Qwen3EOS = 151645
)

// Qwen3Config is a tiny Qwen3: hidden 32, 2 layers, 4 query heads and 2
// key/value heads of head_dim 16 (not hidden/heads = 8), MLP 64, tied
// embeddings, RoPE theta 1e6, with vocab token ids (151936 for the real
// Qwen tokenizer; then bos/eos are Qwen3's, else absent).
func Qwen3Config(vocab int) nn.Config {
	c := nn.Config{
		ModelType: "qwen3", VocabSize: vocab, HiddenSize: 32, NumLayers: 2, NumHeads: 4, NumKVHeads: 2,
		HeadDim: 16, IntermediateSize: 64, RopeTheta: 1e6, RMSNormEps: 1e-6, TieWordEmbeddings: true,
		MaxPositionEmbeddings: 40960, InitializerRange: 0.02, HiddenAct: "silu", TorchDtype: "float32",
	}
	if vocab > Qwen3EOS {
		bos := Qwen3BOS
		c.BOSTokenID, c.EOSTokenID = &bos, nn.TokenIDs{Qwen3EOS}
	}
	return c
}

// WriteQwen3 writes a random model of Qwen3Config(vocab) to dir as a
// Hugging Face folder: config.json (with the keys Qwen3 publishes that this
// project ignores, e.g. sliding_window, max_window_layers) and
// model.safetensors (F32; linear weights normal(0, 0.02), norm weights
// 1 + normal(0, 0.1) so that q_norm and k_norm matter), seeded. It returns
// the config.
func WriteQwen3(dir string, vocab int, seed uint64) (nn.Config, error) {
	cfg := Qwen3Config(vocab)
	m, err := nn.New(cfg, cpu.New(1))
	if err != nil {
		return nn.Config{}, err
	}
	defer m.Free()
	m.Init(seed)
	rng := rand.New(rand.NewPCG(seed, 0x71776e33)) // "qwn3"
	for _, p := range m.Params {
		if strings.HasSuffix(p.Name, "norm.weight") {
			v := make([]float32, p.W.Len())
			for i := range v {
				v[i] = float32(1 + 0.1*rng.NormFloat64())
			}
			p.W.Set(v)
		}
	}
	ws, err := m.Weights()
	if err != nil {
		return nn.Config{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nn.Config{}, err
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ws, map[string]string{"format": "pt"}); err != nil {
		return nn.Config{}, err
	}
	var fields map[string]any
	if err := json.Unmarshal(cfg.HFJSON(), &fields); err != nil {
		return nn.Config{}, err
	}
	for k, v := range map[string]any{
		"attention_dropout": 0.0, "max_window_layers": cfg.NumLayers, "sliding_window": nil,
		"use_sliding_window": false, "use_cache": true, "transformers_version": "4.51.0",
	} {
		fields[k] = v
	}
	out, err := json.MarshalIndent(fields, "", "  ")
	if err != nil {
		return nn.Config{}, err
	}
	err = atomicfile.WriteFile(filepath.Join(dir, "config.json"), func(w io.Writer) error {
		_, err := w.Write(append(out, '\n'))
		return err
	})
	if err != nil {
		return nn.Config{}, fmt.Errorf("nntest: %w", err)
	}
	return cfg, nil
}

// RandomWeights sets every weight of m to normal(0, std) drawn from the PCG
// generator (seed1, seed2): large enough (std 0.3 in most tests) that the
// next-token distributions are far from uniform, as tests of sampling,
// scoring and export want.
func RandomWeights(m *nn.Model, seed1, seed2 uint64, std float64) {
	r := rand.New(rand.NewPCG(seed1, seed2))
	w := make([]float32, m.W.Len())
	for i := range w {
		w[i] = float32(r.NormFloat64() * std)
	}
	m.W.Set(w)
}

// WriteQwen3WithTokenizer writes a tiny random Qwen3 model (WriteQwen3 with
// Qwen3's 151,936-id vocabulary, seed 7) to dir beside the tokenizer.json
// and tokenizer_config.json (chat template) copied from tokDir: a downloaded
// Qwen3 folder in miniature, for tests of the real-model path.
func WriteQwen3WithTokenizer(dir, tokDir string) error {
	if _, err := WriteQwen3(dir, 151936, 7); err != nil {
		return err
	}
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		data, err := os.ReadFile(filepath.Join(tokDir, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
