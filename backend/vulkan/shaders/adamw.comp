#version 450
// adamw: PyTorch's AdamW step with the scalar factors computed on the host
// in float64 (see the CPU backend): p *= decay; m = fma(c1, g, m*b1);
// v = fma(c2*g, g, v*b2); p += stepNeg*m / (sqrt(v)/bc2Sqrt + eps).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer P { float p[]; };
layout(std430, binding = 1) readonly buffer G { float g[]; };
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
layout(push_constant) uniform PC {
    uint n, pOff, gOff, mOff, vOff;
    float decay, b1, b2, c1, c2, stepNeg, bc2Sqrt, eps;
} pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        float gi = g[pc.gOff + i];
        precise float pi = p[pc.pOff + i] * pc.decay;
        precise float mb = m[pc.mOff + i] * pc.b1;
        precise float vb = v[pc.vOff + i] * pc.b2;
        precise float cg = pc.c2 * gi;
        float mi = fma(pc.c1, gi, mb);
        float vi = fma(cg, gi, vb);
        precise float denom = sqrt(vi) / pc.bc2Sqrt + pc.eps;
        precise float step_ = pc.stepNeg * mi;
        p[pc.pOff + i] = pi + step_ / denom;
        m[pc.mOff + i] = mi;
        v[pc.vOff + i] = vi;
    }
}
