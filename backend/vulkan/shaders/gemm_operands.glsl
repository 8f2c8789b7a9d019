// Shared by gemm_tiled and gemv_bf16: an operand element as a float, for
// each way A and B may be stored (A_TYPE, B_TYPE: 0 float32, 1 float32
// rounded to bf16 as it is loaded, 2 bf16 two per word). Needs the
// bindings a, a4, au, au2, au4 (A) and b, b4, bu, bu2, bu4 (B) and the
// constants A_TYPE and B_TYPE.

#include "bf16.glsl"

// loadA returns element i of A's binding as a float; loadA4 the four
// elements from i on (i a multiple of four). Likewise loadB, loadB4.
float loadA(uint i) {
    if (A_TYPE == 0u) { return a[i]; }
    if (A_TYPE == 1u) { return bf16Round(au[i]); }
    uint w = au[i >> 1];
    return (i & 1u) != 0u ? bf16Hi(w) : bf16Lo(w);
}
vec4 loadA4(uint i) {
    if (A_TYPE == 0u) { return a4[i / 4u]; }
    if (A_TYPE == 1u) { uvec4 u = au4[i / 4u]; return vec4(bf16Round(u.x), bf16Round(u.y), bf16Round(u.z), bf16Round(u.w)); }
    uvec2 w = au2[i / 4u];
    return vec4(bf16Lo(w.x), bf16Hi(w.x), bf16Lo(w.y), bf16Hi(w.y));
}
float loadB(uint i) {
    if (B_TYPE == 0u) { return b[i]; }
    if (B_TYPE == 1u) { return bf16Round(bu[i]); }
    uint w = bu[i >> 1];
    return (i & 1u) != 0u ? bf16Hi(w) : bf16Lo(w);
}
vec4 loadB4(uint i) {
    if (B_TYPE == 0u) { return b4[i / 4u]; }
    if (B_TYPE == 1u) { uvec4 u = bu4[i / 4u]; return vec4(bf16Round(u.x), bf16Round(u.y), bf16Round(u.z), bf16Round(u.w)); }
    uvec2 w = bu2[i / 4u];
    return vec4(bf16Lo(w.x), bf16Hi(w.x), bf16Lo(w.y), bf16Hi(w.y));
}
