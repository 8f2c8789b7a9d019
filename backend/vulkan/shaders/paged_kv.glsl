// Shared by paged_attention and paged_attention_split: an element of the
// key and value caches as a float, the caches stored as float32 or, with
// KV_BF16, as bf16 two per word (backend.BF16KV's PagedAttentionBF16).
// A widened bf16 is exactly the float32 a float32 cache would hold, and
// everything after the load is the same code, so both give the same bits.
// Needs the bindings k and v (uint words) and the constant KV_BF16.

#include "bf16.glsl"

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
