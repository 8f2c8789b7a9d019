#version 450
// rmsnorm_backward_dx: one work group per row; with g = dout*w, r = rstd:
// dx += r*g - r^3 * x * sum(g*x)/cols.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer DX { float dx[]; };
layout(std430, binding = 1) readonly buffer DO { float dout[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) readonly buffer W { float w[]; };
layout(std430, binding = 4) readonly buffer R { float rstd[]; };
layout(push_constant) uniform PC { uint rows, cols, dxOff, dOff, xOff, wOff, rOff; } pc;
shared float red[256];
void main() {
    uint tid = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        uint base = row * pc.cols;
        float acc = 0.0;
        for (uint j = tid; j < pc.cols; j += 256u) {
            acc += dout[pc.dOff + base + j] * w[pc.wOff + j] * x[pc.xOff + base + j];
        }
        red[tid] = acc;
        barrier();
        for (uint s = 128u; s > 0u; s >>= 1) {
            if (tid < s) {
                red[tid] += red[tid + s];
            }
            barrier();
        }
        float r = rstd[pc.rOff + row];
        float c = -r * r * r * red[0] / float(pc.cols);
        barrier();
        for (uint j = tid; j < pc.cols; j += 256u) {
            float g = dout[pc.dOff + base + j] * w[pc.wOff + j];
            dx[pc.dxOff + base + j] += r * g + c * x[pc.xOff + base + j];
        }
    }
}
