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
	if err := checkDType(name, t.DType, want); err != nil {
		return err
	}
	return checkFinite(name, t.Data)
}

// checkDType is checkTensor's dtype rule for a tensor stored as dtype.
func checkDType(name, dtype, want string) error {
	if dtype != "" && dtype != want && dtype != "F32" {
		floating := dtype == "F16" || dtype == "BF16" || dtype == "F64"
		if want != "" || !floating {
			w := want
			if w == "" {
				w = "a floating dtype"
			}
			return fmt.Errorf("tensor %s is stored as %s, but the config says %s", name, dtype, w)
		}
	}
	return nil
}

// checkFinite refuses a NaN or an infinity in data.
func checkFinite(name string, data []float32) error {
	for i, v := range data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("tensor %s holds %v at index %d (corrupt weights?)", name, v, i)
		}
	}
	return nil
}

// checkFiniteBF16 is checkFinite for bf16 bits: their exponent all ones is
// a NaN or an infinity (also a finite float32 beyond bf16's range, which
// rounded to one).
func checkFiniteBF16(name string, data []uint16) error {
	for i, h := range data {
		if h&0x7f80 == 0x7f80 {
			return fmt.Errorf("tensor %s holds %v at index %d (corrupt weights?)", name, safetensors.BF16ToF32(h), i)
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
