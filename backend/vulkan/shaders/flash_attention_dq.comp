#version 450
// flash_attention_dq: the query side of the attention backward in blocks,
// as flash_attention.comp does the forward. A work group of 64 invocations
// takes R query rows of one head, stages their q and dout in shared
// memory, and walks the keys of their sequences in tiles of R rows: with
// p = exp(scale*q.k - lse), dp = dout.v, D = dout.out and
// ds = p*(dp - D)*scale, dq = sum over keys (in order) of ds*k. D is also
// stored (dd, (T, heads)) for flash_attention_dkv. A key j counts for row
// t when start(t) <= j <= t (info[infoOff + 2t] = start(t)). HD (the head
// dimension rounded up to 64) and R are specialization constants, chosen
// so that R*HD = 1024 (16 accumulators per invocation).
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint HD = 128;
layout(constant_id = 1) const uint R = 8;
const uint WG = 64u;
const uint NACC = R * HD / WG;

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

const uint SH = HD + 1u; // padded rows
shared float Qs[R * SH];
shared float dOs[R * SH];
shared float KVs[R * SH]; // K, then V, then K again
shared float Ps[R * R];
shared float dSs[R * R];
shared float Ds[R], Ls[R];

void main() {
    uint tid = gl_LocalInvocationID.x;
    uint h = gl_WorkGroupID.y;
    uint g = h / (pc.heads / pc.kvHeads);
    uint qw = pc.heads * pc.hd, kw = pc.kvHeads * pc.hd;
    uint t0 = gl_WorkGroupID.x * R;
    uint tEnd = min(pc.T, t0 + R);
    uint jlo = uint(info[pc.infoOff + 2u * t0]);

    for (uint e = tid; e < R * HD; e += WG) {
        uint r = e / HD, d = e % HD;
        float x = 0.0, y = 0.0;
        if (t0 + r < tEnd && d < pc.hd) {
            x = q[pc.qOff + (t0 + r) * qw + h * pc.hd + d];
            y = dout[pc.doOff + (t0 + r) * qw + h * pc.hd + d];
        }
        Qs[r * SH + d] = x;
        dOs[r * SH + d] = y;
    }
    barrier();
    if (tid < R) {
        float D = 0.0, l = 0.0;
        uint t = t0 + tid;
        if (t < tEnd) {
            for (uint d = 0u; d < pc.hd; d++) {
                D += dOs[tid * SH + d] * o[pc.oOff + t * qw + h * pc.hd + d];
            }
            l = lse[pc.lOff + t * pc.heads + h];
            dd[pc.ddOff + t * pc.heads + h] = D;
        }
        Ds[tid] = D;
        Ls[tid] = l;
    }
    float acc[NACC];
    for (uint i = 0u; i < NACC; i++) {
        acc[i] = 0.0;
    }
    barrier();

    for (uint j0 = jlo; j0 < tEnd; j0 += R) {
        for (uint e = tid; e < R * HD; e += WG) {
            uint c = e / HD, d = e % HD;
            KVs[c * SH + d] = (j0 + c < tEnd && d < pc.hd) ? k[pc.kOff + (j0 + c) * kw + g * pc.hd + d] : 0.0;
        }
        barrier();
        for (uint e = tid; e < R * R; e += WG) {
            uint r = e / R, c = e % R;
            uint t = t0 + r, j = j0 + c;
            float p = 0.0;
            if (t < tEnd && j <= t && j >= uint(info[pc.infoOff + 2u * t])) {
                float s = 0.0;
                for (uint d = 0u; d < pc.hd; d++) {
                    s += Qs[r * SH + d] * KVs[c * SH + d];
                }
                p = exp(s * pc.scale - Ls[r]);
            }
            Ps[e] = p;
        }
        barrier();
        for (uint e = tid; e < R * HD; e += WG) {
            uint c = e / HD, d = e % HD;
            KVs[c * SH + d] = (j0 + c < tEnd && d < pc.hd) ? v[pc.vOff + (j0 + c) * kw + g * pc.hd + d] : 0.0;
        }
        barrier();
        for (uint e = tid; e < R * R; e += WG) {
            uint r = e / R, c = e % R;
            float dp = 0.0;
            for (uint d = 0u; d < pc.hd; d++) {
                dp += dOs[r * SH + d] * KVs[c * SH + d];
            }
            dSs[e] = Ps[e] * (dp - Ds[r]) * pc.scale;
        }
        barrier();
        for (uint e = tid; e < R * HD; e += WG) {
            uint c = e / HD, d = e % HD;
            KVs[c * SH + d] = (j0 + c < tEnd && d < pc.hd) ? k[pc.kOff + (j0 + c) * kw + g * pc.hd + d] : 0.0;
        }
        barrier();
        for (uint i = 0u; i < NACC; i++) {
            uint e = tid + WG * i;
            uint r = e / HD, d = e % HD;
            float a = acc[i];
            for (uint c = 0u; c < R; c++) {
                a += dSs[r * R + c] * KVs[c * SH + d];
            }
            acc[i] = a;
        }
        barrier();
    }
    for (uint i = 0u; i < NACC; i++) {
        uint e = tid + WG * i;
        uint r = e / HD, d = e % HD;
        if (t0 + r < tEnd && d < pc.hd) {
            dq[pc.dqOff + (t0 + r) * qw + h * pc.hd + d] = acc[i];
        }
    }
}
