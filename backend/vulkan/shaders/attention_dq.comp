#version 450
// attention_dq: the query side of the attention backward, one work group per
// (query row t, head h). With p_j = exp(scale*q.k_j - lse), dp_j = dout.v_j,
// D = dout.out and ds_j = p_j*(dp_j - D)*scale: dq = sum_j ds_j*k_j, keys in
// order. D is also stored (dd, (T, heads)) for attention_dkv.
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer DQ { float dq[]; };
layout(std430, binding = 1) buffer DD { float dd[]; };
layout(std430, binding = 2) readonly buffer DO { float dout[]; };
layout(std430, binding = 3) readonly buffer Q { float q[]; };
layout(std430, binding = 4) readonly buffer K { float k[]; };
layout(std430, binding = 5) readonly buffer V { float v[]; };
layout(std430, binding = 6) readonly buffer OUT { float o[]; };
layout(std430, binding = 7) readonly buffer L { float lse[]; };
layout(std430, binding = 8) readonly buffer I { int info[]; };
layout(push_constant) uniform PC {
    uint T, heads, kvHeads, hd, dqOff, ddOff, doOff, qOff, kOff, vOff, oOff, lOff, infoOff;
    float scale;
} pc;
shared float qs[256];
shared float dos[256];
shared float red[64];
shared float dss[64];
void main() {
    uint tid = gl_LocalInvocationID.x;
    uint h = gl_WorkGroupID.y;
    uint g = h / (pc.heads / pc.kvHeads);
    uint qw = pc.heads * pc.hd, kw = pc.kvHeads * pc.hd;
    for (uint t = gl_WorkGroupID.x; t < pc.T; t += gl_NumWorkGroups.x) {
        uint start = uint(info[pc.infoOff + 2u * t]);
        uint qb = t * qw + h * pc.hd;
        float part = 0.0;
        for (uint d = tid; d < pc.hd; d += 64u) {
            qs[d] = q[pc.qOff + qb + d];
            float gd = dout[pc.doOff + qb + d];
            dos[d] = gd;
            part += gd * o[pc.oOff + qb + d];
        }
        red[tid] = part;
        barrier();
        for (uint s = 32u; s > 0u; s >>= 1) {
            if (tid < s) {
                red[tid] += red[tid + s];
            }
            barrier();
        }
        float D = red[0];
        float li = lse[pc.lOff + t * pc.heads + h];
        float acc[4] = float[4](0.0, 0.0, 0.0, 0.0);
        for (uint j0 = start; j0 <= t; j0 += 64u) {
            uint j = j0 + tid;
            float dsj = 0.0;
            if (j <= t) {
                uint kb = pc.kOff + j * kw + g * pc.hd;
                uint vb = pc.vOff + j * kw + g * pc.hd;
                float sk = 0.0, sv = 0.0;
                for (uint d = 0u; d < pc.hd; d++) {
                    sk += qs[d] * k[kb + d];
                    sv += dos[d] * v[vb + d];
                }
                float p = exp(sk * pc.scale - li);
                dsj = p * (sv - D) * pc.scale;
            }
            dss[tid] = dsj;
            barrier();
            uint nb = min(64u, t + 1u - j0);
            for (uint jj = 0u; jj < nb; jj++) {
                float w = dss[jj];
                uint kb = pc.kOff + (j0 + jj) * kw + g * pc.hd;
                for (uint c = 0u; c < 4u; c++) {
                    uint d = tid + 64u * c;
                    if (d < pc.hd) {
                        acc[c] += w * k[kb + d];
                    }
                }
            }
            barrier();
        }
        for (uint c = 0u; c < 4u; c++) {
            uint d = tid + 64u * c;
            if (d < pc.hd) {
                dq[pc.dqOff + qb + d] = acc[c];
            }
        }
        if (tid == 0u) {
            dd[pc.ddOff + t * pc.heads + h] = D;
        }
        barrier();
    }
}
