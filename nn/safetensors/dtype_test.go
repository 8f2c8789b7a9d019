package safetensors

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// f16Reference is the textbook definition of a half-precision value,
// computed in float64, for finite values.
func f16Reference(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	if exp == 0 {
		return sign * math.Ldexp(mant/1024, -14)
	}
	return sign * math.Ldexp(1+mant/1024, exp-15)
}

func TestF16ToF32AllValues(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		got := F16ToF32(h)
		exp := (h >> 10) & 0x1f
		mant := h & 0x3ff
		neg := h&0x8000 != 0
		switch {
		case exp == 0x1f && mant == 0:
			require.True(t, math.IsInf(float64(got), map[bool]int{false: 1, true: -1}[neg]), "h=%#04x", h)
		case exp == 0x1f:
			require.True(t, math.IsNaN(float64(got)), "h=%#04x", h)
			bits := math.Float32bits(got)
			require.Equal(t, uint32(mant)<<13, bits&0x7fffff, "NaN payload h=%#04x", h)
			require.Equal(t, neg, bits>>31 == 1, "NaN sign h=%#04x", h)
		default:
			require.Equal(t, f16Reference(h), float64(got), "h=%#04x", h)
			require.Equal(t, neg, math.Signbit(float64(got)), "sign h=%#04x", h)
		}
	}
}

// TestF16ToF32MatchesNumpy compares all 65536 conversions, NaN payloads
// included, with numpy's float16 -> float32 cast through a digest of the
// little-endian float32 bits, computed once by hand with:
//
//	h = np.arange(65536, dtype=np.uint32).astype(np.uint16)
//	f = h.view(np.float16).astype(np.float32)
//	hashlib.sha256(f.view(np.uint32).astype('<u4').tobytes()).hexdigest()
func TestF16ToF32MatchesNumpy(t *testing.T) {
	const numpyDigest = "f4fdd084f85448d28c84f20fabf4022ba938e40b7f382d2727dec6f41ac6267a"
	buf := make([]byte, 4<<16)
	for i := range 1 << 16 {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(F16ToF32(uint16(i))))
	}
	sum := sha256.Sum256(buf)
	require.Equal(t, numpyDigest, hex.EncodeToString(sum[:]))
}

func TestF16ToF32Known(t *testing.T) {
	cases := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x7bff, 65504},
		{0x0001, 5.9604645e-08}, // smallest subnormal, 2^-24
		{0x03ff, 6.097555e-05},  // largest subnormal
		{0x0400, 6.1035156e-05}, // smallest normal, 2^-14
		{0x3555, 0.33325195},
	}
	for _, c := range cases {
		require.Equal(t, c.want, F16ToF32(c.h), "h=%#04x", c.h)
	}
	require.Equal(t, uint32(0x80000000), math.Float32bits(F16ToF32(0x8000)), "negative zero")
	require.True(t, math.IsInf(float64(F16ToF32(0x7c00)), 1))
	require.True(t, math.IsInf(float64(F16ToF32(0xfc00)), -1))
	require.Equal(t, uint32(0xffc00000), math.Float32bits(F16ToF32(0xfe00)), "negative quiet NaN")
}

func TestBF16ToF32(t *testing.T) {
	for i := range 1 << 16 {
		require.Equal(t, uint32(i)<<16, math.Float32bits(BF16ToF32(uint16(i))))
	}
	require.Equal(t, float32(1), BF16ToF32(0x3f80))
	require.Equal(t, float32(-2), BF16ToF32(0xc000))
}
