package main

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/nn"
)

func TestRunGenerateIsReproducible(t *testing.T) {
	dir := modelDir(t, true)
	args := []string{"--model", dir, "--prompt", "the cat", "--max-new-tokens", "12", "--threads", "1", "--ignore-eos"}
	code, out1, errOut := runCmd("", append(args, "--seed", "5")...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "12 new tokens")
	assert.Contains(t, errOut, "tokens/s")
	assert.Contains(t, errOut, "stopped: length")
	_, out2, _ := runCmd("", append(args, "--seed", "5")...)
	assert.Equal(t, out1, out2, "same seed, same text")

	// The same run in ids mode prints the ids whose text is out1.
	code, ids, errOut := runCmd("", append(args, "--seed", "5", "--ids", "--prompt", "[0, 1, 2]")...)
	require.Equal(t, 0, code, errOut)
	var got []int
	require.NoError(t, json.Unmarshal([]byte(ids), &got), ids)
	assert.Len(t, got, 12)
}

func TestRunGenerateGreedyIsDeterministicAcrossSeeds(t *testing.T) {
	dir := modelDir(t, false)
	args := []string{"--model", dir, "--ids", "--prompt", "[3, 1, 4, 1, 5]", "--max-new-tokens", "8", "--temperature", "0", "--threads", "1"}
	_, a, _ := runCmd("", append(args, "--seed", "1")...)
	code, b, errOut := runCmd("", append(args, "--seed", "2")...)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, a, b)
}

func TestRunGenerateFromStdinWithChatML(t *testing.T) {
	dir := modelDir(t, true)
	code, _, errOut := runCmd("hello", "--model", dir, "--chatml", "--system", "be brief", "--max-new-tokens", "4", "--threads", "1")
	require.Equal(t, 0, code, errOut)
	tk := testTokenizer(t)
	want := len(tk.Encode("<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n"))
	assert.Contains(t, errOut, "prompt "+strconv.Itoa(want)+" tokens")
}

// charModelDir is a model folder with verl's character tokenizer of 12
// characters (16 tokens with the specials), as models/llama-arith-random.
func charModelDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := testConfig()
	cfg.VocabSize = 16
	m := testModel(t, cfg)
	defer m.Free()
	require.NoError(t, m.SaveHF(dir))
	writeFile(t, dir, "tokenizer_config.json", `{"char_ords": [48,49,50,51,52,53,54,55,56,57,44,58], "model_max_length": 2048}`)
	return dir
}

func TestRunGenerateStopsAtStopString(t *testing.T) {
	dir := charModelDir(t)
	code, out, errOut := runCmd("", "--model", dir, "--prompt", "12,34:", "--stop", "7", "--stop", "99",
		"--max-new-tokens", "200", "--ignore-eos", "--threads", "1", "--seed", "3")
	require.Equal(t, 0, code, errOut)
	out = strings.TrimSuffix(out, "\n")
	require.Contains(t, errOut, "stopped: stop")
	if strings.Contains(errOut, `"7"`) {
		assert.True(t, strings.HasSuffix(out, "7"), out)
		assert.Equal(t, 1, strings.Count(out, "7"), out)
	} else {
		assert.True(t, strings.HasSuffix(out, "99"), out)
		assert.NotContains(t, out[:len(out)-1], "99", out)
	}
}

func TestCharCodec(t *testing.T) {
	c, err := loadCharCodec(writeFile(t, t.TempDir(), "tokenizer_config.json", `{"char_ords": [48,49,50,51,52,53,54,55,56,57,44,58]}`))
	require.NoError(t, err)
	require.NotNil(t, c)
	assert.Equal(t, 16, c.vocabSize())
	assert.Equal(t, []int32{5, 6, 14, 4, 15, 1, 3}, c.encode("12,0:Ex"))
	assert.Equal(t, "E", c.tokenText(1))
	assert.Equal(t, ":", c.tokenText(15))
	assert.Equal(t, "", c.tokenText(16))
	// No char_ords: not a character tokenizer.
	c, err = loadCharCodec(writeFile(t, t.TempDir(), "tokenizer_config.json", `{"eos_token": "x"}`))
	require.NoError(t, err)
	assert.Nil(t, c)
}

// chunkWriter records each write, to see what the user sees as it streams.
type chunkWriter struct{ chunks []string }

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.chunks = append(w.chunks, string(p))
	return len(p), nil
}

// Byte-level BPE splits "é" and emoji into several tokens; the printer must
// hold back the partial bytes and print each character whole.
func TestTokenPrinterStreamsWholeCharacters(t *testing.T) {
	tk := testTokenizer(t)
	text := "héllo 🙂 wörld 日本"
	ids := tk.Encode(text)
	require.Greater(t, len(ids), utf8.RuneCountInString(text)/2)
	var w chunkWriter
	p := newTokenPrinter(bufio.NewWriter(&w), bpeCodec{tk}, false)
	for _, id := range ids {
		require.NoError(t, p.token(int32(id), false))
	}
	require.NoError(t, p.close())
	assert.Equal(t, text+"\n", strings.Join(w.chunks, ""))
	split := false
	for _, c := range w.chunks {
		assert.True(t, utf8.ValidString(c), "chunk %q", c)
	}
	for _, id := range ids {
		s, _ := tk.DecodeToken(id)
		split = split || !utf8.ValidString(s)
	}
	assert.True(t, split, "the text should have characters split across tokens")
}

func TestTokenPrinterIDsAndEOS(t *testing.T) {
	var w chunkWriter
	p := newTokenPrinter(bufio.NewWriter(&w), nil, true)
	require.NoError(t, p.token(4, false))
	require.NoError(t, p.token(1, true))
	require.NoError(t, p.close())
	assert.Equal(t, "[4, 1]\n", strings.Join(w.chunks, ""), "ids mode prints every id, EOS included")

	c, err := loadCharCodec(writeFile(t, t.TempDir(), "tokenizer_config.json", `{"char_ords": [48,49]}`))
	require.NoError(t, err)
	w = chunkWriter{}
	p = newTokenPrinter(bufio.NewWriter(&w), c, false)
	require.NoError(t, p.token(4, false))
	require.NoError(t, p.token(1, true))
	require.NoError(t, p.close())
	assert.Equal(t, "0\n", strings.Join(w.chunks, ""), "text mode does not print the EOS token")
}

// A training checkpoint loads as a file or as the folder that holds it, and
// gives the same scores as the Hugging Face folder of the same weights.
func TestRunCheckpointModel(t *testing.T) {
	hf := modelDir(t, false)
	m := testModel(t, testConfig())
	defer m.Free()
	opt, err := nn.NewAdamW(m, nn.DefaultAdamW(1e-3))
	require.NoError(t, err)
	defer opt.Free()
	ckDir := t.TempDir()
	ckPath := filepath.Join(ckDir, "step-10.safetensors")
	require.NoError(t, nn.Checkpoint{Model: m, Opt: opt}.Save(ckPath))

	args := []string{"--score", "--ids", "--threads", "1"}
	in := "[1, 2, 3, 250, 7]"
	code, want, errOut := runCmd(in, append(args, "--model", hf)...)
	require.Equal(t, 0, code, errOut)
	for _, path := range []string{ckPath, ckDir} {
		code, got, errOut := runCmd(in, append(args, "--model", path)...)
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, want, got, path)
	}
}
