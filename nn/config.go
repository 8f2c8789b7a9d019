package nn

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
)

// Config describes a model; its JSON form is the Hugging Face config.json of
// LlamaForCausalLM, Qwen2ForCausalLM and Qwen3ForCausalLM (unknown keys are
// ignored). It keeps every key needed to write that config.json back.
type Config struct {
	// ModelType is "llama", "qwen2" or "qwen3". Qwen2 always has q/k/v
	// biases; Qwen3 has per-head q_norm/k_norm RMSNorms before RoPE.
	ModelType string `json:"model_type"`
	// VocabSize is the number of token ids, e.g. 151936.
	VocabSize int `json:"vocab_size"`
	// HiddenSize is the width of the residual stream, e.g. 896.
	HiddenSize int `json:"hidden_size"`
	// NumLayers is the number of decoder layers, e.g. 24.
	NumLayers int `json:"num_hidden_layers"`
	// NumHeads is the number of query heads, e.g. 14.
	NumHeads int `json:"num_attention_heads"`
	// NumKVHeads is the number of key/value heads, e.g. 2 (grouped-query
	// attention); it defaults to NumHeads and must divide it.
	NumKVHeads int `json:"num_key_value_heads"`
	// HeadDim is the width of one head, e.g. 64; 0 means HiddenSize/NumHeads
	// (128 for Qwen3, as transformers' Qwen3Config defaults).
	HeadDim int `json:"head_dim"`
	// IntermediateSize is the width of the SwiGLU MLP, e.g. 4864.
	IntermediateSize int `json:"intermediate_size"`
	// RopeTheta is the RoPE base, e.g. 1000000 (default 10000).
	RopeTheta float64 `json:"rope_theta"`
	// RopeScaling stretches RoPE's frequencies (Llama 3.1's "llama3",
	// "linear"); nil for plain RoPE. Transformers 5's rope_parameters is
	// read into RopeTheta and RopeScaling.
	RopeScaling *RopeScaling `json:"rope_scaling"`
	// RMSNormEps is the RMSNorm epsilon, e.g. 1e-6 (default 1e-6).
	RMSNormEps float64 `json:"rms_norm_eps"`
	// TieWordEmbeddings makes the LM head reuse the embedding matrix, e.g.
	// true for Qwen2.5-0.5B.
	TieWordEmbeddings bool `json:"tie_word_embeddings"`
	// AttentionBias gives Llama's and Qwen3's q/k/v/o projections biases,
	// e.g. false. Qwen2 has q/k/v biases (and no o bias) whatever this says.
	AttentionBias bool `json:"attention_bias"`
	// MaxPositionEmbeddings is the longest sequence the model was trained
	// for, e.g. 32768; Forward refuses longer sequences.
	MaxPositionEmbeddings int `json:"max_position_embeddings"`
	// InitializerRange is the standard deviation of the normal
	// initialisation of embedding and linear weights (Init), e.g. 0.02;
	// 0 means SmallInitStd(HiddenSize). Loaded weights ignore it.
	InitializerRange float64 `json:"initializer_range,omitempty"`

	// BOSTokenID, EOSTokenID and PadTokenID are the special token ids the
	// checkpoint names, kept for writing config.json back; EOSTokenID may
	// hold several (Llama 3.1 Instruct ends turns with any of three).
	BOSTokenID *int     `json:"bos_token_id,omitempty"`
	EOSTokenID TokenIDs `json:"eos_token_id,omitempty"`
	PadTokenID *int     `json:"pad_token_id,omitempty"`
	// TorchDtype is the dtype the checkpoint's weights came in, e.g.
	// "bfloat16" ("dtype" in transformers 5); "" when unknown.
	TorchDtype string `json:"torch_dtype,omitempty"`

	// Fields read only to refuse what this package does not implement.
	HiddenAct        string   `json:"hidden_act,omitempty"`
	MLPBias          bool     `json:"mlp_bias,omitempty"`
	UseSlidingWindow bool     `json:"use_sliding_window,omitempty"`
	LayerTypes       []string `json:"layer_types,omitempty"`
	NumExperts       int      `json:"num_experts,omitempty"`
	NumLocalExperts  int      `json:"num_local_experts,omitempty"`
}

// ParseConfig reads a config.json body, fills Hugging Face defaults and
// validates it.
func ParseConfig(data []byte) (Config, error) {
	c := Config{RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 2048, HiddenAct: "silu"}
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := c.readV5Keys(data); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if c.NumKVHeads == 0 {
		c.NumKVHeads = c.NumHeads
	}
	if c.HeadDim == 0 && c.ModelType == "qwen3" {
		c.HeadDim = 128 // transformers' Qwen3Config default, not hidden/heads
	}
	if c.HeadDim == 0 && c.NumHeads > 0 {
		c.HeadDim = c.HiddenSize / c.NumHeads
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LoadConfig reads and validates a config.json file.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch c.ModelType {
	case "llama", "qwen2", "qwen3":
	default:
		bad("model_type %q is not supported (want llama, qwen2 or qwen3)", c.ModelType)
	}
	pos := func(name string, v int) {
		if v <= 0 {
			bad("%s must be positive, got %d", name, v)
		}
	}
	pos("vocab_size", c.VocabSize)
	pos("hidden_size", c.HiddenSize)
	pos("num_hidden_layers", c.NumLayers)
	pos("num_attention_heads", c.NumHeads)
	pos("num_key_value_heads", c.NumKVHeads)
	pos("head_dim", c.HeadDim)
	pos("intermediate_size", c.IntermediateSize)
	pos("max_position_embeddings", c.MaxPositionEmbeddings)
	// Upper bounds first, so that no size computed from the config
	// overflows (hidden_size 1e9 made New panic with "negative dimension").
	most := func(name string, v, limit int) {
		if v > limit {
			bad("%s %d is over the limit of %d", name, v, limit)
		}
	}
	most("vocab_size", c.VocabSize, maxVocab)
	most("hidden_size", c.HiddenSize, maxDim)
	most("num_hidden_layers", c.NumLayers, maxLayers)
	most("num_attention_heads", c.NumHeads, maxHeads)
	most("num_key_value_heads", c.NumKVHeads, maxHeads)
	most("head_dim", c.HeadDim, maxDim)
	most("intermediate_size", c.IntermediateSize, maxDim)
	most("max_position_embeddings", c.MaxPositionEmbeddings, maxPos)
	if q := float64(c.NumHeads) * float64(c.HeadDim); q > maxDim {
		bad("num_attention_heads x head_dim = %.0f is over the limit of %d", q, maxDim)
	}
	if n := c.numParamsFloat(); n > maxParams {
		bad("the model would have %.3g parameters, over the limit of %.3g", n, float64(maxParams))
	}
	if c.NumHeads > 0 && c.NumKVHeads > 0 && c.NumHeads%c.NumKVHeads != 0 {
		bad("num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumHeads, c.NumKVHeads)
	}
	if c.HeadDim%2 != 0 {
		bad("head_dim %d must be even for RoPE", c.HeadDim)
	}
	if !(c.RopeTheta > 0) {
		bad("rope_theta must be positive, got %g", c.RopeTheta)
	}
	if !(c.RMSNormEps > 0) {
		bad("rms_norm_eps must be positive, got %g", c.RMSNormEps)
	}
	if !(c.InitializerRange >= 0) || math.IsInf(c.InitializerRange, 0) {
		bad("initializer_range must be finite and >= 0, got %g", c.InitializerRange)
	}
	if c.HiddenAct != "" && c.HiddenAct != "silu" {
		bad("hidden_act %q is not supported (only silu)", c.HiddenAct)
	}
	if c.MLPBias {
		bad("mlp_bias is not supported")
	}
	if err := c.validateRoPE(); err != nil {
		errs = append(errs, err)
	}
	if c.UseSlidingWindow {
		bad("use_sliding_window true is not supported (sliding-window attention)")
	}
	for i, t := range c.LayerTypes {
		if t != "full_attention" {
			bad("layer_types[%d] %q is not supported (only full_attention)", i, t)
			break
		}
	}
	if c.NumExperts > 0 || c.NumLocalExperts > 0 {
		bad("num_experts %d is not supported (mixture-of-experts)", max(c.NumExperts, c.NumLocalExperts))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid model config: %w", errors.Join(errs...))
	}
	return nil
}

// QKVBias reports whether q_proj, k_proj and v_proj have biases.
func (c Config) QKVBias() bool { return c.ModelType == "qwen2" || c.AttentionBias }

// OBias reports whether o_proj has a bias (Llama or Qwen3 with attention_bias).
func (c Config) OBias() bool { return c.ModelType != "qwen2" && c.AttentionBias }

// QKNorm reports whether each head of q and k is RMS-normed (over head_dim,
// one weight shared by the heads) before RoPE, as in Qwen3.
func (c Config) QKNorm() bool { return c.ModelType == "qwen3" }

// Architecture is the transformers class of the config's model_type, the
// "architectures" entry of config.json.
func (c Config) Architecture() string {
	switch c.ModelType {
	case "qwen2":
		return "Qwen2ForCausalLM"
	case "qwen3":
		return "Qwen3ForCausalLM"
	}
	return "LlamaForCausalLM"
}

// HFJSON returns the config as Hugging Face config.json content, with the
// architectures entry transformers needs to pick the model class. The
// torch_dtype entry is TorchDtype's: a writer of weights in another dtype
// sets it first.
func (c Config) HFJSON() []byte {
	raw, err := json.Marshal(c)
	if err != nil {
		panic(err) // a Config always marshals
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		panic(err)
	}
	fields["architectures"] = []string{c.Architecture()}
	out, err := json.MarshalIndent(fields, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(out, '\n')
}
