#version 450
// sum_squares, two passes. Mode 0: work group g sums x^2 over its chunk
// [g*chunk, (g+1)*chunk) into part[pOff+g]. Mode 1: one work group sums
// part[pOff .. pOff+n) into part[pOff+n]. Tree reductions in a fixed order
// keep the result deterministic.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer P { float part[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(push_constant) uniform PC { uint n, xOff, pOff, chunk, mode; } pc;
shared float red[256];
void main() {
    uint tid = gl_LocalInvocationID.x;
    float acc = 0.0;
    if (pc.mode == 0u) {
        uint lo = gl_WorkGroupID.x * pc.chunk;
        uint hi = min(lo + pc.chunk, pc.n);
        for (uint i = lo + tid; i < hi; i += 256u) {
            float v = x[pc.xOff + i];
            acc += v * v;
        }
    } else {
        for (uint i = tid; i < pc.n; i += 256u) {
            acc += part[pc.pOff + i];
        }
    }
    red[tid] = acc;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (tid < s) {
            red[tid] += red[tid + s];
        }
        barrier();
    }
    if (tid == 0u) {
        part[pc.mode == 0u ? pc.pOff + gl_WorkGroupID.x : pc.pOff + pc.n] = red[0];
    }
}
