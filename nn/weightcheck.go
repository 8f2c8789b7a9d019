package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/goarpo/arpo/nn/safetensors"
)

// hfDTypes maps a config.json torch_dtype to the safetensors dtype of its
// weights.
var hfDTypes = map[string]string{"float32": "F32", "float16": "F16", "bfloat16": "BF16"}

// checkTensor refuses a tensor a model must not load: one stored in a dtype
// other than want ("" accepts any floating dtype; F32 is always accepted,
// since widening to it is exact) or holding a NaN or an infinity, which
// would turn every later loss into NaN. name goes into the message.
func checkTensor(name string, t safetensors.Tensor, want string) error {
	if t.DType != "" && t.DType != want && t.DType != "F32" {
		floating := t.DType == "F16" || t.DType == "BF16" || t.DType == "F64"
		if want != "" || !floating {
			w := want
			if w == "" {
				w = "a floating dtype"
			}
			return fmt.Errorf("tensor %s is stored as %s, but the config says %s", name, t.DType, w)
		}
	}
	for i, v := range t.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("tensor %s holds %v at index %d (corrupt weights?)", name, v, i)
		}
	}
	return nil
}

// checkWeights runs checkTensor on every weight the model uses.
func (m *Model) checkWeights(ts map[string]safetensors.Tensor, want string) error {
	for _, p := range m.Params {
		if t, ok := ts[p.Name]; ok {
			if err := checkTensor(p.Name, t, want); err != nil {
				return err
			}
		}
	}
	return nil
}

// configDType reads the safetensors dtype that config.json's torch_dtype
// names; "" when it names none or one this package does not know.
func configDType(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var c struct {
		TorchDType string `json:"torch_dtype"`
	}
	if json.Unmarshal(data, &c) != nil {
		return ""
	}
	return hfDTypes[c.TorchDType]
}
