#version 450
#extension GL_GOOGLE_include_directive : require
// paged_attention_split: paged_attention.comp split over the keys
// (flash-decoding), for decode, where few query rows leave a GPU idle. Work
// group (r, h, z) takes keys [z*chunk, (z+1)*chunk) of listed row r's
// keys and writes its partial result, unnormalised, to part at
// ((r*heads + h)*splits + z)*(hd + 2): the running max, the sum of
// exponentials, then hd accumulated values (-inf, 0, zeros for a chunk
// past the row's keys). paged_attention_combine.comp merges the splits in
// order. info, the cache layout and KV_BF16 are as in paged_attention.comp.
layout(local_size_x = 64) in;
layout(constant_id = 0) const bool KV_BF16 = false;
layout(constant_id = 1) const bool PAGED_WALK = false; // software drivers: no staging (paged_kv.glsl)
layout(std430, binding = 0) buffer P { float part[]; };
layout(std430, binding = 1) readonly buffer Q { float q[]; };
layout(std430, binding = 2) readonly buffer K { uint k[]; }; // float32 bits or bf16 pairs (KV_BF16)
layout(std430, binding = 3) readonly buffer V { uint v[]; };
layout(std430, binding = 4) readonly buffer I { int info[]; };
layout(push_constant) uniform PC {
    uint nrows, heads, kvHeads, hd, blockSize, pOff, qOff, kOff, vOff, infoOff;
    float scale;
    uint chunk, splits;
} pc;

#include "paged_kv.glsl"

void main() {
    uint tid = gl_LocalInvocationID.x;
    uint h = gl_WorkGroupID.y;
    uint g = h / (pc.heads / pc.kvHeads);
    uint qw = pc.heads * pc.hd, kw = pc.kvHeads * pc.hd;
    for (uint r = gl_WorkGroupID.x; r < pc.nrows; r += gl_NumWorkGroups.x) {
        uint t = uint(info[pc.infoOff + 3u * r]);
        uint nAll = uint(info[pc.infoOff + 3u * r + 1u]);
        uint z = gl_WorkGroupID.z;
        uint kBegin = min(nAll, z * pc.chunk), n = min(nAll, kBegin + pc.chunk);
        uint bt = uint(info[pc.infoOff + 3u * r + 2u]);
        for (uint d = tid; d < pc.hd; d += 64u) {
            qs[d] = q[pc.qOff + t * qw + h * pc.hd + d];
        }
        barrier();
        float acc[4] = float[4](0.0, 0.0, 0.0, 0.0);
        float m = -1.0 / 0.0, l = 0.0;
        for (uint j0 = kBegin; j0 < n; j0 += 64u) {
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
        uint base = pc.pOff + ((r * pc.heads + h) * pc.splits + z) * (pc.hd + 2u);
        for (uint c = 0u; c < 4u; c++) {
            uint d = tid + 64u * c;
            if (d < pc.hd) {
                part[base + 2u + d] = acc[c];
            }
        }
        if (tid == 0u) {
            part[base] = m;
            part[base + 1u] = l;
        }
        barrier();
    }
}
