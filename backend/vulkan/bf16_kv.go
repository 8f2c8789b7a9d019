//go:build vulkan && cgo

package vulkan

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
)

// This file is the backend.BF16KV interface on Vulkan: a paged KV cache in
// bf16 buffers (bf16.go's layout, two elements per word). CopyBF16
// (copy_bf16.comp) and ScatterRowsBF16 (scatter_rows_bf16.comp) write one
// destination word per invocation; PagedAttentionBF16 is PagedAttention's
// shaders specialised to widen the cache as they read it (paged_kv.glsl).

var _ backend.BF16KV = (*Backend)(nil)

// CopyBF16 implements backend.BF16KV: n bf16 elements at any offsets, odd
// ones included; at an odd end the destination word keeps its other half.
func (b *Backend) CopyBF16(dst, src backend.View, n int) {
	if n < 0 {
		panic(fmt.Sprintf("vulkan: CopyBF16 of %d elements", n))
	}
	if n == 0 {
		return
	}
	b.op()
	d, do := b.viewBF16(dst, n, true)
	s, so := b.viewBF16(src, n, false)
	words := (int(do)+n-1)/2 - int(do)/2 + 1
	b.dispatch("copy_bf16", []binding{d, s}, []uint32{uint32(n), do, so}, groups(words, 256), 1)
}

// ScatterRowsBF16 implements backend.BF16KV: ScatterRows into a bf16
// buffer, each float32 rounded as asm.BF16FromF32 (bf16.glsl). An odd
// width or destination offset is a programming error (the interface
// requires both even, so that a row is whole words): it panics.
func (b *Backend) ScatterRowsBF16(dst, src backend.View, rows []int32, width int) {
	if width%2 != 0 || dst.Off%2 != 0 {
		panic(fmt.Sprintf("vulkan: ScatterRowsBF16 with width %d at destination element %d; both must be even (two bf16 share a word)", width, dst.Off))
	}
	if width <= 0 || len(rows) == 0 {
		return
	}
	b.op()
	dstRows := b.tableRows(dst, width)
	pairs := scatterPairs("ScatterRowsBF16", rows, dstRows)
	words := len(pairs) / 2 * width / 2
	db, do := b.viewBF16(dst, dstRows*width, true)
	sb, so := b.view(src, len(rows)*width, false)
	ib, ok := b.stageInts(pairs)
	if !ok {
		return
	}
	b.dispatch("scatter_rows_bf16", []binding{db, sb, ib}, []uint32{uint32(words), uint32(width), do, so, 0}, groups(words, 256), 1)
}

// PagedAttentionBF16 implements backend.BF16KV: PagedAttention's shaders
// and split decision with the caches read as bf16, so the bits are those
// of PagedAttention over float32 caches holding the widened values.
func (b *Backend) PagedAttentionBF16(out, q, kCache, vCache backend.View, seqs []backend.PagedSeq, blockSize, heads, kvHeads, headDim int, scale float32) {
	b.pagedAttention("PagedAttentionBF16", true, out, q, kCache, vCache, seqs, blockSize, heads, kvHeads, headDim, scale)
}
