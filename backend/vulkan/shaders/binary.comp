#version 450
// binary: d[i] = a[i] + b[i] (mode 0) or a[i] * b[i] (mode 1); d may alias
// a or b, which is safe because each element is read before it is written by
// the same invocation.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer D { float d[]; };
layout(std430, binding = 1) readonly buffer A { float a[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(push_constant) uniform PC { uint n, dOff, aOff, bOff, mode; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        float x = a[pc.aOff + i], y = b[pc.bOff + i];
        d[pc.dOff + i] = pc.mode == 0u ? x + y : x * y;
    }
}
