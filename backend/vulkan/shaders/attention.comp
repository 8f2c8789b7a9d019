#version 450
// attention: causal attention over a packed batch, one work group per
// (query row t, head h). Keys are visited in blocks of 64 (one score per
// invocation) with an online softmax; each invocation accumulates output
// dimensions tid, tid+64, ... (headDim <= 256). info[infoOff + 2t] is the
// first row of t's sequence. lse = max + log(sum of exponentials).
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) buffer L { float lse[]; };
layout(std430, binding = 2) readonly buffer Q { float q[]; };
layout(std430, binding = 3) readonly buffer K { float k[]; };
layout(std430, binding = 4) readonly buffer V { float v[]; };
layout(std430, binding = 5) readonly buffer I { int info[]; };
layout(push_constant) uniform PC {
    uint T, heads, kvHeads, hd, oOff, lOff, qOff, kOff, vOff, infoOff;
    float scale;
} pc;
shared float qs[256];
shared float ps[64];
void main() {
    uint tid = gl_LocalInvocationID.x;
    uint h = gl_WorkGroupID.y;
    uint g = h / (pc.heads / pc.kvHeads);
    uint qw = pc.heads * pc.hd, kw = pc.kvHeads * pc.hd;
    for (uint t = gl_WorkGroupID.x; t < pc.T; t += gl_NumWorkGroups.x) {
        uint start = uint(info[pc.infoOff + 2u * t]);
        for (uint d = tid; d < pc.hd; d += 64u) {
            qs[d] = q[pc.qOff + t * qw + h * pc.hd + d];
        }
        barrier();
        float acc[4] = float[4](0.0, 0.0, 0.0, 0.0);
        float m = -1.0 / 0.0, l = 0.0;
        for (uint j0 = start; j0 <= t; j0 += 64u) {
            uint j = j0 + tid;
            float s = -1.0 / 0.0;
            if (j <= t) {
                uint kb = pc.kOff + j * kw + g * pc.hd;
                float dot = 0.0;
                for (uint d = 0u; d < pc.hd; d++) {
                    dot += qs[d] * k[kb + d];
                }
                s = dot * pc.scale;
            }
            ps[tid] = s;
            barrier();
            uint nb = min(64u, t + 1u - j0);
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
                uint vb = pc.vOff + (j0 + jj) * kw + g * pc.hd;
                for (uint c = 0u; c < 4u; c++) {
                    uint d = tid + 64u * c;
                    if (d < pc.hd) {
                        acc[c] += p * v[vb + d];
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
        if (tid == 0u) {
            lse[pc.lOff + t * pc.heads + h] = m + log(l);
        }
        barrier();
    }
}
