#version 450
// flash_attention_dkv: the key side of the attention backward in blocks.
// A work group of 64 invocations takes R key rows of one kv head, stages
// their k and v in shared memory, and for each head of the group (in
// order) walks the query rows that see them in tiles of R rows (in
// order): dk_j = sum of ds_ij*q_i, dv_j = sum of p_ij*dout_i, with p, ds
// and D (dd, from flash_attention_dq) as there. A query row i counts for
// key j when j <= i < end(j) (info[infoOff + 2j + 1] = end(j)). HD and R
// are specialization constants, as in flash_attention_dq.comp.
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint HD = 128;
layout(constant_id = 1) const uint R = 8;
const uint WG = 64u;
const uint NACC = R * HD / WG;

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

const uint SH = HD + 1u;
shared float Ks[R * SH];
shared float Vs[R * SH];
shared float Qt[R * SH];
shared float dOt[R * SH];
shared float Ps[R * R];  // Ps[c*R + r]: key c, query r
shared float dSs[R * R];
shared float Dt[R], Lt[R];

void main() {
    uint tid = gl_LocalInvocationID.x;
    uint g = gl_WorkGroupID.y;
    uint group = pc.heads / pc.kvHeads;
    uint qw = pc.heads * pc.hd, kw = pc.kvHeads * pc.hd;
    uint j0 = gl_WorkGroupID.x * R;
    uint jEnd = min(pc.T, j0 + R);
    uint iEnd = uint(info[pc.infoOff + 2u * (jEnd - 1u) + 1u]);

    for (uint e = tid; e < R * HD; e += WG) {
        uint c = e / HD, d = e % HD;
        bool in_ = j0 + c < jEnd && d < pc.hd;
        Ks[c * SH + d] = in_ ? k[pc.kOff + (j0 + c) * kw + g * pc.hd + d] : 0.0;
        Vs[c * SH + d] = in_ ? v[pc.vOff + (j0 + c) * kw + g * pc.hd + d] : 0.0;
    }
    float ak[NACC], av[NACC];
    for (uint i = 0u; i < NACC; i++) {
        ak[i] = 0.0;
        av[i] = 0.0;
    }
    barrier();

    for (uint hh = 0u; hh < group; hh++) {
        uint h = g * group + hh;
        for (uint i0 = j0; i0 < iEnd; i0 += R) {
            for (uint e = tid; e < R * HD; e += WG) {
                uint r = e / HD, d = e % HD;
                bool in_ = i0 + r < iEnd && d < pc.hd;
                Qt[r * SH + d] = in_ ? q[pc.qOff + (i0 + r) * qw + h * pc.hd + d] : 0.0;
                dOt[r * SH + d] = in_ ? dout[pc.doOff + (i0 + r) * qw + h * pc.hd + d] : 0.0;
            }
            if (tid < R) {
                bool in_ = i0 + tid < iEnd;
                Dt[tid] = in_ ? dd[pc.ddOff + (i0 + tid) * pc.heads + h] : 0.0;
                Lt[tid] = in_ ? lse[pc.lOff + (i0 + tid) * pc.heads + h] : 0.0;
            }
            barrier();
            for (uint e = tid; e < R * R; e += WG) {
                uint c = e / R, r = e % R;
                uint i = i0 + r, j = j0 + c;
                float p = 0.0, ds = 0.0;
                if (j < jEnd && i < iEnd && j <= i && i < uint(info[pc.infoOff + 2u * j + 1u])) {
                    float s = 0.0, dp = 0.0;
                    for (uint d = 0u; d < pc.hd; d++) {
                        s += Qt[r * SH + d] * Ks[c * SH + d];
                        dp += dOt[r * SH + d] * Vs[c * SH + d];
                    }
                    p = exp(s * pc.scale - Lt[r]);
                    ds = p * (dp - Dt[r]) * pc.scale;
                }
                Ps[e] = p;
                dSs[e] = ds;
            }
            barrier();
            for (uint i = 0u; i < NACC; i++) {
                uint e = tid + WG * i;
                uint c = e / HD, d = e % HD;
                float a = ak[i], b = av[i];
                for (uint r = 0u; r < R; r++) {
                    a += dSs[c * R + r] * Qt[r * SH + d];
                    b += Ps[c * R + r] * dOt[r * SH + d];
                }
                ak[i] = a;
                av[i] = b;
            }
            barrier();
        }
    }
    for (uint i = 0u; i < NACC; i++) {
        uint e = tid + WG * i;
        uint c = e / HD, d = e % HD;
        if (j0 + c < jEnd && d < pc.hd) {
            dk[pc.dkOff + (j0 + c) * kw + g * pc.hd + d] = ak[i];
            dv[pc.dvOff + (j0 + c) * kw + g * pc.hd + d] = av[i];
        }
    }
}
