#version 450
// copy: d[dOff+i] = s[sOff+i] for i < n.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer D { float d[]; };
layout(std430, binding = 1) readonly buffer S { float s[]; };
layout(push_constant) uniform PC { uint n, dOff, sOff; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        d[pc.dOff + i] = s[pc.sOff + i];
    }
}
