package nn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseConfigQwen2Defaults(t *testing.T) {
	c, err := ParseConfig([]byte(`{"model_type":"qwen2","vocab_size":151936,"hidden_size":896,
		"num_hidden_layers":24,"num_attention_heads":14,"num_key_value_heads":2,"intermediate_size":4864,
		"rope_theta":1000000.0,"rms_norm_eps":1e-06,"tie_word_embeddings":true,"max_position_embeddings":32768,
		"use_sliding_window":false,"sliding_window":32768,"hidden_act":"silu","head_dim":null}`))
	require.NoError(t, err)
	assert.Equal(t, 64, c.HeadDim)
	assert.True(t, c.QKVBias())
	assert.False(t, c.OBias())
	assert.True(t, c.TieWordEmbeddings)
	assert.Equal(t, 1e6, c.RopeTheta)
}

func TestParseConfigLlamaDefaults(t *testing.T) {
	c, err := ParseConfig([]byte(`{"model_type":"llama","vocab_size":16,"hidden_size":128,
		"num_hidden_layers":4,"num_attention_heads":4,"intermediate_size":344,"rope_scaling":null}`))
	require.NoError(t, err)
	assert.Equal(t, 4, c.NumKVHeads, "num_key_value_heads defaults to num_attention_heads")
	assert.Equal(t, 32, c.HeadDim)
	assert.Equal(t, 10000.0, c.RopeTheta)
	assert.Equal(t, 1e-6, c.RMSNormEps)
	assert.False(t, c.QKVBias())

	c.AttentionBias = true
	assert.True(t, c.QKVBias())
	assert.True(t, c.OBias())
}

func TestParseConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct{ json, want string }{
		"syntax":   {`{"model_type":`, "config"},
		"type":     {`{"model_type":"gpt2","vocab_size":1,"hidden_size":4,"num_hidden_layers":1,"num_attention_heads":1,"intermediate_size":4}`, `model_type "gpt2"`},
		"gqa":      {`{"model_type":"llama","vocab_size":1,"hidden_size":12,"num_hidden_layers":1,"num_attention_heads":3,"num_key_value_heads":2,"intermediate_size":4}`, "not a multiple"},
		"odd head": {`{"model_type":"llama","vocab_size":1,"hidden_size":3,"num_hidden_layers":1,"num_attention_heads":1,"intermediate_size":4}`, "even"},
		"missing":  {`{"model_type":"llama"}`, "vocab_size must be positive"},
		"scaling":  {`{"model_type":"llama","vocab_size":1,"hidden_size":4,"num_hidden_layers":1,"num_attention_heads":1,"intermediate_size":4,"rope_scaling":{"type":"linear"}}`, "rope_scaling"},
		"act":      {`{"model_type":"llama","vocab_size":1,"hidden_size":4,"num_hidden_layers":1,"num_attention_heads":1,"intermediate_size":4,"hidden_act":"gelu"}`, "hidden_act"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.json))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestConfigHFJSONRoundTrip(t *testing.T) {
	for name, c := range tinyConfigs() {
		back, err := ParseConfig(c.HFJSON())
		require.NoError(t, err, name)
		assert.Equal(t, c, back, name)
	}
}
