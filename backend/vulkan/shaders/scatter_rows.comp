#version 450
// scatter_rows: dst row pairs[2i+1] = src row pairs[2i]; the host drops
// duplicate destinations (the last write wins), so no two invocations
// write one element.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer D { float d[]; };
layout(std430, binding = 1) readonly buffer S { float s[]; };
layout(std430, binding = 2) readonly buffer I { int pairs[]; };
layout(push_constant) uniform PC { uint total, width, dOff, sOff, iOff; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint e = gl_GlobalInvocationID.x; e < pc.total; e += stride) {
        uint i = e / pc.width, j = e % pc.width;
        uint src = uint(pairs[pc.iOff + 2u * i]), dst = uint(pairs[pc.iOff + 2u * i + 1u]);
        d[pc.dOff + dst * pc.width + j] = s[pc.sOff + src * pc.width + j];
    }
}
