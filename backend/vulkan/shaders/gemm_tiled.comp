#version 450
#extension GL_GOOGLE_include_directive : require
// gemm_tiled: C = alpha * op(A) * op(B) + beta * C, op(A) m x k, op(B) k x n,
// row-major with leading dimensions lda, ldb, ldc.
//
// The tile shape comes from specialization constants, so one SPIR-V module
// serves every size the host picks by shape (backend/vulkan/gemm.go): a work
// group of WG = (BM/TM) * (BN/TN) invocations computes a BM x BN tile of C,
// each invocation a TM x TN register block whose rows and columns are
// strided by BM/TM and BN/TN (neighbouring invocations read neighbouring
// shared-memory words: no bank conflicts). BK-deep slices of op(A) and op(B)
// are staged in shared memory, stored k-major with rows padded by one word.
// Global loads move groups of four elements along the contiguous dimension
// of memory, as one vec4 when the host says the operand is 16-byte aligned
// (aVec, bVec) and the group is inside the matrix.
//
// Every element sums its k range in order with fma, whatever the tile
// shape, so all shapes give the same bits. With split-K (gl_WorkGroupID.z
// selects a kChunk-long range of k) the work group writes alpha-free
// partial sums to C at cOff + z * zStride with beta = 0 semantics, and
// gemm_splitk_reduce.comp adds the partials in order of z.
// beta == 0 ignores C (NaN included).
//
// The same module is the BF16 GEMM (GemmBF16): A_TYPE and B_TYPE say how an
// operand is stored and read, as float32 (0), as float32 rounded to bf16
// on load (1: the bf16 product of a float32 buffer, no converted copy), or
// as bf16, two per word (2). bf16 products are exact in float32, so the
// fma sums are sums of exact products. With SEGMENTED the k range is summed
// in segments of pc.kSeg (a multiple of BK): each segment from zero, the
// segment sums added in order into a total starting at zero, which is what
// the split-K reduce computes when each split is one segment; so a product
// gives the same bits whether its segments are split over work groups or
// not, and the host may choose that (and the tile) by shape without the
// rows of C depending on m.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 16;
layout(constant_id = 4) const uint TM = 4;
layout(constant_id = 5) const uint TN = 4;
layout(constant_id = 6) const uint A_TYPE = 0; // 0 float32, 1 float32 rounded to bf16, 2 bf16
layout(constant_id = 7) const uint B_TYPE = 0;
layout(constant_id = 8) const bool SEGMENTED = false;

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
    uint m, n, k, lda, ldb, ldc, aOff, bOff, cOff, transA, transB;
    float alpha, beta;
    uint kChunk, zStride, aVec, bVec, split, kSeg;
} pc;

#include "gemm_operands.glsl"

const uint SA = BM + 1u; // padded shared-memory row lengths
const uint SB = BN + 1u;
shared float As[BK * SA]; // As[p * SA + i] = op(A)[row0 + i][p0 + p]
shared float Bs[BK * SB]; // Bs[p * SB + j] = op(B)[p0 + p][col0 + j]

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint TX = BN / TN; // invocations along n
    const uint tx = tid % TX, ty = tid / TX;
    const uint row0 = gl_WorkGroupID.y * BM, col0 = gl_WorkGroupID.x * BN;
    const uint kBegin = gl_WorkGroupID.z * pc.kChunk;
    const uint kEnd = min(pc.k, kBegin + pc.kChunk);

    // precise: the sums run in the stated order on every driver (no
    // reassociation), which the segments' bit-for-bit promise rests on.
    precise float acc[TM * TN], tot[TM * TN]; // tot: the sum of the finished segments
    for (uint e = 0u; e < TM * TN; e++) {
        acc[e] = 0.0;
        tot[e] = 0.0;
    }
    for (uint p0 = kBegin; p0 < kEnd; p0 += BK) {
        if (SEGMENTED && p0 != kBegin && (p0 - kBegin) % pc.kSeg == 0u) {
            for (uint e = 0u; e < TM * TN; e++) {
                tot[e] += acc[e];
                acc[e] = 0.0;
            }
        }
        // op(A) slice: BM x BK in groups of four along memory rows.
        for (uint g = tid; g < BM * BK / 4u; g += WG) {
            uint i, p; // first element of the group in tile coordinates
            bool alongK = pc.transA == 0u; // memory rows of A run along k
            if (alongK) { i = g / (BK / 4u); p = (g % (BK / 4u)) * 4u; } else { p = g / (BM / 4u); i = (g % (BM / 4u)) * 4u; }
            uint gi = row0 + i, gp = p0 + p;
            vec4 v = vec4(0.0);
            if (alongK) {
                uint base = pc.aOff + gi * pc.lda + gp;
                if (pc.aVec != 0u && gi < pc.m && gp + 3u < kEnd) {
                    v = loadA4(base);
                } else if (gi < pc.m) {
                    for (uint t = 0u; t < 4u; t++) {
                        if (gp + t < kEnd) { v[t] = loadA(base + t); }
                    }
                }
                for (uint t = 0u; t < 4u; t++) { As[(p + t) * SA + i] = v[t]; }
            } else {
                uint base = pc.aOff + gp * pc.lda + gi;
                if (pc.aVec != 0u && gp < kEnd && gi + 3u < pc.m) {
                    v = loadA4(base);
                } else if (gp < kEnd) {
                    for (uint t = 0u; t < 4u; t++) {
                        if (gi + t < pc.m) { v[t] = loadA(base + t); }
                    }
                }
                for (uint t = 0u; t < 4u; t++) { As[p * SA + i + t] = v[t]; }
            }
        }
        // op(B) slice: BK x BN.
        for (uint g = tid; g < BN * BK / 4u; g += WG) {
            uint j, p;
            bool alongK = pc.transB != 0u; // memory rows of B run along k
            if (alongK) { j = g / (BK / 4u); p = (g % (BK / 4u)) * 4u; } else { p = g / (BN / 4u); j = (g % (BN / 4u)) * 4u; }
            uint gj = col0 + j, gp = p0 + p;
            vec4 v = vec4(0.0);
            if (alongK) {
                uint base = pc.bOff + gj * pc.ldb + gp;
                if (pc.bVec != 0u && gj < pc.n && gp + 3u < kEnd) {
                    v = loadB4(base);
                } else if (gj < pc.n) {
                    for (uint t = 0u; t < 4u; t++) {
                        if (gp + t < kEnd) { v[t] = loadB(base + t); }
                    }
                }
                for (uint t = 0u; t < 4u; t++) { Bs[(p + t) * SB + j] = v[t]; }
            } else {
                uint base = pc.bOff + gp * pc.ldb + gj;
                if (pc.bVec != 0u && gp < kEnd && gj + 3u < pc.n) {
                    v = loadB4(base);
                } else if (gp < kEnd) {
                    for (uint t = 0u; t < 4u; t++) {
                        if (gj + t < pc.n) { v[t] = loadB(base + t); }
                    }
                }
                for (uint t = 0u; t < 4u; t++) { Bs[p * SB + j + t] = v[t]; }
            }
        }
        barrier();
        // The slice past kEnd is zero-filled: the full BK loop unrolls.
        for (uint p = 0u; p < BK; p++) {
            float av[TM], bv[TN];
            for (uint r = 0u; r < TM; r++) { av[r] = As[p * SA + ty + r * (BM / TM)]; }
            for (uint q = 0u; q < TN; q++) { bv[q] = Bs[p * SB + tx + q * TX]; }
            for (uint r = 0u; r < TM; r++) {
                for (uint q = 0u; q < TN; q++) {
                    acc[r * TN + q] = fma(av[r], bv[q], acc[r * TN + q]);
                }
            }
        }
        barrier();
    }
    if (SEGMENTED && pc.split == 0u) {
        for (uint e = 0u; e < TM * TN; e++) {
            acc[e] = tot[e] + acc[e];
        }
    }
    for (uint r = 0u; r < TM; r++) {
        uint gi = row0 + ty + r * (BM / TM);
        if (gi >= pc.m) {
            continue;
        }
        for (uint q = 0u; q < TN; q++) {
            uint gj = col0 + tx + q * TX;
            if (gj >= pc.n) {
                continue;
            }
            if (pc.split != 0u) {
                c[pc.cOff + gl_WorkGroupID.z * pc.zStride + gi * pc.ldc + gj] = acc[r * TN + q];
                continue;
            }
            uint idx = pc.cOff + gi * pc.ldc + gj;
            // precise: no contraction into an fma, so that this and the
            // split-K reduce round alike.
            precise float v = pc.alpha * acc[r * TN + q];
            if (pc.beta != 0.0) {
                v = v + pc.beta * c[idx];
            }
            c[idx] = v;
        }
    }
}
