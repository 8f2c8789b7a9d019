#version 450
// gemm_noshared: the gemm of gemm_tiled.comp without shared memory or barriers,
// for software drivers (lavapipe), where barriers are expensive and caches
// serve the reuse that shared memory provides on a GPU. Each invocation
// computes a 4x4 block of C, summing over k in order.
layout(local_size_x = 8, local_size_y = 8) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) buffer C { float c[]; };
layout(push_constant) uniform PC {
    uint m, n, k, lda, ldb, ldc, aOff, bOff, cOff, transA, transB;
    float alpha, beta;
} pc;

void main() {
    uint col0 = gl_GlobalInvocationID.x * 4u, row0 = gl_GlobalInvocationID.y * 4u;
    if (row0 >= pc.m || col0 >= pc.n) {
        return;
    }
    // Clamp out-of-range rows and columns to valid ones: their results are
    // computed but never stored.
    uint ri[4], cj[4];
    for (uint r = 0u; r < 4u; r++) {
        ri[r] = min(row0 + r, pc.m - 1u);
        cj[r] = min(col0 + r, pc.n - 1u);
    }
    uint aRow = pc.transA == 0u ? pc.lda : 1u, aCol = pc.transA == 0u ? 1u : pc.lda;
    uint bRow = pc.transB == 0u ? pc.ldb : 1u, bCol = pc.transB == 0u ? 1u : pc.ldb;
    float acc[4][4];
    for (uint r = 0u; r < 4u; r++) {
        for (uint q = 0u; q < 4u; q++) {
            acc[r][q] = 0.0;
        }
    }
    for (uint p = 0u; p < pc.k; p++) {
        float av[4], bv[4];
        for (uint r = 0u; r < 4u; r++) {
            av[r] = a[pc.aOff + ri[r] * aRow + p * aCol];
            bv[r] = b[pc.bOff + p * bRow + cj[r] * bCol];
        }
        for (uint r = 0u; r < 4u; r++) {
            for (uint q = 0u; q < 4u; q++) {
                acc[r][q] += av[r] * bv[q];
            }
        }
    }
    for (uint r = 0u; r < 4u; r++) {
        uint gi = row0 + r;
        for (uint q = 0u; q < 4u; q++) {
            uint gj = col0 + q;
            if (gi < pc.m && gj < pc.n) {
                uint idx = pc.cOff + gi * pc.ldc + gj;
                float v = pc.alpha * acc[r][q];
                if (pc.beta != 0.0) {
                    v += pc.beta * c[idx];
                }
                c[idx] = v;
            }
        }
    }
}
