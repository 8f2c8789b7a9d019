package backend

// BF16KV is implemented by backends that can keep a paged KV cache in bf16
// (the CPU and Vulkan backends): half the bytes of a float32 cache, so
// twice the positions in the same memory and half the bytes a decode step's
// attention reads. Keys and values are rounded to bf16 as they enter the
// cache (ScatterRowsBF16, rounding as ToBF16 does) and widened back to
// float32 as attention reads them; every sum stays float32.
//
// The cache buffers are bf16 buffers of the BF16 interface (AllocBF16).
// Views into them count bf16 elements, as there.
type BF16KV interface {
	// CopyBF16 copies n bf16 elements: dst[i] = src[i]. Both views are
	// bf16 buffers; the ranges must not overlap.
	CopyBF16(dst, src View, n int)
	// ScatterRowsBF16 is ScatterRows into a bf16 buffer: row i of src
	// (float32, (len(rows), width)) is rounded to bf16 into row rows[i] of
	// dst. Where rows repeats a destination, the last row listed wins.
	// width and dst.Off must be even (a device stores bf16 in pairs, and
	// a cache row, kvHeads*headDim with an even head dimension, is).
	ScatterRowsBF16(dst, src View, rows []int32, width int)
	// PagedAttentionBF16 is PagedAttention over bf16 caches. It gives the
	// bits that the backend's PagedAttention gives on float32 caches holding
	// the widened values, so a cache's precision changes only what is
	// stored, never how attention sums.
	PagedAttentionBF16(out, q, kCache, vCache View, seqs []PagedSeq, blockSize, heads, kvHeads, headDim int, scale float32)
}

// The ops of the BF16KV interface, for Supports.
const (
	OpCopyBF16           Op = "copy_bf16"
	OpScatterRowsBF16    Op = "scatter_rows_bf16"
	OpPagedAttentionBF16 Op = "paged_attention_bf16"
)

// BF16KVOps lists the ops of the BF16KV interface.
var BF16KVOps = []Op{OpCopyBF16, OpScatterRowsBF16, OpPagedAttentionBF16}

// AsBF16KV returns b's BF16 and BF16KV interfaces when it implements both
// and says it supports every op of them.
func AsBF16KV(b Backend) (BF16, BF16KV, bool) {
	bf, ok := AsBF16(b)
	if !ok {
		return nil, nil, false
	}
	kv, ok := b.(BF16KV)
	if !ok {
		return nil, nil, false
	}
	for _, op := range BF16KVOps {
		if !b.Supports(op) {
			return nil, nil, false
		}
	}
	return bf, kv, true
}
