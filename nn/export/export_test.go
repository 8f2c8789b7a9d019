package export

import (
	"encoding/binary"
	"encoding/json"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/load"
	"github.com/goarpo/arpo/nn/nntest"
	"github.com/goarpo/arpo/nn/safetensors"
	"github.com/goarpo/arpo/nn/tokenizer"
)

// rawTensors returns every tensor's dtype and stored bytes, read with no
// conversion, so that a round trip can be compared byte for byte.
func rawTensors(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	infos, err := safetensors.FileInfo(path)
	require.NoError(t, err)
	start := 8 + int64(binary.LittleEndian.Uint64(data))
	out := map[string]string{}
	for name, ti := range infos {
		out[name] = ti.DType + ":" + string(data[start+ti.Begin:start+ti.End])
	}
	return out
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

func loadModel(t *testing.T, path string) *load.Loaded {
	t.Helper()
	l, err := load.Load(path, load.Options{Backend: cpu.New(1)})
	require.NoError(t, err)
	t.Cleanup(l.Free)
	return l
}

// The shared BF16 Llama exports to the same bytes per tensor, with its own
// config fields, tokenizer config and generation config.
func TestSharedLlamaRoundTripsBF16(t *testing.T) {
	src := shareddata.Path(t, "models/llama-arith-random")
	l := loadModel(t, src)
	out := filepath.Join(t.TempDir(), "hf")
	require.NoError(t, Write(FromLoaded(l), out, Options{}))

	want := rawTensors(t, filepath.Join(src, "model.safetensors"))
	got := rawTensors(t, filepath.Join(out, "model.safetensors"))
	require.Equal(t, slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got)))
	for name := range want {
		require.True(t, want[name] == got[name], "%s differs", name)
		require.True(t, strings.HasPrefix(got[name], "BF16:"), name)
	}
	cfg := readJSON(t, filepath.Join(out, "config.json"))
	orig := readJSON(t, filepath.Join(src, "config.json"))
	for k, v := range orig {
		assert.Equal(t, v, cfg[k], "config.json %s", k)
	}
	for _, n := range []string{"tokenizer_config.json", "generation_config.json"} {
		a, err := os.ReadFile(filepath.Join(src, n))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(out, n))
		require.NoError(t, err)
		assert.Equal(t, string(a), string(b), n)
	}
	assert.NoFileExists(t, filepath.Join(out, "tokenizer.json"), "a character tokenizer has none")

	// --dtype f32 widens exactly; loading either gives the same model.
	out32 := filepath.Join(t.TempDir(), "hf32")
	require.NoError(t, Write(FromLoaded(l), out32, Options{DType: "F32"}))
	assert.Equal(t, "float32", readJSON(t, filepath.Join(out32, "config.json"))["torch_dtype"])
	back := loadModel(t, out32)
	assert.Equal(t, "F32", back.Found.DType)
	requireSameWeights(t, l.Model, back.Model)
}

func requireSameWeights(t *testing.T, a, b *nn.Model) {
	t.Helper()
	require.Equal(t, len(a.Params), len(b.Params))
	for i := range a.Params {
		wa, err := a.Params[i].W.Data()
		require.NoError(t, err)
		wb, err := b.Params[i].W.Data()
		require.NoError(t, err)
		require.Equal(t, a.Params[i].Name, b.Params[i].Name)
		for j := range wa {
			require.Equal(t, math.Float32bits(wa[j]), math.Float32bits(wb[j]), "%s[%d]", a.Params[i].Name, j)
		}
	}
}

// runDir writes a run folder as cmd/train leaves it, with a model of cfg.
func runDir(t *testing.T, cfg nn.Config) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755))
	m, err := nn.New(cfg, cpu.New(1))
	require.NoError(t, err)
	defer m.Free()
	nntest.RandomWeights(m, 3, 5, 0.3)
	opt, err := nn.NewAdamW(m, nn.DefaultAdamW(1e-3))
	require.NoError(t, err)
	defer opt.Free()
	require.NoError(t, nn.Checkpoint{Model: m, Opt: opt}.Save(filepath.Join(dir, "checkpoints", "final.safetensors")))
	tok, err := tokenizer.Train([]string{strings.Repeat("the cat sat on the mat; 12+34=46. ", 20)}, 300, tokenizer.DefaultSpecials)
	require.NoError(t, err)
	require.NoError(t, tok.Save(filepath.Join(dir, "tokenizer.json")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "state.json"), []byte(`{"phase":"done"}`), 0o644))
	return dir
}

func testConfig(tied bool) nn.Config {
	return nn.Config{
		ModelType: "llama", VocabSize: 320, HiddenSize: 32, NumLayers: 2,
		NumHeads: 4, NumKVHeads: 2, HeadDim: 8, IntermediateSize: 48,
		RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 256, HiddenAct: "silu",
		TieWordEmbeddings: tied,
	}
}

// A run of ours exports in F32 by default, loads back bit for bit, and
// carries its tokenizer with a ChatML template and its end-of-turn ids.
func TestRunExportsAndLoadsBack(t *testing.T) {
	for _, tied := range []bool{false, true} {
		run := runDir(t, testConfig(tied))
		l := loadModel(t, run)
		out := filepath.Join(t.TempDir(), "hf")
		require.NoError(t, Write(FromLoaded(l), out, Options{}))
		back := loadModel(t, out)
		assert.Equal(t, load.HF, back.Found.Kind)
		assert.Equal(t, archJSON(t, l.Model.Cfg), archJSON(t, back.Model.Cfg))
		requireSameWeights(t, l.Model, back.Model)
		assert.Equal(t, l.EOS, back.EOS)
		assert.Equal(t, l.Chat.Source, back.Chat.Source)
		assert.Equal(t, tokenizer.ChatMLTemplate, back.Chat.Source)

		infos, err := safetensors.FileInfo(filepath.Join(out, "model.safetensors"))
		require.NoError(t, err)
		_, hasHead := infos["lm_head.weight"]
		assert.Equal(t, !tied, hasHead, "a tied model has no lm_head.weight, as Hugging Face writes it")
		for name, ti := range infos {
			assert.Equal(t, "F32", ti.DType, name)
			assert.False(t, strings.HasPrefix(name, "optim."), name)
		}
		cfg := readJSON(t, filepath.Join(out, "config.json"))
		assert.Equal(t, "float32", cfg["torch_dtype"])
		assert.Equal(t, []any{"LlamaForCausalLM"}, cfg["architectures"])
		assert.Equal(t, tied, cfg["tie_word_embeddings"])
		assert.EqualValues(t, l.Tokenizer.EOS(), cfg["eos_token_id"])
		bos, ok := cfg["bos_token_id"]
		assert.True(t, ok && bos == nil, "bos_token_id is null, not LlamaConfig's default 1")
		gen := readJSON(t, filepath.Join(out, "generation_config.json"))
		assert.Equal(t, []any{float64(l.EOS[0]), float64(l.EOS[1])}, gen["eos_token_id"])
		a, err := os.ReadFile(filepath.Join(run, "tokenizer.json"))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(out, "tokenizer.json"))
		require.NoError(t, err)
		assert.True(t, string(a) == string(b), "tokenizer.json is copied as it is")

		// BF16: each weight rounded to nearest even.
		out16 := filepath.Join(t.TempDir(), "hf16")
		require.NoError(t, Write(FromLoaded(l), out16, Options{DType: "BF16"}))
		assert.Equal(t, "bfloat16", readJSON(t, filepath.Join(out16, "config.json"))["torch_dtype"])
		ts, err := safetensors.ReadFile(filepath.Join(out16, "model.safetensors"))
		require.NoError(t, err)
		for _, p := range l.Model.Params {
			w, err := p.W.Data()
			require.NoError(t, err)
			for i, v := range w {
				require.Equal(t, safetensors.BF16ToF32(safetensors.F32ToBF16(v)), ts[p.Name].Data[i], "%s[%d]", p.Name, i)
			}
		}
	}
}

func TestWriteRefusesNonEmptyTarget(t *testing.T) {
	l := loadModel(t, runDir(t, testConfig(false)))
	parent := t.TempDir()
	out := filepath.Join(parent, "hf")
	require.NoError(t, os.MkdirAll(out, 0o755)) // an empty folder is fine
	// What an export killed midway leaves is cleaned up by the next.
	require.NoError(t, os.MkdirAll(filepath.Join(parent, ".hf.tmp-123", "x"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(parent, ".hf.tmp-456.old"), 0o755))
	require.NoError(t, Write(FromLoaded(l), out, Options{}))
	err := Write(FromLoaded(l), out, Options{})
	var te TargetError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), "is not empty; not overwriting it")
	require.NoError(t, os.WriteFile(filepath.Join(out, "extra"), nil, 0o644))
	require.NoError(t, Write(FromLoaded(l), out, Options{Overwrite: true, DType: "BF16"}))
	assert.NoFileExists(t, filepath.Join(out, "extra"), "the old folder is replaced as a whole")
	assert.Equal(t, "bfloat16", readJSON(t, filepath.Join(out, "config.json"))["torch_dtype"])
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary folders are left: %v", entries)
	file := filepath.Join(parent, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	require.ErrorAs(t, Write(FromLoaded(l), file, Options{Overwrite: true}), &te)
}

func TestParseDType(t *testing.T) {
	for in, want := range map[string]string{"": "", "bf16": "BF16", "BFloat16": "BF16", "f32": "F32", "fp16": "F16"} {
		got, err := ParseDType(in)
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
	_, err := ParseDType("int8")
	assert.ErrorContains(t, err, `dtype "int8"`)
}

// archJSON is c's config.json without the entries that describe a file
// rather than the architecture (the weights' dtype, the special token ids),
// which an export adds: two configs with equal archJSON build the same model.
func archJSON(t *testing.T, c nn.Config) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(c.HFJSON(), &m))
	for _, k := range []string{"torch_dtype", "bos_token_id", "eos_token_id", "pad_token_id"} {
		delete(m, k)
	}
	return m
}

// nn's Qwen3 and Llama 3 (rope_scaling) folders round-trip too: the same
// bytes per tensor and the same config values.
func TestArchFoldersRoundTrip(t *testing.T) {
	for _, src := range []string{"../testdata/hf-qwen3", "../testdata/hf-llama3"} {
		l := loadModel(t, src)
		out := filepath.Join(t.TempDir(), "hf")
		require.NoError(t, Write(FromLoaded(l), out, Options{}))
		want := rawTensors(t, filepath.Join(src, "model.safetensors"))
		got := rawTensors(t, filepath.Join(out, "model.safetensors"))
		require.Equal(t, slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got)), src)
		for name := range want {
			require.True(t, want[name] == got[name], "%s: %s differs", src, name)
		}
		cfg := readJSON(t, filepath.Join(out, "config.json"))
		for k, v := range readJSON(t, filepath.Join(src, "config.json")) {
			assert.Equal(t, v, cfg[k], "%s: config.json %s", src, k)
		}
	}
}

// A chat template saved in chat_template.jinja (newer transformers) is
// carried over with the tokenizer files.
func TestTemplateFileIsCarried(t *testing.T) {
	run := runDir(t, testConfig(false))
	const tmpl = "{% for m in messages %}{{ m['content'] }}<|im_end|>{% endfor %}"
	require.NoError(t, os.WriteFile(filepath.Join(run, "chat_template.jinja"), []byte(tmpl), 0o644))
	l := loadModel(t, run)
	assert.Equal(t, tmpl, l.Chat.Source)
	out := filepath.Join(t.TempDir(), "hf")
	require.NoError(t, Write(FromLoaded(l), out, Options{}))
	got, err := os.ReadFile(filepath.Join(out, "chat_template.jinja"))
	require.NoError(t, err)
	assert.Equal(t, tmpl, string(got))
	assert.Equal(t, tmpl, loadModel(t, out).Chat.Source)
}
