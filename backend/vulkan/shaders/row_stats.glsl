// Shared by logprobs and logprobs_backward: the statistics of one row of
// logits with a fixed-order tree reduction. Needs x[], pc.xOff, red[256].

// rowMax returns max over x[base .. base+cols).
float rowMax(uint base, uint cols) {
    uint tid = gl_LocalInvocationID.x;
    float m = -1.0 / 0.0;
    for (uint j = tid; j < cols; j += 256u) {
        m = max(m, x[base + j]);
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
    return m;
}

// rowSums returns (sum e_j, sum e_j*(x_j-m)) with e_j = exp(x_j - m).
vec2 rowSums(uint base, uint cols, float m) {
    uint tid = gl_LocalInvocationID.x;
    float s0 = 0.0, s1 = 0.0;
    for (uint j = tid; j < cols; j += 256u) {
        float z = x[base + j] - m;
        float e = exp(z);
        s0 += e;
        s1 += e * z;
    }
    red[tid] = s0;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (tid < s) {
            red[tid] += red[tid + s];
        }
        barrier();
    }
    s0 = red[0];
    barrier();
    red[tid] = s1;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (tid < s) {
            red[tid] += red[tid + s];
        }
        barrier();
    }
    s1 = red[0];
    barrier();
    return vec2(s0, s1);
}
