#version 450
// rmsnorm: one work group per row of x (rows, cols):
// rstd[r] = 1/sqrt(mean(x[r]^2) + eps); out[r] = x[r] * rstd[r] * w.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) buffer R { float rstd[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) readonly buffer W { float w[]; };
layout(push_constant) uniform PC { uint rows, cols, oOff, rOff, xOff, wOff; float eps; } pc;
shared float red[256];
void main() {
    uint tid = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        uint base = row * pc.cols;
        float acc = 0.0;
        for (uint j = tid; j < pc.cols; j += 256u) {
            float v = x[pc.xOff + base + j];
            acc += v * v;
        }
        red[tid] = acc;
        barrier();
        for (uint s = 128u; s > 0u; s >>= 1) {
            if (tid < s) {
                red[tid] += red[tid + s];
            }
            barrier();
        }
        float r = 1.0 / sqrt(red[0] / float(pc.cols) + pc.eps);
        barrier();
        for (uint j = tid; j < pc.cols; j += 256u) {
            o[pc.oOff + base + j] = x[pc.xOff + base + j] * r * w[pc.wOff + j];
        }
        if (tid == 0u) {
            rstd[pc.rOff + row] = r;
        }
        barrier();
    }
}
