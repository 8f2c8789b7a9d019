package load

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/chat"
	"github.com/goarpo/arpo/nn/nntest"
	"github.com/goarpo/arpo/nn/safetensors"
	"github.com/goarpo/arpo/nn/tokenizer"
)

func testConfig() nn.Config {
	return nn.Config{
		ModelType: "qwen2", VocabSize: 320, HiddenSize: 32, NumLayers: 2,
		NumHeads: 4, NumKVHeads: 2, HeadDim: 8, IntermediateSize: 48,
		RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 256, HiddenAct: "silu",
	}
}

func testBackend() backend.Backend { return cpu.New(1) }

func testModel(t *testing.T) *nn.Model {
	t.Helper()
	m, err := nn.New(testConfig(), testBackend())
	require.NoError(t, err)
	nntest.RandomWeights(m, 3, 5, 0.3)
	return m
}

func testTokenizer(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	texts := []string{strings.Repeat("the cat sat on the mat; 12+34=46. ", 20)}
	tk, err := tokenizer.Train(texts, 300, tokenizer.DefaultSpecials)
	require.NoError(t, err)
	return tk
}

// hfDir writes a Hugging Face folder with the test model and tokenizer.
func hfDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	m := testModel(t)
	defer m.Free()
	require.NoError(t, m.SaveHF(dir))
	require.NoError(t, testTokenizer(t).Save(filepath.Join(dir, "tokenizer.json")))
	return dir
}

// runDir writes a run folder as cmd/train leaves it: state.json,
// tokenizer.json and checkpoints/final.safetensors.
func runDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755))
	m := testModel(t)
	defer m.Free()
	opt, err := nn.NewAdamW(m, nn.DefaultAdamW(1e-3))
	require.NoError(t, err)
	defer opt.Free()
	require.NoError(t, nn.Checkpoint{Model: m, Opt: opt}.Save(filepath.Join(dir, "checkpoints", "final.safetensors")))
	require.NoError(t, testTokenizer(t).Save(filepath.Join(dir, "tokenizer.json")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "state.json"), []byte(`{"phase":"done"}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"task":"toolworld"}`), 0o644))
	return dir
}

// shard splits dir's model.safetensors into two shards with an index.
func shard(t *testing.T, dir string) {
	t.Helper()
	ts, err := safetensors.ReadFile(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	parts := []map[string]safetensors.Tensor{{}, {}}
	index := map[string]string{}
	for name, tensor := range ts {
		i := 0
		if strings.Contains(name, "layers.1.") || strings.HasPrefix(name, "lm_head") {
			i = 1
		}
		parts[i][name] = tensor
		index[name] = fmt.Sprintf("model-%05d-of-00002.safetensors", i+1)
	}
	for i, p := range parts {
		require.NoError(t, safetensors.WriteFile(filepath.Join(dir, fmt.Sprintf("model-%05d-of-00002.safetensors", i+1)), p, nil))
	}
	data, err := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": index})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, safetensors.IndexFileName), data, 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, "model.safetensors")))
}

// requireSameWeights checks that two models hold the same bits.
func requireSameWeights(t *testing.T, a, b *nn.Model) {
	t.Helper()
	wa, err := a.W.Data()
	require.NoError(t, err)
	wb, err := b.W.Data()
	require.NoError(t, err)
	require.Equal(t, wa, wb)
}

func TestLoadEveryKind(t *testing.T) {
	want := testModel(t)
	defer want.Free()
	run := runDir(t)
	hf := hfDir(t)
	sharded := hfDir(t)
	shard(t, sharded)
	// A Hugging Face folder with a checkpoints/ folder of its own is still
	// a Hugging Face folder, not a run.
	require.NoError(t, os.Mkdir(filepath.Join(hf, "checkpoints"), 0o755))
	runNoState := runDir(t) // killed before its first state.json
	require.NoError(t, os.Remove(filepath.Join(runNoState, "state.json")))
	single := t.TempDir() // a folder with one checkpoint and its tokenizer
	data, err := os.ReadFile(filepath.Join(run, "checkpoints", "final.safetensors"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(single, "step100.safetensors"), data, 0o644))
	require.NoError(t, testTokenizer(t).Save(filepath.Join(single, "tokenizer.json")))

	for _, tc := range []struct {
		path   string
		kind   Kind
		runDir string
		tokDir string
	}{
		{run, Run, run, run},
		{runNoState, Run, runNoState, runNoState},
		{filepath.Join(run, "checkpoints", "final.safetensors"), Checkpoint, run, run},
		{filepath.Join(run, "checkpoints"), Checkpoint, run, run},
		{single, Checkpoint, "", single},
		{filepath.Join(single, "step100.safetensors"), Checkpoint, "", single},
		{hf, HF, "", hf},
		{filepath.Join(hf, "model.safetensors"), HF, "", hf},
		{sharded, HFSharded, "", sharded},
	} {
		t.Run(string(tc.kind)+" "+filepath.Base(tc.path), func(t *testing.T) {
			l, err := Load(tc.path, Options{Backend: testBackend(), RequireTokenizer: true})
			require.NoError(t, err)
			defer l.Free()
			assert.Equal(t, tc.kind, l.Found.Kind)
			assert.Equal(t, tc.runDir, l.Found.RunDir)
			assert.Equal(t, filepath.Join(tc.tokDir, "tokenizer.json"), l.Found.Tokenizer)
			assert.Equal(t, filepath.Join(tc.tokDir, "tokenizer_config.json"), l.Found.TokenizerConfig)
			assert.Equal(t, "F32", l.Found.DType)
			assert.Equal(t, archJSON(t, testConfig()), archJSON(t, l.Model.Cfg))
			requireSameWeights(t, want, l.Model)
			require.NotNil(t, l.Tokenizer)
			require.NotNil(t, l.Chat, "our tokenizers carry a ChatML template")
			assert.Equal(t, tokenizer.ChatMLTemplate, l.Chat.Source)
			// <|endoftext|> (EOS) and <|im_end|> (end of turn).
			assert.Equal(t, []int32{int32(l.Tokenizer.MustTokenID("<|endoftext|>")), int32(l.Tokenizer.MustTokenID("<|im_end|>"))}, l.EOS)
			if tc.kind == HFSharded {
				assert.Len(t, l.Found.Weights, 2)
			}
		})
	}
}

func TestLoadSharedLlamaArith(t *testing.T) {
	dir := shareddata.Path(t, "models/llama-arith-random")
	l, err := Load(dir, Options{Backend: testBackend()})
	require.NoError(t, err)
	defer l.Free()
	assert.Equal(t, HF, l.Found.Kind)
	assert.Equal(t, "BF16", l.Found.DType)
	assert.Nil(t, l.Tokenizer, "a character tokenizer is not a BPE one")
	assert.Equal(t, filepath.Join(dir, "tokenizer_config.json"), l.Found.TokenizerConfig)
	assert.Equal(t, []int32{1}, l.EOS, "eos_token_id of generation_config.json and config.json, once")

	_, err = Load(dir, Options{Backend: testBackend(), RequireTokenizer: true})
	require.ErrorContains(t, err, "no tokenizer.json found with the model")
}

func TestEOSIDsMergesConfigs(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(`{"eos_token_id": [7, 3]}`), 0o644))
	cfg := testConfig()
	cfg.EOSTokenID = nn.TokenIDs{3, 9}
	tok := testTokenizer(t)
	ids, err := EOSIDs(tok, nil, cfg, dir)
	require.NoError(t, err)
	assert.Equal(t, []int32{int32(tok.EOS()), int32(tok.MustTokenID("<|im_end|>")), 7, 9}, ids, "3 is <|im_end|> here: listed once")
	ids, err = EOSIDs(nil, nil, cfg, dir)
	require.NoError(t, err)
	assert.Equal(t, []int32{7, 3, 9}, ids)
	ids, err = EOSIDs(nil, nil, testConfig(), "")
	require.NoError(t, err)
	assert.Empty(t, ids)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(`{"eos_token_id": "x"}`), 0o644))
	_, err = EOSIDs(nil, nil, cfg, dir)
	require.ErrorContains(t, err, "eos_token_id")
	cfg.EOSTokenID = nn.TokenIDs{-1}
	_, err = EOSIDs(nil, nil, cfg, "")
	require.ErrorContains(t, err, "eos_token_id -1 is out of range")
}

// editConfig rewrites keys of dir/config.json.
func editConfig(t *testing.T, dir string, kv map[string]any) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(data, &cfg))
	for k, v := range kv {
		cfg[k] = v
	}
	data, err = json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

func TestLoadBadFolders(t *testing.T) {
	for _, tc := range []struct {
		name    string
		make    func(t *testing.T) string
		require bool
		want    string
	}{
		{"missing path", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, false, "nope does not exist"},
		{"empty folder", func(t *testing.T) string { return t.TempDir() }, false, "is not a model folder: no config.json"},
		{"config without weights", func(t *testing.T) string {
			d := hfDir(t)
			require.NoError(t, os.Remove(filepath.Join(d, "model.safetensors")))
			return d
		}, false, "has config.json but neither model.safetensors nor model.safetensors.index.json"},
		{"weights without config", func(t *testing.T) string {
			d := hfDir(t)
			require.NoError(t, os.Remove(filepath.Join(d, "config.json")))
			return d
		}, false, "is not a training checkpoint (no config in its metadata)"},
		{"config not JSON", func(t *testing.T) string {
			d := hfDir(t)
			require.NoError(t, os.WriteFile(filepath.Join(d, "config.json"), []byte("{"), 0o644))
			return d
		}, false, "config.json: config: unexpected end of JSON input"},
		{"absurd hidden size", func(t *testing.T) string {
			d := hfDir(t)
			editConfig(t, d, map[string]any{"hidden_size": 1000000000, "head_dim": 250000000})
			return d
		}, false, "invalid model config: hidden_size 1000000000 is over the limit of 1048576; head_dim 250000000 is over"},
		{"absurd layer count", func(t *testing.T) string {
			d := hfDir(t)
			editConfig(t, d, map[string]any{"num_hidden_layers": 1000000000000000})
			return d
		}, false, "num_hidden_layers 1000000000000000 is over the limit"},
		{"sizes the weights do not have", func(t *testing.T) string {
			d := hfDir(t)
			editConfig(t, d, map[string]any{"num_hidden_layers": 4000, "intermediate_size": 4096})
			return d
		}, false, "config.json and the weights do not belong together: the config describes at least 1.59G weights, the files hold 36128"},
		{"wrong shapes", func(t *testing.T) string {
			d := hfDir(t)
			editConfig(t, d, map[string]any{"intermediate_size": 40})
			return d
		}, false, "model.layers.0.mlp.gate_proj.weight has shape [48 32], want [40 32]"},
		{"truncated safetensors", func(t *testing.T) string {
			d := hfDir(t)
			p := filepath.Join(d, "model.safetensors")
			st, err := os.Stat(p)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(p, st.Size()-100))
			return d
		}, false, "(truncated file?)"},
		{"truncated checkpoint", func(t *testing.T) string {
			d := runDir(t)
			p := filepath.Join(d, "checkpoints", "final.safetensors")
			require.NoError(t, os.Truncate(p, 1000))
			return d
		}, false, "final.safetensors"},
		{"missing shard", func(t *testing.T) string {
			d := hfDir(t)
			shard(t, d)
			require.NoError(t, os.Remove(filepath.Join(d, "model-00002-of-00002.safetensors")))
			return d
		}, false, "shard " + "" + "is missing"},
		{"run without checkpoint", func(t *testing.T) string {
			d := runDir(t)
			require.NoError(t, os.Remove(filepath.Join(d, "checkpoints", "final.safetensors")))
			return d
		}, false, "run folder without checkpoints/final.safetensors"},
		{"missing tokenizer", func(t *testing.T) string {
			d := hfDir(t)
			require.NoError(t, os.Remove(filepath.Join(d, "tokenizer.json")))
			return d
		}, true, "no tokenizer.json found with the model"},
		{"vocabulary of another model", func(t *testing.T) string {
			d := hfDir(t)
			editConfig(t, d, map[string]any{"vocab_size": 100})
			return d
		}, false, "model.embed_tokens.weight has shape [320 32], want [100 32]"},
		{"tokenizer of another model", func(t *testing.T) string {
			d := hfDir(t)
			gpt2 := shareddata.Path(t, "tokenizers/gpt2")
			require.NoError(t, os.Remove(filepath.Join(d, "tokenizer.json")))
			require.NoError(t, os.Remove(filepath.Join(d, "tokenizer_config.json")))
			for _, n := range []string{"encoder.json", "vocab.bpe"} {
				data, err := os.ReadFile(filepath.Join(gpt2, n))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(d, n), data, 0o644))
			}
			return d
		}, false, "the tokenizer has 50257 tokens but the model only 320: they do not belong together"},
		{"not a model file", func(t *testing.T) string {
			d := t.TempDir()
			p := filepath.Join(d, "notes.txt")
			require.NoError(t, os.WriteFile(p, []byte("hi"), 0o644))
			return p
		}, false, "is not a .safetensors checkpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.make(t)
			_, err := Load(path, Options{Backend: testBackend(), RequireTokenizer: tc.require})
			require.Error(t, err)
			msg := err.Error()
			assert.NotContains(t, msg, "\n", "one line")
			assert.True(t, strings.HasPrefix(msg, "--model "+path+": "), msg)
			if tc.want == "shard is missing" {
				return
			}
			assert.Contains(t, strings.ReplaceAll(msg, "shard "+filepath.Join(path, "model-00002-of-00002.safetensors")+" ", "shard "), tc.want)
		})
	}
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

// The chat template's end-of-turn texts join the list: a template that ends
// turns with <|endoftext|> stops there even if the tokenizer's EOS is
// another token.
func TestEOSIDsTakesTheTemplatesEndOfTurn(t *testing.T) {
	tok := testTokenizer(t)
	require.NoError(t, tok.SetEOS("<|pad|>"))
	tmpl, err := chat.New("{% for m in messages %}{{ m['content'] }}<|endoftext|>{% endfor %}", nil)
	require.NoError(t, err)
	ids, err := EOSIDs(tok, tmpl, testConfig(), "")
	require.NoError(t, err)
	assert.Equal(t, []int32{int32(tok.MustTokenID("<|pad|>")), int32(tok.MustTokenID("<|endoftext|>")), int32(tok.MustTokenID("<|im_end|>"))}, ids)
	ids, err = EOSIDs(tok, nil, testConfig(), "")
	require.NoError(t, err)
	assert.Equal(t, []int32{int32(tok.MustTokenID("<|pad|>")), int32(tok.MustTokenID("<|im_end|>"))}, ids)
}
