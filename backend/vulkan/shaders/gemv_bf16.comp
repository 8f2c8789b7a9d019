#version 450
#extension GL_GOOGLE_include_directive : require
// gemv_bf16: GemmBF16 for few rows (m <= MR) against B stored n x k
// (transB: a linear layer's weight; decode). One invocation computes a
// column j of C for all m rows, each element summed in k order with fma
// within the k segments of pc.kSeg, the segment sums added in order into a
// total starting at zero: gemm_tiled.comp's SEGMENTED order, so it gives
// that kernel's bits (and the rows of C still do not depend on m). A tree
// over lanes, as gemv.comp uses, would add in another order. With split-K
// (gl_WorkGroupID.z picks a kChunk = kSeg range) it writes alpha-free
// partial sums as gemm_tiled.comp does, for gemm_splitk_reduce.comp. B is
// read four elements at a time along k (one uvec2 of bf16 when the host
// says aligned: bVec); A's elements are the same for every invocation, so
// caches broadcast them.
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint A_TYPE = 1; // as gemm_tiled.comp
layout(constant_id = 1) const uint B_TYPE = 2;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 0) readonly buffer A4 { vec4 a4[]; };
layout(std430, binding = 0) readonly buffer AU { uint au[]; };
layout(std430, binding = 0) readonly buffer AU2 { uvec2 au2[]; };
layout(std430, binding = 0) readonly buffer AU4 { uvec4 au4[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 1) readonly buffer B4 { vec4 b4[]; };
layout(std430, binding = 1) readonly buffer BU { uint bu[]; };
layout(std430, binding = 1) readonly buffer BU2 { uvec2 bu2[]; };
layout(std430, binding = 1) readonly buffer BU4 { uvec4 bu4[]; };
layout(std430, binding = 2) buffer C { float c[]; };
layout(push_constant) uniform PC {
    uint m, n, k, lda, ldb, ldc, aOff, bOff, cOff, transA;
    float alpha, beta;
    uint kChunk, zStride, aVec, bVec, split, kSeg;
} pc;

#include "gemm_operands.glsl"

const uint MR = 4u;

void main() {
    const uint j = gl_GlobalInvocationID.x;
    if (j >= pc.n) {
        return;
    }
    const uint kBegin = gl_WorkGroupID.z * pc.kChunk;
    const uint kEnd = min(pc.k, kBegin + pc.kChunk);
    // Strides of op(A): element (i, p) is at aOff + i*ai + p*ap.
    const uint ai = pc.transA == 0u ? pc.lda : 1u, ap = pc.transA == 0u ? 1u : pc.lda;
    precise float acc[MR], tot[MR];
    for (uint i = 0u; i < MR; i++) {
        acc[i] = 0.0;
        tot[i] = 0.0;
    }
    // kBegin and kSeg are multiples of 16: groups of four never straddle a
    // segment. A group past kEnd is zero-filled (zero products, as the
    // tiled kernel's padded slices).
    for (uint p0 = kBegin; p0 < kEnd; p0 += 4u) {
        if (p0 != kBegin && (p0 - kBegin) % pc.kSeg == 0u) {
            for (uint i = 0u; i < MR; i++) {
                tot[i] += acc[i];
                acc[i] = 0.0;
            }
        }
        uint base = pc.bOff + j * pc.ldb + p0;
        vec4 bv = vec4(0.0);
        if (pc.bVec != 0u && p0 + 3u < kEnd) {
            bv = loadB4(base);
        } else {
            for (uint t = 0u; t < 4u; t++) {
                if (p0 + t < kEnd) { bv[t] = loadB(base + t); }
            }
        }
        for (uint i = 0u; i < MR; i++) {
            if (i >= pc.m) {
                break;
            }
            uint abase = pc.aOff + i * ai + p0 * ap;
            vec4 av = vec4(0.0);
            if (pc.aVec != 0u && ap == 1u && p0 + 3u < kEnd) {
                av = loadA4(abase);
            } else {
                for (uint t = 0u; t < 4u; t++) {
                    if (p0 + t < kEnd) { av[t] = loadA(abase + t * ap); }
                }
            }
            for (uint t = 0u; t < 4u; t++) {
                acc[i] = fma(av[t], bv[t], acc[i]);
            }
        }
    }
    for (uint i = 0u; i < MR; i++) {
        if (i >= pc.m) {
            break;
        }
        if (pc.split != 0u) {
            c[pc.cOff + gl_WorkGroupID.z * pc.zStride + i * pc.ldc + j] = acc[i];
            continue;
        }
        uint idx = pc.cOff + i * pc.ldc + j;
        precise float v = pc.alpha * (tot[i] + acc[i]);
        if (pc.beta != 0.0) {
            v = v + pc.beta * c[idx];
        }
        c[idx] = v;
    }
}
