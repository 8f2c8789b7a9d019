package safetensors

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// nearestRef narrows f by brute force: the code of the nearest value among
// the non-negative finite codes of vals (see codeValues), whose last entry
// (infinity) standing for the next power of two so that the
// overflow threshold falls where IEEE rounding puts it; ties go to the even
// code. It is the definition of round-to-nearest-even, written without bit
// tricks, to check F32ToBF16 and F32ToF16 against.
func nearestRef(f float32, vals []float64) uint16 {
	maxCode := uint16(len(vals) - 2)
	sign := uint16(0)
	if math.Signbit(float64(f)) {
		sign = 0x8000
	}
	x := math.Abs(float64(f))
	i := sort.SearchFloat64s(vals, x) // first value >= x
	if i > int(maxCode)+1 {
		return sign | (maxCode + 1)
	}
	if vals[i] == x || i == 0 {
		return sign | uint16(i)
	}
	lo, hi := x-vals[i-1], vals[i]-x
	switch {
	case lo < hi:
		return sign | uint16(i-1)
	case hi < lo:
		return sign | uint16(i)
	case (i-1)%2 == 0:
		return sign | uint16(i-1)
	}
	return sign | uint16(i)
}

// codeValues lists the values of codes 0..maxCode, then inf for the code
// after them.
func codeValues(maxCode uint16, widen func(uint16) float32, inf float64) []float64 {
	vals := make([]float64, int(maxCode)+2)
	for c := 0; c <= int(maxCode); c++ {
		vals[c] = float64(widen(uint16(c)))
	}
	vals[maxCode+1] = inf
	return vals
}

// narrowCases are float32 values around every interesting boundary: exact
// codes, midpoints (ties), values just off them, subnormals and overflow.
func narrowCases(widen func(uint16) float32, maxCode uint16) []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	var out []float32
	for c := uint16(0); c <= maxCode; c += 1 + uint16(r.IntN(7)) {
		a, b := float64(widen(c)), float64(widen(c+1))
		if c == maxCode {
			b = 2*a - float64(widen(c-1))
		}
		mid := float32((a + b) / 2)
		out = append(out, widen(c), mid, math.Nextafter32(mid, 0), math.Nextafter32(mid, math.MaxFloat32), -mid)
	}
	for range 20000 {
		out = append(out, math.Float32frombits(r.Uint32()&0x7fffffff)*float32(1-2*r.IntN(2)))
	}
	return append(out, 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32)
}

func TestF32ToBF16RoundsToNearestEven(t *testing.T) {
	vals := codeValues(0x7f7f, BF16ToF32, math.Ldexp(1, 128))
	for _, f := range narrowCases(BF16ToF32, 0x7f7f) {
		if f != f {
			continue
		}
		want := nearestRef(f, vals)
		require.Equal(t, want, F32ToBF16(f), "%g (%#08x)", f, math.Float32bits(f))
	}
	// Every bfloat16 survives a round trip through float32 bit for bit.
	for c := range 1 << 16 {
		h := uint16(c)
		got := F32ToBF16(BF16ToF32(h))
		if h&0x7f80 == 0x7f80 && h&0x7f != 0 {
			require.True(t, got&0x7f80 == 0x7f80 && got&0x7f != 0, "NaN %#04x stays NaN", h)
			continue
		}
		require.Equal(t, h, got, "%#04x", h)
	}
	// A NaN whose payload lives only in the low bits stays NaN.
	require.Equal(t, uint16(0x7fc0), F32ToBF16(math.Float32frombits(0x7f800001)))
}

func TestF32ToF16RoundsToNearestEven(t *testing.T) {
	vals := codeValues(0x7bff, F16ToF32, 65536)
	for _, f := range narrowCases(F16ToF32, 0x7bff) {
		if f != f {
			continue
		}
		want := nearestRef(f, vals)
		require.Equal(t, want, F32ToF16(f), "%g (%#08x)", f, math.Float32bits(f))
	}
	for c := range 1 << 16 {
		h := uint16(c)
		got := F32ToF16(F16ToF32(h))
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			require.True(t, got&0x7c00 == 0x7c00 && got&0x3ff != 0, "NaN %#04x stays NaN", h)
			continue
		}
		require.Equal(t, h, got, "%#04x", h)
	}
}

func TestWriteFileAsNarrows(t *testing.T) {
	ts := map[string]Tensor{
		"a": {Shape: []int{2, 3}, Data: []float32{1, -2.5, 1.00390625, 3e38, 1e-3, float32(math.Inf(-1))}},
		"b": {Shape: []int{}, Data: []float32{65519}},
	}
	for _, dt := range []string{"BF16", "F16"} {
		path := filepath.Join(t.TempDir(), "m.safetensors")
		require.NoError(t, WriteFileAs(path, ts, map[string]string{"format": "pt"}, dt))
		infos, err := FileInfo(path)
		require.NoError(t, err)
		require.Equal(t, dt, infos["a"].DType)
		got, err := ReadFile(path)
		require.NoError(t, err)
		narrow, widen := F32ToBF16, BF16ToF32
		if dt == "F16" {
			narrow, widen = F32ToF16, F16ToF32
		}
		for name, w := range ts {
			for i, v := range w.Data {
				require.Equal(t, math.Float32bits(widen(narrow(v))), math.Float32bits(got[name].Data[i]), "%s %s[%d]", dt, name, i)
			}
		}
	}
	require.ErrorContains(t, WriteFileAs(filepath.Join(t.TempDir(), "x"), ts, nil, "I8"), `cannot write dtype "I8"`)
}
