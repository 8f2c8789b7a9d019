#version 450
#extension GL_GOOGLE_include_directive : require
// scatter_rows_bf16: scatter_rows into a bf16 buffer (two per word, element
// 2w in the low half of word w): dst row pairs[2i+1] = src row pairs[2i]
// rounded to bf16 (bf16.glsl). width and dOff are even (the host checks),
// so a row is whole words and one invocation writes one word: no two
// invocations store to one word, and no word is read back. The host drops
// duplicate destinations (the last write wins).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer D { uint d[]; };
layout(std430, binding = 1) readonly buffer S { uint s[]; }; // float32 bits
layout(std430, binding = 2) readonly buffer I { int pairs[]; };
layout(push_constant) uniform PC { uint words, width, dOff, sOff, iOff; } pc;

#include "bf16.glsl"

void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    uint rowWords = pc.width >> 1;
    for (uint e = gl_GlobalInvocationID.x; e < pc.words; e += stride) {
        uint i = e / rowWords, j = e % rowWords;
        uint src = uint(pairs[pc.iOff + 2u * i]), dst = uint(pairs[pc.iOff + 2u * i + 1u]);
        uint si = pc.sOff + src * pc.width + 2u * j;
        d[(pc.dOff >> 1) + dst * rowWords + j] = bf16Bits(s[si]) | (bf16Bits(s[si + 1u]) << 16);
    }
}
