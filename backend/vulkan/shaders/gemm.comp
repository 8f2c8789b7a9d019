#version 450
// gemm: C = alpha * op(A) * op(B) + beta * C with op(A) m x k, op(B) k x n,
// row-major with leading dimensions lda, ldb, ldc. A work group of 16x16
// invocations computes a 64x64 tile of C, 4x4 elements each, staging 16-deep
// slices of A and B in shared memory. Each element sums over k in order, so
// results are deterministic. beta == 0 ignores C (NaN included).
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) buffer C { float c[]; };
layout(push_constant) uniform PC {
    uint m, n, k, lda, ldb, ldc, aOff, bOff, cOff, transA, transB;
    float alpha, beta;
} pc;

const uint TM = 64u, TK = 16u;
shared float As[TK][TM + 1u]; // As[p][i] = op(A)[row0+i][p0+p]
shared float Bs[TK][TM + 1u]; // Bs[p][j] = op(B)[p0+p][col0+j]

void main() {
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint tid = ty * 16u + tx;
    uint row0 = gl_WorkGroupID.y * TM, col0 = gl_WorkGroupID.x * TM;
    float acc[4][4];
    for (uint r = 0u; r < 4u; r++) {
        for (uint q = 0u; q < 4u; q++) {
            acc[r][q] = 0.0;
        }
    }
    for (uint p0 = 0u; p0 < pc.k; p0 += TK) {
        // Loads walk the contiguous dimension of memory across invocations.
        for (uint e = tid; e < TM * TK; e += 256u) {
            uint i, p;
            if (pc.transA == 0u) { i = e / TK; p = e % TK; } else { p = e / TM; i = e % TM; }
            uint gi = row0 + i, gp = p0 + p;
            float v = 0.0;
            if (gi < pc.m && gp < pc.k) {
                v = pc.transA == 0u ? a[pc.aOff + gi * pc.lda + gp] : a[pc.aOff + gp * pc.lda + gi];
            }
            As[p][i] = v;
        }
        for (uint e = tid; e < TM * TK; e += 256u) {
            uint j, p;
            if (pc.transB == 0u) { p = e / TM; j = e % TM; } else { j = e / TK; p = e % TK; }
            uint gj = col0 + j, gp = p0 + p;
            float v = 0.0;
            if (gj < pc.n && gp < pc.k) {
                v = pc.transB == 0u ? b[pc.bOff + gp * pc.ldb + gj] : b[pc.bOff + gj * pc.ldb + gp];
            }
            Bs[p][j] = v;
        }
        barrier();
        for (uint p = 0u; p < TK; p++) {
            float av[4], bv[4];
            for (uint r = 0u; r < 4u; r++) {
                av[r] = As[p][ty + 16u * r];
                bv[r] = Bs[p][tx + 16u * r];
            }
            for (uint r = 0u; r < 4u; r++) {
                for (uint q = 0u; q < 4u; q++) {
                    acc[r][q] += av[r] * bv[q];
                }
            }
        }
        barrier();
    }
    for (uint r = 0u; r < 4u; r++) {
        uint gi = row0 + ty + 16u * r;
        if (gi >= pc.m) {
            continue;
        }
        for (uint q = 0u; q < 4u; q++) {
            uint gj = col0 + tx + 16u * q;
            if (gj >= pc.n) {
                continue;
            }
            uint idx = pc.cOff + gi * pc.ldc + gj;
            float v = pc.alpha * acc[r][q];
            if (pc.beta != 0.0) {
                v += pc.beta * c[idx];
            }
            c[idx] = v;
        }
    }
}
