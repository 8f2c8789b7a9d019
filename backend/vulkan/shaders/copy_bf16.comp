#version 450
// copy_bf16: d[dOff+i] = s[sOff+i] for i < n, both holding two bf16 per word
// (element 2w in the low half of word w), at any offsets. One invocation
// writes a whole destination word, so no two invocations store to one word;
// a word the range covers in half keeps its other half (the host orders
// this dispatch after any other access to either half).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer D { uint d[]; };
layout(std430, binding = 1) readonly buffer S { uint s[]; };
layout(push_constant) uniform PC { uint n, dOff, sOff; } pc;

// srcHalf returns source element i (counted from the binding's start).
uint srcHalf(uint i) {
    return (s[i >> 1] >> (16u * (i & 1u))) & 0xffffu;
}

void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    uint first = pc.dOff >> 1, last = (pc.dOff + pc.n - 1u) >> 1;
    for (uint w = first + gl_GlobalInvocationID.x; w <= last; w += stride) {
        uint e = 2u * w; // the low half's element
        bool lo = e >= pc.dOff, hi = e + 1u < pc.dOff + pc.n;
        uint old = lo && hi ? 0u : d[w];
        uint l = lo ? srcHalf(pc.sOff + e - pc.dOff) : old & 0xffffu;
        uint h = hi ? srcHalf(pc.sOff + e + 1u - pc.dOff) : old >> 16;
        d[w] = l | (h << 16);
    }
}
