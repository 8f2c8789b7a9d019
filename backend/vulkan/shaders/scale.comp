#version 450
// scale: x[i] *= alpha.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer X { float x[]; };
layout(push_constant) uniform PC { uint n, xOff; float alpha; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        x[pc.xOff + i] *= pc.alpha;
    }
}
