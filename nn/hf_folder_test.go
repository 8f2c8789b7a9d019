package nn_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/nntest"
	"github.com/stretchr/testify/require"
)

// TestLoadHFBadConfig: a Qwen3 folder whose config.json is missing, broken,
// asks for what is not implemented, or disagrees with its weights is refused
// with one line that names the problem.
func TestLoadHFBadConfig(t *testing.T) {
	src := t.TempDir()
	_, err := nntest.WriteQwen3(src, 64, 1)
	require.NoError(t, err)
	weights, err := os.ReadFile(filepath.Join(src, "model.safetensors"))
	require.NoError(t, err)
	good, err := os.ReadFile(filepath.Join(src, "config.json"))
	require.NoError(t, err)
	edit := func(f func(map[string]any)) string {
		var m map[string]any
		require.NoError(t, json.Unmarshal(good, &m))
		f(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return string(b)
	}
	for name, tc := range map[string]struct {
		config string // "" leaves config.json out
		want   string
	}{
		"missing":       {"", "config.json: no such file"},
		"syntax":        {`{"model_type": "qwen3",`, "config"},
		"moe":           {edit(func(m map[string]any) { m["model_type"] = "qwen3_moe" }), `model_type "qwen3_moe" is not supported`},
		"sliding":       {edit(func(m map[string]any) { m["use_sliding_window"] = true }), "use_sliding_window true is not supported"},
		"rope type":     {edit(func(m map[string]any) { m["rope_scaling"] = map[string]any{"rope_type": "yarn", "factor": 4} }), `rope_scaling.rope_type "yarn" is not supported`},
		"not qwen3":     {edit(func(m map[string]any) { m["model_type"] = "llama" }), "this model does not use, e.g. model.layers.0.self_attn.k_norm.weight"},
		"head_dim":      {edit(func(m map[string]any) { m["head_dim"] = 8 }), "model.layers.0.self_attn.q_proj.weight has shape [64 32], want [32 32]"},
		"untied":        {edit(func(m map[string]any) { m["tie_word_embeddings"] = false }), "weights lack lm_head.weight"},
		"eos not an id": {edit(func(m map[string]any) { m["eos_token_id"] = "<|im_end|>" }), "eos_token_id"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "model.safetensors"), weights, 0o644))
			if tc.config != "" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.config), 0o644))
			}
			_, err := nn.LoadHF(dir, cpu.New(1))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.False(t, strings.Contains(err.Error(), "\n"), "one line: %q", err)
		})
	}
}
