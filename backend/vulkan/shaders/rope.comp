#version 450
// rope: rotates pairs (j, j+half) of every head of every row of x
// (rows, heads*headDim) by sign*angle(pos[row], j); cos and sin come from a
// host-computed table (cos at tab[cOff + p*half + j], sin at sOff), so the
// angles are as exact as the CPU backend's.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer T { float tab[]; };
layout(std430, binding = 2) readonly buffer P { int pos[]; };
layout(push_constant) uniform PC { uint total, heads, half_, xOff, cOff, sOff, pOff; float sign_; } pc;
void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    uint perRow = pc.heads * pc.half_;
    for (uint e = gl_GlobalInvocationID.x; e < pc.total; e += stride) {
        uint row = e / perRow, rem = e % perRow;
        uint h = rem / pc.half_, j = rem % pc.half_;
        uint p = uint(pos[pc.pOff + row]);
        float c = tab[pc.cOff + p * pc.half_ + j];
        float s = pc.sign_ * tab[pc.sOff + p * pc.half_ + j];
        uint i1 = pc.xOff + row * perRow * 2u + h * pc.half_ * 2u + j;
        uint i2 = i1 + pc.half_;
        float a = x[i1], b = x[i2];
        precise float ac = a * c, bs = b * s, bc = b * c, as_ = a * s;
        x[i1] = ac - bs;
        x[i2] = bc + as_;
    }
}
