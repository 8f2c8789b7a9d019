package backend

// PackedBF16 is implemented by backends whose BF16 GEMM can keep a weight
// matrix in its micro-kernel's packed layout (the CPU backend). A product
// x W^T with a packed W skips the per-call packing of W, which for a few
// rows of x (a decode step) costs more than the products themselves: the
// kernel wants W's columns interleaved in pairs of k, a transpose of the
// (out, in) rows every call would otherwise redo. The rollout engine keeps
// its bf16 weight copy packed this way.
type PackedBF16 interface {
	// AllocPackedBF16 returns a buffer for an n x k weight in the packed
	// layout (contents undefined until PackBF16). Its Len is n*k.
	AllocPackedBF16(n, k int) Buffer
	// PackBF16 packs W, n x k row-major with leading dimension ldw (a bf16
	// or a float32 view; float32 elements are rounded to bf16 as
	// ToBF16 rounds them), into dst, a buffer of AllocPackedBF16(n, k).
	PackBF16(dst Buffer, w View, ldw int)
	// GemmBF16Packed is GemmBF16(false, true, m, n, k, alpha, a, lda, W,
	// ldw, beta, c, ldc) with the W that w was packed from, bit for bit.
	GemmBF16Packed(m int, alpha float32, a View, lda int, w Buffer, beta float32, c View, ldc int)
}

// AsPackedBF16 returns b's PackedBF16 interface when it has one and a BF16
// GEMM (AsBF16).
func AsPackedBF16(b Backend) (PackedBF16, bool) {
	if _, ok := AsBF16(b); !ok {
		return nil, false
	}
	p, ok := b.(PackedBF16)
	return p, ok
}
