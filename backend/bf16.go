package backend

// BF16 is implemented by backends with bf16 storage and a BF16 GEMM (the
// CPU and Vulkan backends). The core Backend interface stays float32;
// nn uses this one for mixed-precision training (tensor.BF16) and the
// rollout engine for a bf16 copy of the weights, and refuses bf16 where a
// backend lacks it.
//
// bf16 ("brain float") is the high half of a float32: sign, 8-bit exponent,
// 7 fraction bits. Rounding from float32 is to nearest, ties to even (NaN
// stays NaN, float32 denormals become signed zeros: asm.BF16FromF32).
//
// A bf16 buffer's Len counts bf16 elements, and views into it count
// elements too. Copy, Read, Write and the float32 ops take float32 buffers
// only; bf16 buffers enter through WriteBF16 and ToBF16 and are read by
// GemmBF16 and ReadBF16.
type BF16 interface {
	// AllocBF16 returns a zeroed buffer of n bf16 elements.
	AllocBF16(n int) Buffer
	// WriteBF16 copies src (bf16 bits) into the bf16 buffer at dst.
	WriteBF16(dst View, src []uint16)
	// ReadBF16 copies len(dst) bf16 elements starting at src into dst.
	ReadBF16(dst []uint16, src View) error
	// ToBF16 rounds n float32 elements of src into the bf16 buffer at dst.
	ToBF16(dst, src View, n int)
	// GemmBF16 is Gemm (same shapes, transposes, leading dimensions, beta
	// rules and determinism) with bf16 products: each operand view may be
	// a bf16 buffer or a float32 buffer, whose elements are rounded to bf16
	// as they are read (no converted copy is kept); C is float32 and the
	// products (exact in float32) are summed in float32. The rows of C do
	// not depend on m or on which other rows are computed with them (for
	// beta 0 or 1), so a batch-invariant caller may pass any number of rows.
	GemmBF16(transA, transB bool, m, n, k int, alpha float32, a View, lda int, b View, ldb int, beta float32, c View, ldc int)
}

// The ops of the BF16 interface, for Supports.
const (
	OpGemmBF16 Op = "gemm_bf16"
	OpToBF16   Op = "to_bf16"
)

// BF16Ops lists the ops of the BF16 interface.
var BF16Ops = []Op{OpGemmBF16, OpToBF16}

// AsBF16 returns b's BF16 interface when it implements it and says it
// supports every BF16 op.
func AsBF16(b Backend) (BF16, bool) {
	x, ok := b.(BF16)
	if !ok {
		return nil, false
	}
	for _, op := range BF16Ops {
		if !b.Supports(op) {
			return nil, false
		}
	}
	return x, true
}
