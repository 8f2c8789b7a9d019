#version 450
// embedding: out (n, dim) row i = table row ids[i].
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer T { float table[]; };
layout(std430, binding = 2) readonly buffer I { int ids[]; };
layout(push_constant) uniform PC { uint total, dim, oOff, tOff, iOff; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint e = gl_GlobalInvocationID.x; e < pc.total; e += stride) {
        uint i = e / pc.dim, j = e % pc.dim;
        o[pc.oOff + e] = table[pc.tOff + uint(ids[pc.iOff + i]) * pc.dim + j];
    }
}
