package nntest

import (
	"testing"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteQwen3LoadsBack(t *testing.T) {
	dir := t.TempDir()
	cfg, err := WriteQwen3(dir, 151936, 7)
	require.NoError(t, err)
	m, err := nn.LoadHF(dir, cpu.New(1))
	require.NoError(t, err)
	defer m.Free()
	assert.Equal(t, cfg, m.Cfg)
	assert.Equal(t, 16, m.Cfg.HeadDim)
	assert.Equal(t, nn.TokenIDs{Qwen3EOS}, m.Cfg.EOSTokenID)

	ts, err := safetensors.ReadDir(dir)
	require.NoError(t, err)
	assert.Contains(t, ts, "model.layers.1.self_attn.q_norm.weight")
	assert.Contains(t, ts, "model.layers.1.self_attn.k_norm.weight")
	assert.NotContains(t, ts, "lm_head.weight", "tied embeddings")
	assert.NotContains(t, ts, "model.layers.0.self_attn.q_proj.bias")

	p, err := m.Forward([]int32{Qwen3BOS, 9707, 11, 1879, Qwen3EOS}, nn.Pack(5))
	require.NoError(t, err)
	defer p.Free()
	logp, _, err := p.LogProbs(p.NextTokenTargets(), false)
	require.NoError(t, err)
	for _, v := range logp[:4] {
		assert.Less(t, float64(v), 0.0)
		assert.Greater(t, float64(v), -20.0, "a random tiny model is near uniform over 151936 tokens (log 151936 = 11.9)")
	}

	// The same seed writes the same weights.
	dir2 := t.TempDir()
	_, err = WriteQwen3(dir2, 151936, 7)
	require.NoError(t, err)
	ts2, err := safetensors.ReadDir(dir2)
	require.NoError(t, err)
	assert.Equal(t, ts, ts2)
}
