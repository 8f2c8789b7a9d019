#version 450
// embedding_backward: for each run r of equal ids (found on the host),
// dtable[uniq[r]] += dout rows order[starts[r]], order[starts[r]+1], ...
// added one after another in position order: the CPU backend's order, and no
// two invocations write one element.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer D { float dt[]; };
layout(std430, binding = 1) readonly buffer G { float dout[]; };
layout(std430, binding = 2) readonly buffer I { int info[]; };
layout(push_constant) uniform PC { uint total, dim, dtOff, gOff, uniqOff, startsOff, orderOff; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint e = gl_GlobalInvocationID.x; e < pc.total; e += stride) {
        uint r = e / pc.dim, j = e % pc.dim;
        uint idx = pc.dtOff + uint(info[pc.uniqOff + r]) * pc.dim + j;
        float v = dt[idx];
        int lo = info[pc.startsOff + r], hi = info[pc.startsOff + r + 1u];
        for (int s = lo; s < hi; s++) {
            v += dout[pc.gOff + uint(info[pc.orderOff + uint(s)]) * pc.dim + j];
        }
        dt[idx] = v;
    }
}
