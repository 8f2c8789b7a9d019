#version 450
// attention_dkv: the key side of the attention backward, one work group per
// (key row j, kv head g): dk_j = sum over the group's heads, then over query
// rows i >= j of j's sequence, of ds_ij*q_i; dv_j = sum of p_ij*dout_i.
// Query rows are visited in blocks of 64 (one per invocation). info holds
// (start, end) of each row's sequence; dd is D from attention_dq.
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer DK { float dk[]; };
layout(std430, binding = 1) buffer DV { float dv[]; };
layout(std430, binding = 2) readonly buffer DO { float dout[]; };
layout(std430, binding = 3) readonly buffer Q { float q[]; };
layout(std430, binding = 4) readonly buffer K { float k[]; };
layout(std430, binding = 5) readonly buffer V { float v[]; };
layout(std430, binding = 6) readonly buffer DD { float dd[]; };
layout(std430, binding = 7) readonly buffer L { float lse[]; };
layout(std430, binding = 8) readonly buffer I { int info[]; };
layout(push_constant) uniform PC {
    uint T, heads, kvHeads, hd, dkOff, dvOff, doOff, qOff, kOff, vOff, ddOff, lOff, infoOff;
    float scale;
} pc;
shared float ks[256];
shared float vs[256];
shared float pss[64];
shared float dss[64];
void main() {
    uint tid = gl_LocalInvocationID.x;
    uint g = gl_WorkGroupID.y;
    uint group = pc.heads / pc.kvHeads;
    uint qw = pc.heads * pc.hd, kw = pc.kvHeads * pc.hd;
    for (uint j = gl_WorkGroupID.x; j < pc.T; j += gl_NumWorkGroups.x) {
        uint end = uint(info[pc.infoOff + 2u * j + 1u]);
        uint kb = j * kw + g * pc.hd;
        for (uint d = tid; d < pc.hd; d += 64u) {
            ks[d] = k[pc.kOff + kb + d];
            vs[d] = v[pc.vOff + kb + d];
        }
        barrier();
        float ak[4] = float[4](0.0, 0.0, 0.0, 0.0);
        float av[4] = float[4](0.0, 0.0, 0.0, 0.0);
        for (uint e = 0u; e < group; e++) {
            uint h = g * group + e;
            for (uint i0 = j; i0 < end; i0 += 64u) {
                uint i = i0 + tid;
                float p = 0.0, dsi = 0.0;
                if (i < end) {
                    uint qb = i * qw + h * pc.hd;
                    float sk = 0.0, sv = 0.0;
                    for (uint d = 0u; d < pc.hd; d++) {
                        sk += q[pc.qOff + qb + d] * ks[d];
                        sv += dout[pc.doOff + qb + d] * vs[d];
                    }
                    p = exp(sk * pc.scale - lse[pc.lOff + i * pc.heads + h]);
                    dsi = p * (sv - dd[pc.ddOff + i * pc.heads + h]) * pc.scale;
                }
                pss[tid] = p;
                dss[tid] = dsi;
                barrier();
                uint nb = min(64u, end - i0);
                for (uint ii = 0u; ii < nb; ii++) {
                    uint qb = (i0 + ii) * qw + h * pc.hd;
                    float pw = pss[ii], dw = dss[ii];
                    for (uint c = 0u; c < 4u; c++) {
                        uint d = tid + 64u * c;
                        if (d < pc.hd) {
                            ak[c] += dw * q[pc.qOff + qb + d];
                            av[c] += pw * dout[pc.doOff + qb + d];
                        }
                    }
                }
                barrier();
            }
        }
        for (uint c = 0u; c < 4u; c++) {
            uint d = tid + 64u * c;
            if (d < pc.hd) {
                dk[pc.dkOff + kb + d] = ak[c];
                dv[pc.dvOff + kb + d] = av[c];
            }
        }
        barrier();
    }
}
