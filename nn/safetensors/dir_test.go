package safetensors

import (
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// shardedCheckpoint writes two shards and an index into a fresh directory
// and returns it with all the tensors it holds.
func shardedCheckpoint(t *testing.T) (string, map[string]Tensor) {
	t.Helper()
	dir := t.TempDir()
	shard1 := map[string]Tensor{
		"model.embed_tokens.weight": {Shape: []int{3, 2}, Data: []float32{1, 2, 3, 4, 5, 6}},
		"model.norm.weight":         {Shape: []int{2}, Data: []float32{1, 1}},
	}
	shard2 := map[string]Tensor{
		"lm_head.weight": {Shape: []int{3, 2}, Data: []float32{-1, -2, -3, -4, -5, -6}},
	}
	require.NoError(t, WriteFile(filepath.Join(dir, "model-00001-of-00002.safetensors"), shard1, nil))
	require.NoError(t, WriteFile(filepath.Join(dir, "model-00002-of-00002.safetensors"), shard2, nil))
	writeIndex(t, dir, `{
  "metadata": {"total_size": 56},
  "weight_map": {
    "lm_head.weight": "model-00002-of-00002.safetensors",
    "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
    "model.norm.weight": "model-00001-of-00002.safetensors"
  }
}`)
	all := maps.Clone(shard1)
	maps.Copy(all, shard2)
	for name, t := range all {
		t.DType = "F32" // as read back
		all[name] = t
	}
	return dir, all
}

func writeIndex(t *testing.T, dir, text string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, IndexFileName), []byte(text), 0o644))
}

func TestReadDirSharded(t *testing.T) {
	dir, want := shardedCheckpoint(t)
	got, err := ReadDir(dir)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestReadDirSingleFile(t *testing.T) {
	dir := t.TempDir()
	want := map[string]Tensor{"x": {Shape: []int{2}, Data: []float32{1, 2}}}
	require.NoError(t, WriteFile(filepath.Join(dir, SingleFileName), want, nil))
	got, err := ReadDir(dir)
	require.NoError(t, err)
	want["x"] = Tensor{Shape: []int{2}, Data: []float32{1, 2}, DType: "F32"}
	require.Equal(t, want, got)
}

func TestReadDirEmpty(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadDir(dir)
	require.ErrorContains(t, err, "neither model.safetensors nor model.safetensors.index.json")
	require.ErrorContains(t, err, dir)
}

func TestReadDirBadIndex(t *testing.T) {
	cases := []struct {
		name  string
		index string
		want  string
	}{
		{"missing shard", `{"weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors", "x": "gone.safetensors"}}`,
			`tensor "x": shard`},
		{"tensor missing from its shard", `{"weight_map": {
			"lm_head.weight": "model-00002-of-00002.safetensors",
			"model.embed_tokens.weight": "model-00001-of-00002.safetensors",
			"model.norm.weight": "model-00001-of-00002.safetensors",
			"model.layers.0.mlp.up_proj.weight": "model-00001-of-00002.safetensors"}}`,
			`tensor "model.layers.0.mlp.up_proj.weight" is listed in`},
		{"tensor in shard but not in index", `{"weight_map": {
			"lm_head.weight": "model-00002-of-00002.safetensors",
			"model.embed_tokens.weight": "model-00001-of-00002.safetensors"}}`,
			`tensor "model.norm.weight" is in the shard but not listed`},
		{"tensor listed under the wrong shard", `{"weight_map": {
			"lm_head.weight": "model-00001-of-00002.safetensors",
			"model.embed_tokens.weight": "model-00001-of-00002.safetensors",
			"model.norm.weight": "model-00001-of-00002.safetensors"}}`,
			`tensor "lm_head.weight" is listed in`},
		{"shard outside the directory", `{"weight_map": {"x": "../model-00001-of-00002.safetensors"}}`,
			"is not a file inside"},
		{"absolute shard path", `{"weight_map": {"x": "/etc/passwd"}}`, "is not a file inside"},
		{"duplicate tensor", `{"weight_map": {"x": "a.safetensors", "x": "b.safetensors"}}`, `duplicate name "x"`},
		{"no weight_map", `{"metadata": {}}`, "weight_map is missing or empty"},
		{"shard not a string", `{"weight_map": {"x": 1}}`, `weight_map["x"]`},
		{"invalid JSON", `{"weight_map": `, "invalid index"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, _ := shardedCheckpoint(t)
			writeIndex(t, dir, c.index)
			_, err := ReadDir(dir)
			require.ErrorContains(t, err, c.want)
		})
	}
}

func TestReadDirCorruptShard(t *testing.T) {
	dir, _ := shardedCheckpoint(t)
	shard := filepath.Join(dir, "model-00002-of-00002.safetensors")
	b, err := os.ReadFile(shard)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(shard, b[:len(b)-1], 0o644))
	_, err = ReadDir(dir)
	require.ErrorContains(t, err, shard)
}
