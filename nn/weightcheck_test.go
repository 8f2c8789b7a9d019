package nn

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/nn/safetensors"
)

// savedCheckpoint writes a small checkpoint and returns its path.
func savedCheckpoint(t *testing.T) string {
	t.Helper()
	m, err := New(tinyConfigs()["qwen2-gqa-tied"], refBackend{})
	require.NoError(t, err)
	m.Init(3)
	opt, err := NewAdamW(m, DefaultAdamW(1e-3))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	require.NoError(t, Checkpoint{Model: m, Opt: opt, Run: `{"phase":"rl"}`}.Save(path))
	ck, err := LoadCheckpoint(path, refBackend{})
	require.NoError(t, err, "the unchanged checkpoint loads")
	require.Equal(t, `{"phase":"rl"}`, ck.Run, "the run position comes back")
	return path
}

// rewriteHeader replaces the first old in the file's header with new (same length).
func rewriteHeader(t *testing.T, path, old, new string) {
	t.Helper()
	require.Len(t, new, len(old))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	i := bytes.Index(b, []byte(old))
	require.GreaterOrEqual(t, i, 0, "%q not in the header", old)
	copy(b[i:], new)
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// setValue overwrites element 0 of the named tensor with v.
func setValue(t *testing.T, path, name string, v float32) {
	t.Helper()
	f, err := safetensors.Open(path)
	require.NoError(t, err)
	ti, ok := f.Info(name)
	require.True(t, ok, name)
	f.Close()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	off := 8 + int64(binary.LittleEndian.Uint64(b)) + ti.Begin // the data follow the 8-byte length and the header
	binary.LittleEndian.PutUint32(b[off:], math.Float32bits(v))
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

func TestLoadCheckpointRefusesCorruptTensors(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	for _, c := range []struct {
		name, tensor string
		v            float32
		want         string
	}{
		{"NaN weight", "model.norm.weight", nan, "tensor model.norm.weight holds NaN"},
		{"Inf weight", "model.embed_tokens.weight", inf, "tensor model.embed_tokens.weight holds -Inf"},
		{"NaN moment", "optim.m.model.norm.weight", nan, "tensor optim.m.model.norm.weight holds NaN"},
		{"negative second moment", "optim.v.model.norm.weight", -1, "negative second moment"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := savedCheckpoint(t)
			setValue(t, path, c.tensor, c.v)
			_, err := LoadCheckpoint(path, refBackend{})
			require.ErrorContains(t, err, c.want)
		})
	}
	t.Run("dtype F32 changed to I32", func(t *testing.T) {
		path := savedCheckpoint(t)
		rewriteHeader(t, path, `"F32"`, `"I32"`)
		_, err := LoadCheckpoint(path, refBackend{})
		require.ErrorContains(t, err, "is stored as I32, but the config says F32")
	})
}

// TestLoadHFRefusesOtherDType: the shared model's config says bfloat16; a
// header that says F16 (same size, other numbers) is refused.
func TestLoadHFRefusesOtherDType(t *testing.T) {
	src := filepath.Dir(shareddata.Path(t, "models/llama-arith-random/model.safetensors"))
	dir := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	rewriteHeader(t, filepath.Join(dir, "model.safetensors"), `"BF16"`, `"F16" `)
	_, err := LoadHF(dir, refBackend{})
	require.ErrorContains(t, err, "is stored as F16, but the config says BF16")
}

func TestCheckTensor(t *testing.T) {
	ok := safetensors.Tensor{Data: []float32{1, 2}}
	for _, c := range []struct {
		dtype, want string
		fine        bool
	}{
		{"F32", "BF16", true}, // widening is exact
		{"BF16", "BF16", true},
		{"F16", "", true},
		{"I32", "", false},
		{"F16", "BF16", false},
		{"BF16", "F32", false},
	} {
		ok.DType = c.dtype
		err := checkTensor("w", ok, c.want)
		require.Equal(t, c.fine, err == nil, "%s stored, %q wanted: %v", c.dtype, c.want, err)
	}
}
