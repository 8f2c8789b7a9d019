#version 450
#extension GL_GOOGLE_include_directive : require
// to_bf16: d[dOff+i] = bf16(s[sOff+i]) for i < n, d holding two bf16 per
// word (element 2w in the low half of word w). One invocation writes a
// whole word, so no two invocations store to one word; a word the view
// covers in half keeps its other half (the host orders this dispatch after
// any other access to either half).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer D { uint d[]; };
layout(std430, binding = 1) readonly buffer S { uint s[]; }; // float32 bits
layout(push_constant) uniform PC { uint n, dOff, sOff; } pc;

#include "bf16.glsl"

void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    uint first = pc.dOff >> 1, last = (pc.dOff + pc.n - 1u) >> 1;
    for (uint w = first + gl_GlobalInvocationID.x; w <= last; w += stride) {
        uint e = 2u * w; // the low half's element
        bool lo = e >= pc.dOff, hi = e + 1u < pc.dOff + pc.n;
        uint old = lo && hi ? 0u : d[w];
        uint l = lo ? bf16Bits(s[pc.sOff + e - pc.dOff]) : old & 0xffffu;
        uint h = hi ? bf16Bits(s[pc.sOff + e + 1u - pc.dOff]) : old >> 16;
        d[w] = l | (h << 16);
    }
}
