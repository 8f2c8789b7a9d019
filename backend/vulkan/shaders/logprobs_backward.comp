#version 450
#extension GL_GOOGLE_include_directive : require
// logprobs_backward: one work group per row; with p = softmax(x),
// H = entropy, a = dlogp (0 for t < 0), b = dent (0 when absent):
// dx_j = -(a + b*(log p_j + H)) * p_j, plus a at j == t. dx may alias x:
// the row's statistics are complete before any element is written, and each
// element is read and written by one invocation.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer DX { float dx[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer DL { float dl[]; };
layout(std430, binding = 3) readonly buffer DE { float de[]; };
layout(std430, binding = 4) readonly buffer T { int targets[]; };
layout(push_constant) uniform PC { uint rows, vocab, dxOff, xOff, dlOff, deOff, tOff, hasDent; } pc;
shared float red[256];
#include "row_stats.glsl"
void main() {
    uint tid = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        uint base = pc.xOff + row * pc.vocab;
        uint dbase = pc.dxOff + row * pc.vocab;
        int t = targets[pc.tOff + row];
        float a = t >= 0 ? dl[pc.dlOff + row] : 0.0;
        float b = pc.hasDent != 0u ? de[pc.deOff + row] : 0.0;
        float m = rowMax(base, pc.vocab);
        vec2 s = rowSums(base, pc.vocab, m);
        float logS = log(s.x), inv = 1.0 / s.x;
        float H = logS - s.y * inv;
        for (uint j = tid; j < pc.vocab; j += 256u) {
            float lpj = x[base + j] - m - logS;
            float p = exp(lpj);
            float v = p == 0.0 ? 0.0 : -(a + b * (lpj + H)) * p;
            if (int(j) == t) {
                v += a;
            }
            dx[dbase + j] = v;
        }
        barrier();
    }
}
