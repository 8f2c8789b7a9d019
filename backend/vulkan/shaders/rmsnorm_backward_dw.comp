#version 450
// rmsnorm_backward_dw: dw[c] += sum over rows (in row order) of
// dout*x*rstd; one invocation per column.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer DW { float dw[]; };
layout(std430, binding = 1) readonly buffer DO { float dout[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) readonly buffer R { float rstd[]; };
layout(push_constant) uniform PC { uint rows, cols, dwOff, dOff, xOff, rOff; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint c = gl_GlobalInvocationID.x; c < pc.cols; c += stride) {
        float acc = 0.0;
        for (uint r = 0u; r < pc.rows; r++) {
            uint i = r * pc.cols + c;
            acc += dout[pc.dOff + i] * x[pc.xOff + i] * rstd[pc.rOff + r];
        }
        dw[pc.dwOff + c] += acc;
    }
}
