#version 450
// fill: d[dOff+i] = v for i < n.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer D { float d[]; };
layout(push_constant) uniform PC { uint n, dOff; float v; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        d[pc.dOff + i] = pc.v;
    }
}
