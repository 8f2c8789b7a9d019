#version 450
// gemv: C = alpha * op(A) * B^T + beta * C for few rows of op(A) (m <= MR,
// the decode case: one token per sequence against a weight B stored
// n x k, row-major). A work group of 32 invocations computes NR columns of
// C (NR rows of B) for all m rows: each invocation sums the k positions
// lane*4 + 128*c + t (c = 0, 1, ..., t = 0..3 in order, fma), reading B
// as vec4 when the host says it is 16-byte aligned (bVec), then the 32
// partial sums are added by a fixed shared-memory tree. The order is the
// same on every device, whatever its subgroup size. beta == 0 ignores C.
layout(local_size_x = 32) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 1) readonly buffer B4 { vec4 b4[]; };
layout(std430, binding = 2) buffer C { float c[]; };
layout(push_constant) uniform PC {
    uint m, n, k, lda, ldb, ldc, aOff, bOff, cOff, transA, bVec;
    float alpha, beta;
} pc;

const uint MR = 4u, NR = 4u, L = 32u;
shared float red[MR * NR][L];

void main() {
    uint lane = gl_LocalInvocationID.x;
    uint col0 = gl_WorkGroupID.x * NR;
    // Strides of op(A): element (i, p) is at aOff + i*ai + p*ap.
    uint ai = pc.transA == 0u ? pc.lda : 1u, ap = pc.transA == 0u ? 1u : pc.lda;
    float acc[MR * NR];
    for (uint e = 0u; e < MR * NR; e++) {
        acc[e] = 0.0;
    }
    for (uint p = lane * 4u; p < pc.k; p += 4u * L) {
        vec4 av[MR];
        for (uint i = 0u; i < MR; i++) {
            av[i] = vec4(0.0);
            if (i < pc.m) {
                for (uint t = 0u; t < 4u; t++) {
                    if (p + t < pc.k) { av[i][t] = a[pc.aOff + i * ai + (p + t) * ap]; }
                }
            }
        }
        for (uint r = 0u; r < NR; r++) {
            uint j = min(col0 + r, pc.n - 1u); // clamped columns are never stored
            uint base = pc.bOff + j * pc.ldb + p;
            vec4 bv = vec4(0.0);
            if (pc.bVec != 0u && p + 3u < pc.k) {
                bv = b4[base / 4u];
            } else {
                for (uint t = 0u; t < 4u; t++) {
                    if (p + t < pc.k) { bv[t] = b[base + t]; }
                }
            }
            for (uint i = 0u; i < MR; i++) {
                for (uint t = 0u; t < 4u; t++) {
                    acc[i * NR + r] = fma(av[i][t], bv[t], acc[i * NR + r]);
                }
            }
        }
    }
    for (uint e = 0u; e < MR * NR; e++) {
        red[e][lane] = acc[e];
    }
    barrier();
    for (uint s = L / 2u; s > 0u; s /= 2u) {
        if (lane < s) {
            for (uint e = 0u; e < MR * NR; e++) {
                red[e][lane] += red[e][lane + s];
            }
        }
        barrier();
    }
    if (lane < MR * NR) {
        uint i = lane / NR, r = lane % NR;
        uint j = col0 + r;
        if (i < pc.m && j < pc.n) {
            uint idx = pc.cOff + i * pc.ldc + j;
            float v = pc.alpha * red[lane][0];
            if (pc.beta != 0.0) {
                v += pc.beta * c[idx];
            }
            c[idx] = v;
        }
    }
}
