#version 450
// add_bias: x (rows, cols) += bias (cols) on every row.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer B { float bias[]; };
layout(push_constant) uniform PC { uint n, cols, xOff, bOff; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        x[pc.xOff + i] += bias[pc.bOff + i % pc.cols];
    }
}
