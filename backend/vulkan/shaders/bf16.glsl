// bf16 ("brain float": the high half of a float32) for the shaders that
// read or write it. The rounding is asm.BF16FromF32's, on the bits (no
// float arithmetic, so no device's denormal or NaN handling can change
// it): round to nearest, ties to even; NaN stays NaN with the quiet bit
// set and its sign; zeros and float32 denormals become zero of the same
// sign; values that round past the largest bf16 become infinity.

// bf16Bits rounds the float32 with bits x to bf16 bits (low 16 bits).
uint bf16Bits(uint x) {
    if ((x & 0x7f800000u) == 0u) {
        return (x >> 16) & 0x8000u; // zero or denormal
    }
    if ((x & 0x7fffffffu) > 0x7f800000u) {
        return (x >> 16) | 0x40u; // NaN
    }
    return (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
}

// bf16Round rounds the float32 with bits x to bf16 and widens it back.
float bf16Round(uint x) { return uintBitsToFloat(bf16Bits(x) << 16); }

// bf16Lo and bf16Hi widen the bf16 values packed in a word: element 2w in
// the low half, 2w+1 in the high half (little-endian order of uint16s).
float bf16Lo(uint w) { return uintBitsToFloat(w << 16); }
float bf16Hi(uint w) { return uintBitsToFloat(w & 0xffff0000u); }
