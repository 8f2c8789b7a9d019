#version 450
// flash_attention: causal attention over a packed batch, FlashAttention
// style. A work group of 64 invocations takes BQ query rows (t0 .. t0+BQ-1)
// of one head and walks the keys their sequences see in tiles of BKV rows:
// each tile of K is staged in shared memory, the BQ x BKV scores are
// computed from the staged Q, one invocation per query row updates that
// row's running max and sum (online softmax, keys in order) while all
// invocations stage the tile of V in the same memory, then every
// invocation rescales and accumulates its share of the BQ x HD output in
// registers. Rows of one block may belong to different sequences:
// info[infoOff + 2t] is the first row of t's sequence, and a key j counts
// for row t when start(t) <= j <= t. Shared-memory rows are padded by one
// word against bank conflicts. lse = max + log(sum of exponentials), as
// the backward needs. HD (a multiple of 64, >= headDim) and BQ are
// specialization constants; BKV is 16.
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint HD = 128;
layout(constant_id = 1) const uint BQ = 16;
const uint BKV = 16u, WG = 64u;
const uint NACC = BQ * HD / WG; // output elements per invocation

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

const uint SQ = HD + 1u;
shared float Qs[BQ * SQ];
shared float KVs[BKV * SQ]; // the tile of K, then the tile of V
shared float S[BQ * BKV];   // scores, then probabilities
shared float corr[BQ], ms[BQ], ls[BQ];

const float NEG_INF = -1.0 / 0.0;

void main() {
    uint tid = gl_LocalInvocationID.x;
    uint h = gl_WorkGroupID.y;
    uint g = h / (pc.heads / pc.kvHeads);
    uint qw = pc.heads * pc.hd, kw = pc.kvHeads * pc.hd;
    uint t0 = gl_WorkGroupID.x * BQ;
    uint tEnd = min(pc.T, t0 + BQ); // rows t0 .. tEnd-1
    uint jlo = uint(info[pc.infoOff + 2u * t0]);

    for (uint e = tid; e < BQ * HD; e += WG) {
        uint r = e / HD, d = e % HD;
        float x = 0.0;
        if (t0 + r < tEnd && d < pc.hd) {
            x = q[pc.qOff + (t0 + r) * qw + h * pc.hd + d];
        }
        Qs[r * SQ + d] = x;
    }
    if (tid < BQ) {
        ms[tid] = NEG_INF;
        ls[tid] = 0.0;
    }
    float acc[NACC];
    for (uint i = 0u; i < NACC; i++) {
        acc[i] = 0.0;
    }
    barrier();

    for (uint j0 = jlo; j0 < tEnd; j0 += BKV) {
        for (uint e = tid; e < BKV * HD; e += WG) {
            uint c = e / HD, d = e % HD;
            float x = 0.0;
            if (j0 + c < tEnd && d < pc.hd) {
                x = k[pc.kOff + (j0 + c) * kw + g * pc.hd + d];
            }
            KVs[c * SQ + d] = x;
        }
        barrier();
        for (uint e = tid; e < BQ * BKV; e += WG) {
            uint r = e / BKV, c = e % BKV;
            uint t = t0 + r, j = j0 + c;
            float s = NEG_INF;
            if (t < tEnd && j <= t && j >= uint(info[pc.infoOff + 2u * t])) {
                float dot = 0.0;
                for (uint d = 0u; d < pc.hd; d++) {
                    dot += Qs[r * SQ + d] * KVs[c * SQ + d];
                }
                s = dot * pc.scale;
            }
            S[e] = s;
        }
        barrier();
        // Row statistics (one invocation per row, keys in order) while
        // everyone stages V over K.
        if (tid < BQ) {
            float m = ms[tid], bm = m;
            for (uint c = 0u; c < BKV; c++) {
                bm = max(bm, S[tid * BKV + c]);
            }
            float cr = 1.0, sum = 0.0;
            if (bm != NEG_INF) {
                cr = exp(m - bm); // 0 while m is still -inf
                for (uint c = 0u; c < BKV; c++) {
                    float s = S[tid * BKV + c];
                    float p = s == NEG_INF ? 0.0 : exp(s - bm);
                    S[tid * BKV + c] = p;
                    sum += p;
                }
                ms[tid] = bm;
            } else {
                for (uint c = 0u; c < BKV; c++) {
                    S[tid * BKV + c] = 0.0;
                }
            }
            ls[tid] = ls[tid] * cr + sum;
            corr[tid] = cr;
        }
        for (uint e = tid; e < BKV * HD; e += WG) {
            uint c = e / HD, d = e % HD;
            float x = 0.0;
            if (j0 + c < tEnd && d < pc.hd) {
                x = v[pc.vOff + (j0 + c) * kw + g * pc.hd + d];
            }
            KVs[c * SQ + d] = x;
        }
        barrier();
        for (uint i = 0u; i < NACC; i++) {
            uint e = tid + WG * i;
            uint r = e / HD, d = e % HD;
            float a = acc[i] * corr[r];
            for (uint c = 0u; c < BKV; c++) {
                a += S[r * BKV + c] * KVs[c * SQ + d];
            }
            acc[i] = a;
        }
        barrier();
    }

    for (uint i = 0u; i < NACC; i++) {
        uint e = tid + WG * i;
        uint r = e / HD, d = e % HD;
        if (t0 + r < tEnd && d < pc.hd) {
            o[pc.oOff + (t0 + r) * qw + h * pc.hd + d] = acc[i] / ls[r];
        }
    }
    if (tid < BQ && t0 + tid < tEnd) {
        lse[pc.lOff + (t0 + tid) * pc.heads + h] = ms[tid] + log(ls[tid]);
    }
}
