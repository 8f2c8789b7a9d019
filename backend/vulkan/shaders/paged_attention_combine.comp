#version 450
// paged_attention_combine: merges the splits of paged_attention_split.comp,
// one work group per (listed query row r, head h): with M the largest of
// the splits' maxima, out = sum_z exp(m_z - M)*acc_z / sum_z exp(m_z - M)*l_z,
// splits added in order. Every row has at least one key, so M is finite.
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer P { float part[]; };
layout(std430, binding = 2) readonly buffer I { int info[]; };
layout(push_constant) uniform PC {
    uint nrows, heads, hd, oOff, pOff, infoOff, splits;
} pc;

void main() {
    uint tid = gl_LocalInvocationID.x;
    uint h = gl_WorkGroupID.y;
    uint qw = pc.heads * pc.hd;
    for (uint r = gl_WorkGroupID.x; r < pc.nrows; r += gl_NumWorkGroups.x) {
        uint t = uint(info[pc.infoOff + 3u * r]);
        uint base = pc.pOff + (r * pc.heads + h) * pc.splits * (pc.hd + 2u);
        float M = -1.0 / 0.0;
        for (uint z = 0u; z < pc.splits; z++) {
            M = max(M, part[base + z * (pc.hd + 2u)]);
        }
        float L = 0.0;
        for (uint z = 0u; z < pc.splits; z++) {
            uint pz = base + z * (pc.hd + 2u);
            float lz = part[pz + 1u];
            if (lz > 0.0) {
                L += exp(part[pz] - M) * lz;
            }
        }
        for (uint d = tid; d < pc.hd; d += 64u) {
            float a = 0.0;
            for (uint z = 0u; z < pc.splits; z++) {
                uint pz = base + z * (pc.hd + 2u);
                if (part[pz + 1u] > 0.0) {
                    a += exp(part[pz] - M) * part[pz + 2u + d];
                }
            }
            o[pc.oOff + t * qw + h * pc.hd + d] = a / L;
        }
    }
}
