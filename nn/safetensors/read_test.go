package safetensors

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/internal/shareddata"
)

func TestReadMixedDTypes(t *testing.T) {
	b, want := mixedFile()
	path := writeTemp(t, "mixed.safetensors", b)

	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, []string{"bf16", "empty", "f16", "f32", "f64", "i32", "i64", "mask"}, f.Names())
	require.Equal(t, map[string]string{"format": "pt", "note": "mixed"}, f.Metadata())

	info, ok := f.Info("f16")
	require.True(t, ok)
	require.Equal(t, TensorInfo{DType: "F16", Shape: []int{1, 3}, Begin: 4, End: 10}, info)
	_, ok = f.Info("nope")
	require.False(t, ok)

	for name, vals := range want {
		got, err := f.Read(name)
		require.NoError(t, err, name)
		assert.Equal(t, vals, got.Data, name)
		assert.Len(t, got.Data, got.numel(), name)
	}
	scalar, err := f.Read("f64")
	require.NoError(t, err)
	require.Empty(t, scalar.Shape)

	_, err = f.Read("mask")
	require.ErrorContains(t, err, "unsupported dtype U8")
	require.ErrorContains(t, err, `"mask"`)
	require.ErrorContains(t, err, path)
	_, err = f.Read("nope")
	require.ErrorContains(t, err, `no tensor "nope"`)

	// ReadFile wants every tensor, so the U8 one makes it fail.
	_, err = ReadFile(path)
	require.ErrorContains(t, err, "unsupported dtype U8")

	meta, err := ReadMetadata(path)
	require.NoError(t, err)
	require.Equal(t, "mixed", meta["note"])
}

func (t Tensor) numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// TestCorruptFiles checks that each kind of damage gives an error that
// names the file and says what is wrong, and never a panic.
func TestCorruptFiles(t *testing.T) {
	f32x2 := le(float32(1), float32(2))
	cases := []struct {
		name string
		file []byte
		want string // substring of the error
	}{
		{"empty file", nil, "too short"},
		{"seven bytes", []byte{1, 0, 0, 0, 0, 0, 0}, "too short"},
		{"absurd header length", le(uint64(1) << 40), "exceeds the"},
		{"header past end", append(le(uint64(100)), "{}"...), "exceeds the file size"},
		{"zero header length", le(uint64(0)), "does not start with '{'"},
		{"header not an object", rawFile("[1,2]   ", nil), "does not start with '{'"},
		{"invalid JSON", rawFile(`{"a":{"dtype":"F32"`, nil), "invalid header"},
		{"garbage after JSON", rawFile(`{} xx`, nil), "unexpected bytes after"},
		{"invalid UTF-8", rawFile("{\"\xff\":1}", nil), "UTF-8"},
		{"entry not an object", rawFile(`{"a":3}`, nil), `tensor "a"`},
		{"missing shape", rawFile(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, f32x2), "needs dtype, shape and data_offsets"},
		{"unknown dtype", rawFile(`{"a":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}}`, f32x2), `unknown dtype "F17"`},
		{"three offsets", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}`, f32x2), "want 2"},
		{"reversed offsets", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}`, f32x2), "invalid data_offsets"},
		{"negative offset", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}`, f32x2), "invalid data_offsets"},
		{"offsets past data", rawFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32x2), "run past the 8-byte data section"},
		{"shape mismatch", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32x2), "needs 12 bytes"},
		{"dtype size mismatch", rawFile(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}`, f32x2), "needs 4 bytes"},
		{"negative dims", rawFile(`{"a":{"dtype":"F32","shape":[-1,-2],"data_offsets":[0,8]}}`, f32x2), "negative dimension"},
		{"fractional dim", rawFile(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}`, f32x2), `tensor "a"`},
		{"overflowing shape", rawFile(`{"a":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,8]}}`, f32x2), "more than 2^63"},
		{"duplicate name", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2), `duplicate name "a"`},
		{"duplicate metadata", rawFile(`{"__metadata__":{},"__metadata__":{}}`, nil), "duplicate"},
		{"duplicate metadata key", rawFile(`{"__metadata__":{"k":"1","k":"2"}}`, nil), `duplicate name "k"`},
		{"metadata not strings", rawFile(`{"__metadata__":{"k":1}}`, nil), "values must be strings"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2), `overlap tensor "a"`},
		{"gap", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2), "gap"},
		{"trailing data", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32x2), "trailing bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeTemp(t, "bad.safetensors", c.file)
			_, err := ReadFile(path)
			require.Error(t, err)
			require.ErrorContains(t, err, c.want)
			require.ErrorContains(t, err, path)
			_, err = ReadMetadata(path)
			require.Error(t, err)
		})
	}
}

// TestTruncatedFiles cuts a valid file at every length: each prefix must be
// refused at Open, because the header fixes the exact file size.
func TestTruncatedFiles(t *testing.T) {
	full, _ := mixedFile()
	dir := t.TempDir()
	for n := range len(full) {
		path := filepath.Join(dir, "cut.safetensors")
		require.NoError(t, os.WriteFile(path, full[:n], 0o644))
		_, err := Open(path)
		require.Error(t, err, "prefix of %d bytes", n)
	}
}

// TestFileShrinksAfterOpen covers a file truncated between Open and Read.
func TestFileShrinksAfterOpen(t *testing.T) {
	full, _ := mixedFile()
	f, err := newFile("mem", bytes.NewReader(full), int64(len(full)))
	require.NoError(t, err)
	f.r = bytes.NewReader(full[:len(full)-10])
	_, err = f.Read("i64")
	require.ErrorContains(t, err, "unexpected EOF")
}

func TestOpenMissingFile(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "absent.safetensors"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestLlamaArithRandom reads the BF16 checkpoint of the tiny random Llama and
// checks every tensor's shape against its config.json.
func TestLlamaArithRandom(t *testing.T) {
	path := shareddata.Path(t, "models/llama-arith-random/model.safetensors")
	cfgBytes, err := os.ReadFile(filepath.Join(filepath.Dir(path), "config.json"))
	require.NoError(t, err)
	var cfg struct {
		Vocab  int `json:"vocab_size"`
		Hidden int `json:"hidden_size"`
		Inter  int `json:"intermediate_size"`
		Layers int `json:"num_hidden_layers"`
		Heads  int `json:"num_attention_heads"`
		KV     int `json:"num_key_value_heads"`
	}
	require.NoError(t, json.Unmarshal(cfgBytes, &cfg))
	kvDim := cfg.KV * cfg.Hidden / cfg.Heads

	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		require.Equal(t, "BF16", info.DType, name)
	}
	require.Equal(t, map[string]string{"format": "pt"}, f.Metadata())

	ts, err := f.ReadAll()
	require.NoError(t, err)
	want := map[string][]int{
		"model.embed_tokens.weight": {cfg.Vocab, cfg.Hidden},
		"lm_head.weight":            {cfg.Vocab, cfg.Hidden},
		"model.norm.weight":         {cfg.Hidden},
	}
	for l := range cfg.Layers {
		p := "model.layers." + strconv.Itoa(l) + "."
		want[p+"input_layernorm.weight"] = []int{cfg.Hidden}
		want[p+"post_attention_layernorm.weight"] = []int{cfg.Hidden}
		want[p+"self_attn.q_proj.weight"] = []int{cfg.Hidden, cfg.Hidden}
		want[p+"self_attn.k_proj.weight"] = []int{kvDim, cfg.Hidden}
		want[p+"self_attn.v_proj.weight"] = []int{kvDim, cfg.Hidden}
		want[p+"self_attn.o_proj.weight"] = []int{cfg.Hidden, cfg.Hidden}
		want[p+"mlp.gate_proj.weight"] = []int{cfg.Inter, cfg.Hidden}
		want[p+"mlp.up_proj.weight"] = []int{cfg.Inter, cfg.Hidden}
		want[p+"mlp.down_proj.weight"] = []int{cfg.Hidden, cfg.Inter}
	}
	require.Len(t, ts, len(want))
	total := 0
	for name, shape := range want {
		got, ok := ts[name]
		require.True(t, ok, "missing %s", name)
		require.Equal(t, shape, got.Shape, name)
		require.Len(t, got.Data, got.numel(), name)
		total += len(got.Data)
	}
	require.Equal(t, 795_776, total)

	// Random weights must not read as all zeros (a wrong offset or a broken
	// BF16 conversion would show here), and RMSNorm weights start at 1.
	nonzero := 0
	for _, v := range ts["model.layers.0.self_attn.q_proj.weight"].Data {
		if v != 0 {
			nonzero++
		}
	}
	require.Greater(t, nonzero, 128*128/2)
	for _, v := range ts["model.layers.0.input_layernorm.weight"].Data {
		require.Equal(t, float32(1), v)
	}
}
