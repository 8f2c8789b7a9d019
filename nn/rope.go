package nn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/goarpo/arpo/backend"
)

// RopeScaling is config.json's rope_scaling: how a checkpoint stretches
// RoPE's frequencies past its pre-training context. RopeType "llama3"
// (Llama 3.1 and 3.2: Factor, LowFreqFactor, HighFreqFactor,
// OriginalMaxPositionEmbeddings) and "linear" (Factor) are implemented;
// "default" means none. The legacy key "type" is read as "rope_type".
type RopeScaling struct {
	RopeType                      string  `json:"rope_type"`
	Factor                        float64 `json:"factor,omitempty"`
	LowFreqFactor                 float64 `json:"low_freq_factor,omitempty"`
	HighFreqFactor                float64 `json:"high_freq_factor,omitempty"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings,omitempty"`

	// unknown lists keys this package does not implement, to refuse them.
	unknown []string
}

// UnmarshalJSON reads rope_scaling, remembering keys it does not know.
func (r *RopeScaling) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("rope_scaling: %w", err)
	}
	*r = RopeScaling{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		var dst any
		switch k {
		case "rope_type", "type":
			dst = &r.RopeType
		case "factor":
			dst = &r.Factor
		case "low_freq_factor":
			dst = &r.LowFreqFactor
		case "high_freq_factor":
			dst = &r.HighFreqFactor
		case "original_max_position_embeddings":
			dst = &r.OriginalMaxPositionEmbeddings
		default:
			if !bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
				r.unknown = append(r.unknown, k)
			}
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("rope_scaling.%s: %w", k, err)
		}
	}
	return nil
}

// validate refuses the scalings RoPE cannot apply, naming the field.
func (r *RopeScaling) validate() error {
	if r == nil {
		return nil
	}
	if len(r.unknown) > 0 {
		return fmt.Errorf("rope_scaling.%s is not supported", r.unknown[0])
	}
	switch r.RopeType {
	case "default":
		return nil
	case "linear", "llama3":
		if !(r.Factor > 0) || math.IsInf(r.Factor, 0) {
			return fmt.Errorf("rope_scaling.factor must be positive and finite, got %g", r.Factor)
		}
		if r.RopeType == "llama3" {
			if !(r.LowFreqFactor > 0) {
				return fmt.Errorf("rope_scaling.low_freq_factor must be positive, got %g", r.LowFreqFactor)
			}
			if !(r.HighFreqFactor > r.LowFreqFactor) || math.IsInf(r.HighFreqFactor, 0) {
				return fmt.Errorf("rope_scaling.high_freq_factor %g must be finite and above low_freq_factor %g", r.HighFreqFactor, r.LowFreqFactor)
			}
			if r.OriginalMaxPositionEmbeddings <= 0 {
				return fmt.Errorf("rope_scaling.original_max_position_embeddings must be positive, got %d", r.OriginalMaxPositionEmbeddings)
			}
		}
		return r.params(1).Validate() // what the backends check; nil after the above
	case "":
		return fmt.Errorf("rope_scaling has no rope_type")
	}
	return fmt.Errorf("rope_scaling.rope_type %q is not supported (want llama3 or linear)", r.RopeType)
}

// params returns the backend's form of the scaling with base theta.
func (r *RopeScaling) params(theta float64) backend.RoPEParams {
	p := backend.Theta(theta)
	if r == nil || r.RopeType == "default" {
		return p
	}
	p.Scaling = r.RopeType
	p.Factor = r.Factor
	p.LowFreqFactor, p.HighFreqFactor = r.LowFreqFactor, r.HighFreqFactor
	p.OriginalMaxPos = r.OriginalMaxPositionEmbeddings
	return p
}

// RoPE returns the rotary embedding's parameters for the backend ops.
func (c Config) RoPE() backend.RoPEParams { return c.RopeScaling.params(c.RopeTheta) }

// validateRoPE reports a rope_scaling or rope_theta RoPE cannot use.
func (c Config) validateRoPE() error {
	if math.IsInf(c.RopeTheta, 0) {
		return fmt.Errorf("rope_theta must be finite, got %g", c.RopeTheta)
	}
	return c.RopeScaling.validate()
}

// readV5Keys reads the keys transformers 5 renamed: rope_parameters (RoPE's
// theta and scaling in one object) and dtype (torch_dtype).
func (c *Config) readV5Keys(data []byte) error {
	var v5 struct {
		RopeParameters map[string]json.RawMessage `json:"rope_parameters"`
		Dtype          string                     `json:"dtype"`
	}
	if err := json.Unmarshal(data, &v5); err != nil {
		return err
	}
	if c.TorchDtype == "" {
		c.TorchDtype = v5.Dtype
	}
	if v5.RopeParameters == nil {
		return nil
	}
	if t, ok := v5.RopeParameters["rope_theta"]; ok {
		if err := json.Unmarshal(t, &c.RopeTheta); err != nil {
			return fmt.Errorf("rope_parameters.rope_theta: %w", err)
		}
		delete(v5.RopeParameters, "rope_theta")
	}
	rest, err := json.Marshal(v5.RopeParameters)
	if err != nil {
		return err
	}
	var r RopeScaling
	if err := json.Unmarshal(rest, &r); err != nil {
		return fmt.Errorf("rope_parameters: %w", err)
	}
	c.RopeScaling = nil
	if r.RopeType != "default" || len(r.unknown) > 0 {
		c.RopeScaling = &r
	}
	return nil
}

// TokenIDs is config.json's form of eos_token_id: one id, or a list of them.
type TokenIDs []int

// UnmarshalJSON accepts null, a number or a list of numbers.
func (t *TokenIDs) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		*t = nil
		return nil
	case len(data) > 0 && data[0] == '[':
		var ids []int
		if err := json.Unmarshal(data, &ids); err != nil {
			return err
		}
		*t = ids
		return nil
	}
	var id int
	if err := json.Unmarshal(data, &id); err != nil {
		return err
	}
	*t = TokenIDs{id}
	return nil
}

// MarshalJSON writes one id as a number and several as a list.
func (t TokenIDs) MarshalJSON() ([]byte, error) {
	if len(t) == 1 {
		return json.Marshal(t[0])
	}
	return json.Marshal([]int(t))
}
