#version 450
// swiglu_backward: with s = sigmoid(gate), dup = dout*gate*s and
// dgate = dout*up*s*(1 + gate*(1-s)); outputs may alias inputs.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer DG { float dg[]; };
layout(std430, binding = 1) buffer DU { float du[]; };
layout(std430, binding = 2) readonly buffer D { float d[]; };
layout(std430, binding = 3) readonly buffer G { float g[]; };
layout(std430, binding = 4) readonly buffer U { float u[]; };
layout(push_constant) uniform PC { uint n, dgOff, duOff, dOff, gOff, uOff; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        float gk = g[pc.gOff + i], uk = u[pc.uOff + i], dk = d[pc.dOff + i];
        float s = 1.0 / (1.0 + exp(-gk));
        dg[pc.dgOff + i] = dk * uk * s * (1.0 + gk * (1.0 - s));
        du[pc.duOff + i] = dk * gk * s;
    }
}
