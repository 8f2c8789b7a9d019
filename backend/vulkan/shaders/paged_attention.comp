#version 450
#extension GL_GOOGLE_include_directive : require
// paged_attention: attention of query rows against a paged KV cache, one
// work group per (listed query row, head). info[infoOff + 3r ..] holds the
// row's (query row, number of keys, offset of its block table in info);
// position p lives in cache row blocks[p/blockSize]*blockSize + p%blockSize.
// Same online softmax as attention.comp, over blocks of 64 keys whose key
// slices are staged in shared memory for the scores (paged_kv.glsl). With
// KV_BF16 the caches hold bf16, two per word, widened as they are read,
// for PagedAttentionBF16; nothing else changes, so the bits are those of a
// float32 cache holding the widened values.
layout(local_size_x = 64) in;
layout(constant_id = 0) const bool KV_BF16 = false;
layout(constant_id = 1) const bool PAGED_WALK = false; // software drivers: no staging (paged_kv.glsl)
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer Q { float q[]; };
layout(std430, binding = 2) readonly buffer K { uint k[]; }; // float32 bits or bf16 pairs (KV_BF16)
layout(std430, binding = 3) readonly buffer V { uint v[]; };
layout(std430, binding = 4) readonly buffer I { int info[]; };
layout(push_constant) uniform PC {
    uint nrows, heads, kvHeads, hd, blockSize, oOff, qOff, kOff, vOff, infoOff;
    float scale;
} pc;

#include "paged_kv.glsl"

void main() {
    uint tid = gl_LocalInvocationID.x;
    uint h = gl_WorkGroupID.y;
    uint g = h / (pc.heads / pc.kvHeads);
    uint qw = pc.heads * pc.hd, kw = pc.kvHeads * pc.hd;
    for (uint r = gl_WorkGroupID.x; r < pc.nrows; r += gl_NumWorkGroups.x) {
        uint t = uint(info[pc.infoOff + 3u * r]);
        uint n = uint(info[pc.infoOff + 3u * r + 1u]);
        uint bt = uint(info[pc.infoOff + 3u * r + 2u]);
        for (uint d = tid; d < pc.hd; d += 64u) {
            qs[d] = q[pc.qOff + t * qw + h * pc.hd + d];
        }
        barrier();
        float acc[4] = float[4](0.0, 0.0, 0.0, 0.0);
        float m = -1.0 / 0.0, l = 0.0;
        for (uint j0 = 0u; j0 < n; j0 += 64u) {
            uint nb = min(64u, n - j0);
            pagedRows(tid, j0, nb, bt, kw, g);
            barrier();
            float dot = pagedDot(tid, nb);
            float s = tid < nb ? dot * pc.scale : -1.0 / 0.0;
            ps[tid] = s;
            barrier();
            float bm = m;
            for (uint jj = 0u; jj < nb; jj++) {
                bm = max(bm, ps[jj]);
            }
            barrier();
            ps[tid] = tid < nb ? exp(s - bm) : 0.0;
            barrier();
            float corr = exp(m - bm);
            l *= corr;
            for (uint c = 0u; c < 4u; c++) {
                acc[c] *= corr;
            }
            for (uint jj = 0u; jj < nb; jj++) {
                float p = ps[jj];
                l += p;
                uint vb = pc.vOff + rowAt[jj];
                for (uint c = 0u; c < 4u; c++) {
                    uint d = tid + 64u * c;
                    if (d < pc.hd) {
                        acc[c] += p * vAt(vb + d);
                    }
                }
            }
            m = bm;
            barrier();
        }
        float inv = 1.0 / l;
        for (uint c = 0u; c < 4u; c++) {
            uint d = tid + 64u * c;
            if (d < pc.hd) {
                o[pc.oOff + t * qw + h * pc.hd + d] = acc[c] * inv;
            }
        }
        barrier();
    }
}
