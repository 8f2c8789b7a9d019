package safetensors

import (
	"bytes"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/asm"
)

// TestReadBF16Into: BF16 is copied bit for bit, F32 and F16 are rounded as
// asm.BF16FromF32 rounds (ties to even, denormals to signed zero, NaN
// quiet), and every other dtype is refused in one line.
func TestReadBF16Into(t *testing.T) {
	b, _ := mixedFile()
	f, err := newFile("mixed", bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	got := make([]uint16, 2)
	require.NoError(t, f.ReadBF16Into("bf16", got))
	require.Equal(t, []uint16{0x3f80, 0xc040}, got)
	got = make([]uint16, 3)
	require.NoError(t, f.ReadBF16Into("f16", got))
	require.Equal(t, []uint16{0x3f80, 0x3380, 0xff80}, got) // 1, 2^-24, -Inf
	got = make([]uint16, 2)
	require.NoError(t, f.ReadBF16Into("f32", got))
	require.Equal(t, []uint16{0x3f00, 0xc0e8}, got) // 0.5, -7.25
	require.NoError(t, f.ReadBF16Into("empty", nil))

	for _, name := range []string{"f64", "i32", "i64", "mask"} {
		n := 1
		if ti, _ := f.Info(name); true {
			n = ti.Numel()
		}
		err := f.ReadBF16Into(name, make([]uint16, n))
		require.ErrorContains(t, err, "cannot be read as bf16 (want BF16, F32 or F16)", name)
		require.NotContains(t, err.Error(), "\n")
	}
	require.ErrorContains(t, f.ReadBF16Into("bf16", make([]uint16, 3)), `tensor "bf16" has 2 elements (shape [2]), read into 3`)
	require.ErrorContains(t, f.ReadBF16Into("nope", nil), `no tensor "nope"`)
	require.ErrorContains(t, f.ReadInto("f32", make([]float32, 1)), "read into 1")
	require.ErrorContains(t, f.ReadInto("mask", make([]float32, 3)), "unsupported dtype U8")
}

// TestReadBF16IntoRounding: F32, F16 and BF16 values of every kind, over
// more than one read chunk, read as asm.BF16FromF32 of their float32 value.
func TestReadBF16IntoRounding(t *testing.T) {
	special := []uint32{
		0x3f808000, // tie, rounds down to even
		0x3f818000, // tie, rounds up to even
		0x3f808001, // above the tie
		0x00000001, // smallest denormal: +0
		0x80400000, // negative denormal: -0
		0x7f7fffff, // largest finite: rounds to +Inf
		0x7f800000, 0xff800000,
		0x7fa00000, // signalling NaN: stays NaN
		0xffc00001,
		0x80000000,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := readChunk/4 + 1000 // more than one chunk of F32
	f32 := make([]float32, n)
	for i := range f32 {
		if i < len(special) {
			f32[i] = math.Float32frombits(special[i])
		} else {
			f32[i] = math.Float32frombits(rng.Uint32())
		}
	}
	f16 := make([]float32, readChunk/2+1000)
	bf16 := make([]float32, readChunk/2+1000)
	for i := range f16 {
		f16[i] = F16ToF32(uint16(rng.Uint32()))
		bf16[i] = BF16ToF32(uint16(rng.Uint32())) // denormals and NaNs among them
	}
	bf16[0], bf16[1] = BF16ToF32(0x0001), BF16ToF32(0x7f81) // a denormal: +0; a signalling NaN: quiet
	dir := t.TempDir()
	for _, c := range []struct {
		dtype string
		data  []float32
	}{{"F32", f32}, {"F16", f16}, {"BF16", bf16}} {
		path := filepath.Join(dir, c.dtype+".safetensors")
		require.NoError(t, WriteFileAs(path, map[string]Tensor{"x": {Shape: []int{len(c.data)}, Data: c.data}}, nil, c.dtype))
		f, err := Open(path)
		require.NoError(t, err)
		got := make([]uint16, len(c.data))
		require.NoError(t, f.ReadBF16Into("x", got))
		want := make([]uint16, len(c.data))
		asm.F32ToBF16(want, c.data)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s element %d (%#08x): got %#04x, want %#04x", c.dtype, i, math.Float32bits(c.data[i]), got[i], want[i])
			}
		}
		// ReadInto gives what Read gives.
		all, err := f.Read("x")
		require.NoError(t, err)
		into := make([]float32, len(c.data))
		require.NoError(t, f.ReadInto("x", into))
		require.Equal(t, bitsOf(all.Data), bitsOf(into))
		f.Close()
	}
}

func bitsOf(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = math.Float32bits(x)
	}
	return out
}

// TestOpenDir: a sharded checkpoint streams tensor by tensor with the
// values ReadDir gives, as float32 and as bf16.
func TestOpenDir(t *testing.T) {
	dir, want := shardedCheckpoint(t)
	d, err := OpenDir(dir)
	require.NoError(t, err)
	defer d.Close()
	require.Equal(t, []string{"lm_head.weight", "model.embed_tokens.weight", "model.norm.weight"}, d.Names())
	for name, w := range want {
		ti, ok := d.Info(name)
		require.True(t, ok)
		require.Equal(t, w.Shape, ti.Shape)
		got := make([]float32, ti.Numel())
		require.NoError(t, d.ReadInto(name, got))
		require.Equal(t, w.Data, got)
		h := make([]uint16, ti.Numel())
		require.NoError(t, d.ReadBF16Into(name, h))
		for i, v := range w.Data {
			require.Equal(t, asm.BF16FromF32(v), h[i])
		}
	}
	_, ok := d.Info("nope")
	require.False(t, ok)
	require.ErrorContains(t, d.ReadBF16Into("nope", nil), `the checkpoint has no tensor "nope"`)
	require.NoError(t, d.Close())
}

// TestOpenDirBad: a damaged index fails when the folder is opened, before
// any data is read, in one line.
func TestOpenDirBad(t *testing.T) {
	dir, _ := shardedCheckpoint(t)
	writeIndex(t, dir, `{"weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors", "model.embed_tokens.weight": "model-00001-of-00002.safetensors"}}`)
	_, err := OpenDir(dir)
	require.ErrorContains(t, err, `tensor "model.norm.weight" is in the shard but not listed`)
	require.False(t, strings.Contains(err.Error(), "\n"))
	_, err = OpenDir(t.TempDir())
	require.ErrorContains(t, err, "neither model.safetensors nor model.safetensors.index.json found")
}

// TestBF16DecodersExhaustive: the in-place decoders give, for every one of
// the 65,536 bf16 values, the element-by-element results.
func TestBF16DecodersExhaustive(t *testing.T) {
	src := make([]byte, 2<<16)
	for h := range 1 << 16 {
		src[2*h], src[2*h+1] = byte(h), byte(h>>8)
	}
	v := asU16(src)
	require.NotNil(t, v)
	got := make([]uint16, 1<<16)
	canonBF16(got, v)
	wide := make([]float32, 1<<16)
	decodeBF16(wide, src)
	for h := range 1 << 16 {
		require.Equal(t, asm.BF16FromF32(BF16ToF32(uint16(h))), got[h], "%#04x", h)
		require.Equal(t, math.Float32bits(BF16ToF32(uint16(h))), math.Float32bits(wide[h]), "%#04x", h)
	}
}
