#version 450
// gemm_splitk_reduce: the second pass of a split-K gemm. P holds `splits`
// partial products of m x n (each of zStride elements, row-major, n wide);
// one invocation per element of C adds them in order of the split, so the
// result does not depend on timing, then applies alpha and beta as gemm
// does (beta == 0 ignores C, NaN included).
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer P { float part[]; };
layout(std430, binding = 1) buffer C { float c[]; };
layout(push_constant) uniform PC {
    uint m, n, ldc, pOff, cOff, zStride, splits;
    float alpha, beta;
} pc;

void main() {
    uint e = gl_GlobalInvocationID.x;
    if (e >= pc.m * pc.n) {
        return;
    }
    uint i = e / pc.n, j = e % pc.n;
    precise float s = 0.0; // in split order on every driver
    for (uint z = 0u; z < pc.splits; z++) {
        s += part[pc.pOff + z * pc.zStride + e];
    }
    uint idx = pc.cOff + i * pc.ldc + j;
    // precise, as in gemm_tiled.comp: both round alpha*s + beta*c alike.
    precise float v = pc.alpha * s;
    if (pc.beta != 0.0) {
        v = v + pc.beta * c[idx];
    }
    c[idx] = v;
}
