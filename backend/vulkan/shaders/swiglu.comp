#version 450
// swiglu: out = silu(gate) * up; out may alias gate or up.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer G { float g[]; };
layout(std430, binding = 2) readonly buffer U { float u[]; };
layout(push_constant) uniform PC { uint n, oOff, gOff, uOff; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        float x = g[pc.gOff + i], y = u[pc.uOff + i];
        o[pc.oOff + i] = (x / (1.0 + exp(-x))) * y;
    }
}
