#version 450
// axpy: y[i] += alpha * x[i].
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(push_constant) uniform PC { uint n, yOff, xOff; float alpha; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        precise float p = pc.alpha * x[pc.xOff + i];
        y[pc.yOff + i] += p;
    }
}
