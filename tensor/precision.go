package tensor

import (
	"fmt"
	"strings"

	"github.com/goarpo/arpo/backend"
)

// Precision is the arithmetic of the matrix products (MatMul, Linear,
// LinearBackward) a tensor takes part in. Storage is float32 either way:
// with BF16 the operands are rounded to bf16 as the backend reads them
// (backend.BF16's GemmBF16), and products are summed in float32 into a
// float32 result. Mixed-precision training marks a model's linear weights
// and their gradients BF16 (nn.Model.SetPrecision): every GEMM that reads a
// weight (the forward, the input gradient) or writes its gradient then runs
// in bf16, while the master weights, the optimizer and every other op stay
// float32.
type Precision uint8

const (
	// F32 is the default: float32 operands (backend.Backend's Gemm).
	F32 Precision = iota
	// BF16 rounds the operands to bf16, sums in float32.
	BF16
)

// String is the flag spelling: "f32" or "bf16".
func (p Precision) String() string {
	switch p {
	case F32:
		return "f32"
	case BF16:
		return "bf16"
	}
	return fmt.Sprintf("precision(%d)", uint8(p))
}

// ParsePrecision reads "f32" or "bf16" (case-insensitive; "fp32", "float32",
// "bfloat16" too).
func ParsePrecision(s string) (Precision, error) {
	switch strings.ToLower(s) {
	case "f32", "fp32", "float32":
		return F32, nil
	case "bf16", "bfloat16":
		return BF16, nil
	}
	return F32, fmt.Errorf("precision %q: want f32 or bf16", s)
}

// CheckPrecision reports whether b can run products in precision p.
func CheckPrecision(b backend.Backend, p Precision) error {
	switch p {
	case F32:
		return nil
	case BF16:
		if _, ok := backend.AsBF16(b); !ok {
			return fmt.Errorf("the %s backend has no bf16 GEMM (backend.BF16)", b.Name())
		}
		return nil
	}
	return fmt.Errorf("unknown precision %v", p)
}

// Precision returns the tensor's precision (F32 unless set).
func (t *Tensor) Precision() Precision { return t.prec }

// SetPrecision sets the precision of the products t takes part in; views
// made from t afterwards inherit it. A product runs in BF16 when any of its
// three tensors is BF16, which the backend must support (CheckPrecision;
// MatMul panics otherwise).
func (t *Tensor) SetPrecision(p Precision) { t.prec = p }
