#version 450
#extension GL_GOOGLE_include_directive : require
// logprobs: one work group per row of logits (rows, vocab):
// logp = x[t] - logsumexp(x) (0 when t < 0); when hasEnt,
// ent = log S - sum(e*(x-m))/S, the Shannon entropy of softmax(x).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer LP { float lp[]; };
layout(std430, binding = 1) buffer EN { float en[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) readonly buffer T { int targets[]; };
layout(push_constant) uniform PC { uint rows, vocab, lpOff, enOff, xOff, tOff, hasEnt; } pc;
shared float red[256];
#include "row_stats.glsl"
void main() {
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        uint base = pc.xOff + row * pc.vocab;
        float m = rowMax(base, pc.vocab);
        vec2 s = rowSums(base, pc.vocab, m);
        if (gl_LocalInvocationID.x == 0u) {
            float logS = log(s.x);
            int t = targets[pc.tOff + row];
            lp[pc.lpOff + row] = t >= 0 ? x[base + uint(t)] - m - logS : 0.0;
            if (pc.hasEnt != 0u) {
                en[pc.enOff + row] = logS - s.y / s.x;
            }
        }
    }
}
