//go:build vulkan && cgo

package vulkan

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
)

// maxHeadDim is the largest head dimension the attention shaders hold
// (four output dimensions per invocation of 64).
const maxHeadDim = 256

func checkHeads(heads, kvHeads, headDim int) {
	if heads <= 0 || kvHeads <= 0 || headDim <= 0 || heads%kvHeads != 0 {
		panic(fmt.Sprintf("vulkan: attention with %d heads, %d kv heads, head dim %d", heads, kvHeads, headDim))
	}
	if headDim > maxHeadDim {
		panic(fmt.Sprintf("vulkan: attention head dimension %d is above the supported %d", headDim, maxHeadDim))
	}
}

// seqInfo checks that seqs tile [0, T) in order and returns T and, per row,
// the (start, end) of its sequence.
func seqInfo(seqs []backend.Seq) (int, []int32) {
	T := 0
	for i, s := range seqs {
		if s.Start != T || s.Len < 0 {
			panic(fmt.Sprintf("vulkan: attention sequence %d is %+v; sequences must tile [0, T) in order", i, s))
		}
		T += s.Len
	}
	info := make([]int32, 0, 2*T)
	for _, s := range seqs {
		for range s.Len {
			info = append(info, int32(s.Start), int32(s.Start+s.Len))
		}
	}
	return T, info
}

// Attention implements backend.Backend; q, out are (T, heads*headDim), k, v
// are (T, kvHeads*headDim), lse is (T, heads).
func (b *Backend) Attention(out, lse, q, k, v backend.View, seqs []backend.Seq, heads, kvHeads, headDim int, scale float32) {
	checkHeads(heads, kvHeads, headDim)
	T, info := seqInfo(seqs)
	if T == 0 {
		return
	}
	b.op()
	qn, kn := T*heads*headDim, T*kvHeads*headDim
	ob, oo := b.view(out, qn, true)
	lb, lo := b.view(lse, T*heads, true)
	qb, qo := b.view(q, qn, false)
	kb, ko := b.view(k, kn, false)
	vb, vo := b.view(v, kn, false)
	ib, ok := b.stageInts(info)
	if !ok {
		return
	}
	pc := []uint32{uint32(T), uint32(heads), uint32(kvHeads), uint32(headDim), oo, lo, qo, ko, vo, 0, f32(scale)}
	if hd, bq, ok := b.flashShape(headDim); ok && ceilDiv(T, bq) <= maxGroups {
		b.dispatchSpec("flash_attention", []uint32{uint32(hd), uint32(bq)}, []binding{ob, lb, qb, kb, vb, ib}, pc,
			uint32(ceilDiv(T, bq)), uint32(heads), 1)
		return
	}
	b.dispatch("attention", []binding{ob, lb, qb, kb, vb, ib}, pc, uint32(min(T, maxGroups)), uint32(heads))
}

// flashKeys is the key tile of flash_attention.comp (BKV there).
const flashKeys = 16

// flashShape returns flash_attention.comp's specialization for a head
// dimension: HD, the head dimension rounded up to 64, and BQ, the query
// rows of a work group (8 at HD 256, so that shared memory stays under 32
// KiB). ok is false when the device's shared memory is too small (the
// per-row kernel, attention.comp, runs then) or a test asks for the
// per-row kernel. Flash attention is also the faster one on lavapipe
// (docs/VULKAN.md).
func (b *Backend) flashShape(headDim int) (hd, bq int, ok bool) {
	if b.perRowAttention {
		return 0, 0, false
	}
	hd = ceilDiv(headDim, 64) * 64
	bq = 16
	if hd > 128 {
		bq = 8
	}
	shared := 4 * ((bq+flashKeys)*(hd+1) + bq*flashKeys + 3*bq)
	return hd, bq, shared <= int(b.d.limits.MaxComputeSharedMemorySize)
}

// AttentionBackward implements backend.Backend: a query-side pass writes
// dq and D = dout.out per (row, head) into scratch, then a key-side pass
// writes dk and dv, each summed in a fixed order. Both passes work on
// blocks of rows with tiles in shared memory (flash_attention_dq/dkv)
// where the device's shared memory allows, else one row per work group.
func (b *Backend) AttentionBackward(dq, dk, dv, dout, q, k, v, out, lse backend.View, seqs []backend.Seq, heads, kvHeads, headDim int, scale float32) {
	checkHeads(heads, kvHeads, headDim)
	T, info := seqInfo(seqs)
	if T == 0 {
		return
	}
	b.op()
	qn, kn := T*heads*headDim, T*kvHeads*headDim
	dd := b.Alloc(T * heads).(*Buffer)
	defer b.Free(dd)
	ib, ok := b.stageInts(info)
	if !ok {
		return
	}
	ddb, ddo := b.bindView(dd, 0, T*heads, true)
	dqb, dqo := b.view(dq, qn, true)
	dob, doo := b.view(dout, qn, false)
	qb, qo := b.view(q, qn, false)
	kb, ko := b.view(k, kn, false)
	vb, vo := b.view(v, kn, false)
	ob, oo := b.view(out, qn, false)
	lb, lo := b.view(lse, T*heads, false)
	dkb, dko := b.view(dk, kn, true)
	dvb, dvo := b.view(dv, kn, true)
	dqPC := []uint32{uint32(T), uint32(heads), uint32(kvHeads), uint32(headDim), dqo, ddo, doo, qo, ko, vo, oo, lo, 0, f32(scale)}
	dkvPC := []uint32{uint32(T), uint32(heads), uint32(kvHeads), uint32(headDim), dko, dvo, doo, qo, ko, vo, ddo, lo, 0, f32(scale)}
	if hd, r, ok := b.flashBackwardShape(headDim); ok && ceilDiv(T, r) <= maxGroups {
		spec := []uint32{uint32(hd), uint32(r)}
		b.dispatchSpec("flash_attention_dq", spec, []binding{dqb, ddb, dob, qb, kb, vb, ob, lb, ib}, dqPC, uint32(ceilDiv(T, r)), uint32(heads), 1)
		ddb.write = false
		b.dispatchSpec("flash_attention_dkv", spec, []binding{dkb, dvb, dob, qb, kb, vb, ddb, lb, ib}, dkvPC, uint32(ceilDiv(T, r)), uint32(kvHeads), 1)
		return
	}
	b.dispatch("attention_dq", []binding{dqb, ddb, dob, qb, kb, vb, ob, lb, ib}, dqPC, uint32(min(T, maxGroups)), uint32(heads))
	ddb.write = false
	b.dispatch("attention_dkv", []binding{dkb, dvb, dob, qb, kb, vb, ddb, lb, ib}, dkvPC, uint32(min(T, maxGroups)), uint32(kvHeads))
}

// flashBackwardShape returns the specialization of
// flash_attention_dq.comp and flash_attention_dkv.comp for a head
// dimension: HD, the head dimension rounded up to 64, and R, the rows of a
// block and of a tile (R*HD = 1024: 16 rows at HD 64, 4 at HD 256). ok is
// false when the device's shared memory cannot hold the dkv kernel's four
// tiles (the per-row kernels run then) or a test asks for the per-row
// kernels.
func (b *Backend) flashBackwardShape(headDim int) (hd, r int, ok bool) {
	if b.perRowAttention {
		return 0, 0, false
	}
	hd = ceilDiv(headDim, 64) * 64
	r = 1024 / hd
	shared := 4 * (4*r*(hd+1) + 2*r*r + 2*r)
	return hd, r, shared <= int(b.d.limits.MaxComputeSharedMemorySize)
}

// PagedAttention implements backend.Backend; q and out are
// (T, heads*headDim), kCache and vCache are (blocks*blockSize,
// kvHeads*headDim).
func (b *Backend) PagedAttention(out, q, kCache, vCache backend.View, seqs []backend.PagedSeq, blockSize, heads, kvHeads, headDim int, scale float32) {
	b.pagedAttention("PagedAttention", false, out, q, kCache, vCache, seqs, blockSize, heads, kvHeads, headDim, scale)
}

// pagedAttention is PagedAttention over float32 caches or, with bf16,
// PagedAttentionBF16 over bf16 ones: the same shaders and the same split
// decision, the caches read through paged_kv.glsl (KV_BF16), so a bf16
// cache gives the bits of a float32 cache holding the widened values.
func (b *Backend) pagedAttention(op string, bf16 bool, out, q, kCache, vCache backend.View, seqs []backend.PagedSeq, blockSize, heads, kvHeads, headDim int, scale float32) {
	if len(seqs) == 0 {
		return
	}
	checkHeads(heads, kvHeads, headDim)
	if blockSize <= 0 {
		panic(fmt.Sprintf("vulkan: %s block size %d", op, blockSize))
	}
	qw, kw := heads*headDim, kvHeads*headDim
	cacheRows := min(b.tableRows(kCache, kw), b.tableRows(vCache, kw))
	rows, nrows := 0, 0
	for _, s := range seqs {
		rows = max(rows, s.Row+s.N)
		nrows += s.N
	}
	// info: 3 ints per query row (row, keys, block table offset), then the
	// block tables.
	info := make([]int32, 3*nrows, 3*nrows+64)
	r := 0
	for i, s := range seqs {
		ctx := s.Pos + s.N
		if s.Row < 0 || s.N < 0 || s.Pos < 0 || (ctx+blockSize-1)/blockSize > len(s.Blocks) {
			panic(fmt.Sprintf("vulkan: %s sequence %d (row %d, %d rows at position %d) is longer than its %d blocks", op, i, s.Row, s.N, s.Pos, len(s.Blocks)))
		}
		bt := len(info)
		for _, blk := range s.Blocks {
			if blk < 0 || (int(blk)+1)*blockSize > cacheRows {
				panic(fmt.Sprintf("vulkan: %s block %d is outside a cache of %d rows", op, blk, cacheRows))
			}
		}
		info = append(info, s.Blocks...)
		for j := 0; j < s.N; j++ {
			info[3*r], info[3*r+1], info[3*r+2] = int32(s.Row+j), int32(s.Pos+j+1), int32(bt)
			r++
		}
	}
	if nrows == 0 {
		return
	}
	b.op()
	ob, oo := b.view(out, rows*qw, true)
	qb, qo := b.view(q, rows*qw, false)
	// Specialization: KV_BF16, PAGED_WALK (software drivers: each
	// invocation reads its own key's row; elsewhere key slices are staged
	// in shared memory; the bits are the same).
	view, spec := b.view, []uint32{0, b2u(b.software && !b.pagedStagedForced)}
	if bf16 {
		view, spec[0] = b.viewBF16, 1
	}
	kb, ko := view(kCache, cacheRows*kw, false)
	vb, vo := view(vCache, cacheRows*kw, false)
	ib, ok := b.stageInts(info)
	if !ok {
		return
	}
	maxKeys := 0
	for r := range nrows {
		maxKeys = max(maxKeys, int(info[3*r+1]))
	}
	chunk := b.pagedChunk(nrows*heads, maxKeys)
	// The profile names the dispatches that read a bf16 cache apart (the
	// combine reads no cache and keeps its name).
	defer func() { b.kind = "" }()
	if chunk == 0 {
		if bf16 {
			b.kind = "paged_attention_bf16"
		}
		b.dispatchSpec("paged_attention", spec, []binding{ob, qb, kb, vb, ib},
			[]uint32{uint32(nrows), uint32(heads), uint32(kvHeads), uint32(headDim), uint32(blockSize), oo, qo, ko, vo, 0, f32(scale)},
			uint32(min(nrows, maxGroups)), uint32(heads), 1)
		return
	}
	// Split over the keys: partial results per chunk, then a merge in
	// chunk order.
	splits := ceilDiv(maxKeys, chunk)
	n := nrows * heads * splits * (headDim + 2)
	part := b.alloc(n, false)
	if b.err != nil {
		return
	}
	pw, po := b.bindView(part, 0, n, true)
	if bf16 {
		b.kind = "paged_attention_split_bf16"
	}
	b.dispatchSpec("paged_attention_split", spec, []binding{pw, qb, kb, vb, ib},
		[]uint32{uint32(nrows), uint32(heads), uint32(kvHeads), uint32(headDim), uint32(blockSize), po, qo, ko, vo, 0, f32(scale),
			uint32(chunk), uint32(splits)},
		uint32(min(nrows, maxGroups)), uint32(heads), uint32(splits))
	b.kind = ""
	pr, _ := b.bindView(part, 0, n, false)
	b.dispatch("paged_attention_combine", []binding{ob, pr, ib},
		[]uint32{uint32(nrows), uint32(heads), uint32(headDim), oo, po, 0, uint32(splits)},
		uint32(min(nrows, maxGroups)), uint32(heads))
	b.Free(part)
}

// Paged-attention split thresholds: the keys are split when the (row,
// head) work groups number fewer than pagedSplitGroups and a row has at
// least pagedSplitKeys keys, in chunks of a multiple of 64 keys, at most
// pagedMaxSplits of them.
const (
	pagedSplitGroups = 256
	pagedSplitKeys   = 256
	pagedMaxSplits   = 16
)

// pagedChunk returns the keys per split of a paged attention with groups
// (row, head) work groups and at most maxKeys keys per row, or 0 for no
// split (always on software drivers, where the split only adds work).
func (b *Backend) pagedChunk(groups, maxKeys int) int {
	if b.pagedChunkForced > 0 {
		return b.pagedChunkForced
	}
	if b.software || groups >= pagedSplitGroups || maxKeys < pagedSplitKeys {
		return 0
	}
	splits := min(pagedMaxSplits, ceilDiv(2*pagedSplitGroups, groups), ceilDiv(maxKeys, 64))
	return ceilDiv(ceilDiv(maxKeys, splits), 64) * 64
}
