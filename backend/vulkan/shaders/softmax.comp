#version 450
// softmax: one work group per row of x (rows, cols); out may alias x.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(push_constant) uniform PC { uint rows, cols, oOff, xOff; } pc;
shared float red[256];
void main() {
    uint tid = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        uint base = row * pc.cols;
        float m = -1.0 / 0.0;
        for (uint j = tid; j < pc.cols; j += 256u) {
            m = max(m, x[pc.xOff + base + j]);
        }
        red[tid] = m;
        barrier();
        for (uint s = 128u; s > 0u; s >>= 1) {
            if (tid < s) {
                red[tid] = max(red[tid], red[tid + s]);
            }
            barrier();
        }
        m = red[0];
        barrier();
        float acc = 0.0;
        for (uint j = tid; j < pc.cols; j += 256u) {
            acc += exp(x[pc.xOff + base + j] - m);
        }
        red[tid] = acc;
        barrier();
        for (uint s = 128u; s > 0u; s >>= 1) {
            if (tid < s) {
                red[tid] += red[tid + s];
            }
            barrier();
        }
        float inv = 1.0 / red[0];
        barrier();
        for (uint j = tid; j < pc.cols; j += 256u) {
            o[pc.oOff + base + j] = exp(x[pc.xOff + base + j] - m) * inv;
        }
        barrier();
    }
}
