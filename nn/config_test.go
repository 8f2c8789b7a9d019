package nn

import (
	"encoding/json"
	"testing"

	"github.com/goarpo/arpo/backend"
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
		"scaling":  {`{"model_type":"llama","vocab_size":1,"hidden_size":4,"num_hidden_layers":1,"num_attention_heads":1,"intermediate_size":4,"rope_scaling":{"type":"su"}}`, "rope_scaling"},
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

// Qwen3-0.6B's config.json as published (transformers 4.51).
const qwen3Config = `{"architectures":["Qwen3ForCausalLM"],"attention_bias":false,"attention_dropout":0.0,
	"bos_token_id":151643,"eos_token_id":151645,"head_dim":128,"hidden_act":"silu","hidden_size":1024,
	"initializer_range":0.02,"intermediate_size":3072,"max_position_embeddings":40960,"max_window_layers":28,
	"model_type":"qwen3","num_attention_heads":16,"num_hidden_layers":28,"num_key_value_heads":8,
	"rms_norm_eps":1e-06,"rope_scaling":null,"rope_theta":1000000,"sliding_window":null,
	"tie_word_embeddings":true,"torch_dtype":"bfloat16","transformers_version":"4.51.0","use_cache":true,
	"use_sliding_window":false,"vocab_size":151936}`

// Llama-3.2-1B-Instruct's config.json as published.
const llama32Config = `{"architectures":["LlamaForCausalLM"],"attention_bias":false,"attention_dropout":0.0,
	"bos_token_id":128000,"eos_token_id":[128001,128008,128009],"head_dim":64,"hidden_act":"silu",
	"hidden_size":2048,"initializer_range":0.02,"intermediate_size":8192,"max_position_embeddings":131072,
	"mlp_bias":false,"model_type":"llama","num_attention_heads":32,"num_hidden_layers":16,
	"num_key_value_heads":8,"pretraining_tp":1,"rms_norm_eps":1e-05,
	"rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,
	"original_max_position_embeddings":8192,"rope_type":"llama3"},"rope_theta":500000.0,
	"tie_word_embeddings":true,"torch_dtype":"bfloat16","transformers_version":"4.45.0.dev0",
	"use_cache":true,"vocab_size":128256}`

func TestParseConfigQwen3(t *testing.T) {
	c, err := ParseConfig([]byte(qwen3Config))
	require.NoError(t, err)
	assert.Equal(t, 128, c.HeadDim, "head_dim is explicit, not hidden/heads = 64")
	assert.True(t, c.QKNorm())
	assert.False(t, c.QKVBias())
	assert.False(t, c.OBias())
	assert.True(t, c.TieWordEmbeddings)
	assert.Nil(t, c.RopeScaling)
	assert.Equal(t, backend.Theta(1e6), c.RoPE())
	assert.Equal(t, 151643, *c.BOSTokenID)
	assert.Equal(t, TokenIDs{151645}, c.EOSTokenID)
	assert.Equal(t, "bfloat16", c.TorchDtype)
	assert.Equal(t, "Qwen3ForCausalLM", c.Architecture())

	c.AttentionBias = true
	assert.True(t, c.QKVBias())
	assert.True(t, c.OBias(), "Qwen3's attention_bias covers o_proj too")

	// Without head_dim, Qwen3 means transformers' default 128, not hidden/heads.
	c, err = ParseConfig([]byte(`{"model_type":"qwen3","vocab_size":4,"hidden_size":64,"num_hidden_layers":1,
		"num_attention_heads":2,"intermediate_size":4}`))
	require.NoError(t, err)
	assert.Equal(t, 128, c.HeadDim)
}

func TestParseConfigLlama32(t *testing.T) {
	c, err := ParseConfig([]byte(llama32Config))
	require.NoError(t, err)
	assert.Equal(t, backend.RoPEParams{Theta: 5e5, Scaling: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPos: 8192}, c.RoPE())
	assert.Equal(t, TokenIDs{128001, 128008, 128009}, c.EOSTokenID)
	assert.False(t, c.QKNorm())

	// What HFJSON writes reads back the same, and keeps the published keys.
	back, err := ParseConfig(c.HFJSON())
	require.NoError(t, err)
	assert.Equal(t, c, back)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(c.HFJSON(), &fields))
	assert.Equal(t, []any{128001.0, 128008.0, 128009.0}, fields["eos_token_id"])
	assert.Equal(t, map[string]any{"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
		"high_freq_factor": 4.0, "original_max_position_embeddings": 8192.0}, fields["rope_scaling"])
	assert.Equal(t, []any{"LlamaForCausalLM"}, fields["architectures"])
	assert.Equal(t, "bfloat16", fields["torch_dtype"])
}

func TestParseConfigRopeVariants(t *testing.T) {
	base := `{"model_type":"llama","vocab_size":4,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":4,`
	for name, tc := range map[string]struct {
		json string
		want backend.RoPEParams
	}{
		"legacy type key": {`"rope_scaling":{"type":"linear","factor":2.0}}`, backend.RoPEParams{Theta: 1e4, Scaling: "linear", Factor: 2}},
		"default":         {`"rope_scaling":{"rope_type":"default"},"rope_theta":100}`, backend.Theta(100)},
		"transformers 5": {`"rope_parameters":{"rope_type":"llama3","rope_theta":500000.0,"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192},"dtype":"bfloat16"}`,
			backend.RoPEParams{Theta: 5e5, Scaling: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPos: 8192}},
		"transformers 5 default": {`"rope_parameters":{"rope_type":"default","rope_theta":1000000.0}}`, backend.Theta(1e6)},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := ParseConfig([]byte(base + tc.json))
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.RoPE())
			back, err := ParseConfig(c.HFJSON())
			require.NoError(t, err)
			assert.Equal(t, tc.want, back.RoPE(), "HFJSON keeps the RoPE")
		})
	}
}

// TestParseConfigRefusesUnsupported checks that each architecture feature
// this package does not implement is refused with one line naming the field.
func TestParseConfigRefusesUnsupported(t *testing.T) {
	base := `{"vocab_size":4,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":4,`
	for name, tc := range map[string]struct{ json, want string }{
		"model_type":     {`"model_type":"qwen3_moe"}`, `model_type "qwen3_moe" is not supported`},
		"mistral":        {`"model_type":"mistral"}`, `model_type "mistral" is not supported`},
		"sliding window": {`"model_type":"qwen3","use_sliding_window":true,"sliding_window":4096}`, "use_sliding_window true is not supported"},
		"layer_types":    {`"model_type":"qwen3","layer_types":["full_attention","sliding_attention"]}`, `layer_types[1] "sliding_attention" is not supported`},
		"experts":        {`"model_type":"qwen3","num_experts":8}`, "num_experts 8 is not supported"},
		"local experts":  {`"model_type":"llama","num_local_experts":8}`, "num_experts 8 is not supported"},
		"yarn":           {`"model_type":"qwen2","rope_scaling":{"type":"yarn","factor":4.0,"original_max_position_embeddings":32768}}`, `rope_scaling.rope_type "yarn" is not supported`},
		"dynamic":        {`"model_type":"llama","rope_scaling":{"rope_type":"dynamic","factor":2.0}}`, `rope_scaling.rope_type "dynamic"`},
		"extra key":      {`"model_type":"llama","rope_scaling":{"rope_type":"linear","factor":2.0,"attention_factor":0.5}}`, "rope_scaling.attention_factor is not supported"},
		"no type":        {`"model_type":"llama","rope_scaling":{"factor":2.0}}`, "rope_scaling has no rope_type"},
		"no factor":      {`"model_type":"llama","rope_scaling":{"rope_type":"linear"}}`, "rope_scaling.factor must be positive"},
		"llama3 bands":   {`"model_type":"llama","rope_scaling":{"rope_type":"llama3","factor":8,"low_freq_factor":4,"high_freq_factor":1,"original_max_position_embeddings":8192}}`, "rope_scaling.high_freq_factor 1 must be finite and above low_freq_factor 4"},
		"llama3 context": {`"model_type":"llama","rope_scaling":{"rope_type":"llama3","factor":8,"low_freq_factor":1,"high_freq_factor":4}}`, "rope_scaling.original_max_position_embeddings must be positive"},
		"bad factor":     {`"model_type":"llama","rope_scaling":{"rope_type":"linear","factor":"x"}}`, "rope_scaling.factor"},
		"bad eos":        {`"model_type":"llama","eos_token_id":"x"}`, "config"},
		"v5 extra":       {`"model_type":"llama","rope_parameters":{"rope_type":"default","rope_theta":1e4,"partial_rotary_factor":0.5}}`, "rope_scaling.partial_rotary_factor is not supported"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig([]byte(base + tc.json))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}
