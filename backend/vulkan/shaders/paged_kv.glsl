// Shared by paged_attention and paged_attention_split: reading the paged
// key and value caches, stored as float32 or, with KV_BF16, as bf16 two
// per word (backend.BF16KV's PagedAttentionBF16). A widened bf16 is
// exactly the float32 a float32 cache would hold, and everything after the
// load is the same code, so both give the same bits.
//
// A work group (64 invocations) takes the keys of a query row in blocks of
// up to 64, invocation i owning key j0+i of the block. The score phase
// stages the block's key head slices in shared memory PAGED_TILE_D
// dimensions at a time, each slice read with consecutive invocations on
// consecutive elements of one row (whole words of a bf16 cache), instead of
// each invocation walking its own key's row, 64 rows apart; each invocation
// then carries its key's dot across the slices in ascending d, the order
// and operations of a walk along the row, so the bits do not depend on the
// staging. The value phase reads the rows from the offsets of the block's
// keys, found once per block (pagedRows) instead of by every invocation
// for every key.
//
// With PAGED_WALK (software drivers) each invocation walks its own key's
// row instead, the same sum in the same order from the same values: a CPU
// driver runs the invocations on SIMD lanes that gain nothing from
// coalescing, and the staging costs it a copy through shared memory per
// element (on lavapipe the staged kernel takes about 1.5 times the
// walk's time). Tests run both on every device and require the same bits.
//
// Shared memory: 64 x 33 floats of tile, 256 of query, 64 of scores, 64
// row offsets, 9,984 bytes, under the 16 KiB every Vulkan device offers
// (maxComputeSharedMemorySize), so no device needs another kernel.
//
// Needs the bindings k, v (uint words) and info, the push constants
// pc.hd, pc.blockSize, pc.kOff, pc.vOff, and the constants KV_BF16 and
// PAGED_WALK.

#include "bf16.glsl"

// PAGED_TILE_D is the dimensions of a staged slice: 128 bytes of a float32
// row, one memory transaction per 32 invocations. Rows of the tile are
// padded to PAGED_TILE_D+1 floats so that the invocations reading the same
// d of 32 keys hit 32 different banks.
const uint PAGED_TILE_D = 32u;
const uint PAGED_TILE_STRIDE = PAGED_TILE_D + 1u;

shared float qs[256];                        // the query row's head slice
shared float ps[64];                         // scores, then probabilities, of a block
shared uint rowAt[64];                       // key i's head slice starts at element rowAt[i] of a cache
shared float kt[64 * PAGED_TILE_STRIDE];     // keys' dims [d0, d0+PAGED_TILE_D)

// kAt returns element i of the key cache, vAt of the value cache (counted
// in elements from the start of the binding).
float kAt(uint i) {
    if (KV_BF16) {
        uint w = k[i >> 1];
        return (i & 1u) != 0u ? bf16Hi(w) : bf16Lo(w);
    }
    return uintBitsToFloat(k[i]);
}
float vAt(uint i) {
    if (KV_BF16) {
        uint w = v[i >> 1];
        return (i & 1u) != 0u ? bf16Hi(w) : bf16Lo(w);
    }
    return uintBitsToFloat(v[i]);
}

// pagedRows sets rowAt for the nb keys [j0, j0+nb) of the row whose block
// table starts at info[bt], kv head g, cache row width kw (elements).
// Callers barrier before anything reads rowAt.
void pagedRows(uint tid, uint j0, uint nb, uint bt, uint kw, uint g) {
    if (tid < nb) {
        uint j = j0 + tid;
        uint row = uint(info[bt + j / pc.blockSize]) * pc.blockSize + j % pc.blockSize;
        rowAt[tid] = row * kw + g * pc.hd;
    }
}

// pagedStage copies dims [d0, d0+dn) of the block's nb keys into kt.
// Invocation tid copies dim d0 + tid%32 (a pair of dims, d0 + 2(tid%16),
// from a bf16 cache) of every other key (every fourth) from key tid/32
// (tid/16) on: 32 invocations read 32 consecutive floats (16 consecutive
// words) of one row.
void pagedStage(uint tid, uint nb, uint d0, uint dn) {
    if (KV_BF16) {
        // A whole word when the pair is word-aligned; a row that starts
        // at an odd element (odd head dim or cache offset) puts each pair
        // across two words.
        const uint lanes = PAGED_TILE_D / 2u;
        uint dd = 2u * (tid % lanes);
        if (dd >= dn) {
            return;
        }
        bool second = dd + 1u < dn;
        for (uint key = tid / lanes; key < nb; key += 64u / lanes) {
            uint e = pc.kOff + rowAt[key] + d0 + dd;
            uint w = k[e >> 1];
            float x0 = bf16Lo(w), x1 = bf16Hi(w);
            if ((e & 1u) != 0u) {
                x0 = x1;
                x1 = second ? bf16Lo(k[(e >> 1) + 1u]) : 0.0;
            }
            kt[key * PAGED_TILE_STRIDE + dd] = x0;
            if (second) {
                kt[key * PAGED_TILE_STRIDE + dd + 1u] = x1;
            }
        }
        return;
    }
    uint dd = tid % PAGED_TILE_D;
    if (dd >= dn) {
        return;
    }
    for (uint key = tid / PAGED_TILE_D; key < nb; key += 64u / PAGED_TILE_D) {
        kt[key * PAGED_TILE_STRIDE + dd] = uintBitsToFloat(k[pc.kOff + rowAt[key] + d0 + dd]);
    }
}

// pagedDot returns qs . key tid of the block (for tid < nb; 0 otherwise),
// summed in ascending d. Every invocation of the work group calls it
// (it barriers), after a barrier that follows pagedRows.
float pagedDot(uint tid, uint nb) {
    float dot = 0.0;
    if (PAGED_WALK) {
        if (tid < nb) {
            uint kb = pc.kOff + rowAt[tid];
            for (uint d = 0u; d < pc.hd; d++) {
                dot += qs[d] * kAt(kb + d);
            }
        }
        return dot;
    }
    for (uint d0 = 0u; d0 < pc.hd; d0 += PAGED_TILE_D) {
        uint dn = min(PAGED_TILE_D, pc.hd - d0);
        if (d0 > 0u) {
            barrier(); // the last slice is read
        }
        pagedStage(tid, nb, d0, dn);
        barrier();
        if (tid < nb) {
            for (uint dd = 0u; dd < dn; dd++) {
                dot += qs[d0 + dd] * kt[tid * PAGED_TILE_STRIDE + dd];
            }
        }
    }
    return dot;
}
