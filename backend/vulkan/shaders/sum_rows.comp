#version 450
// sum_rows: d (cols) += column sums of x (rows, cols), each column summed
// in row order by one invocation, so the result is deterministic.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer D { float d[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(push_constant) uniform PC { uint rows, cols, dOff, xOff; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint c = gl_GlobalInvocationID.x; c < pc.cols; c += stride) {
        float acc = 0.0;
        for (uint r = 0u; r < pc.rows; r++) {
            acc += x[pc.xOff + r * pc.cols + c];
        }
        d[pc.dOff + c] += acc;
    }
}
