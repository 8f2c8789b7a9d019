package main

import (
	"github.com/goarpo/arpo/backend"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bad input of every kind ends with exit status 2 and exactly one line on
// stderr that names the problem, never a crash or a usage dump.
func TestBadInputExitsTwoWithOneMessage(t *testing.T) {
	dir := modelDir(t, true)
	bare := modelDir(t, false)
	chars := charModelDir(t)
	corrupt := t.TempDir()
	writeFile(t, corrupt, "config.json", string(testConfig().HFJSON()))
	writeFile(t, corrupt, "model.safetensors", "\x08\x00\x00\x00\x00\x00\x00\x00{garbage")
	truncated := t.TempDir()
	writeFile(t, truncated, "config.json", string(testConfig().HFJSON()))
	writeFile(t, truncated, "model.safetensors", "\x40\x00\x00\x00\x00\x00\x00\x00{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[32],\"data_offsets\":[0,128]}}")
	badConfig := t.TempDir()
	writeFile(t, badConfig, "config.json", `{"model_type": "gpt2"`)
	// Weights without the checkpoint metadata, and without a config.json
	// beside them (with one, model.safetensors stands for its folder).
	weights, err := os.ReadFile(filepath.Join(bare, "model.safetensors"))
	require.NoError(t, err)
	notCk := writeFile(t, t.TempDir(), "weights.safetensors", string(weights))
	twoCk := t.TempDir()
	writeFile(t, twoCk, "a.safetensors", "x")
	writeFile(t, twoCk, "b.safetensors", "x")
	absurd := modelDir(t, true)
	cfg := testConfig()
	cfg.NumLayers, cfg.IntermediateSize = 4000, 4096 // 1.6G weights the files do not hold: nothing of this size may be allocated
	writeFile(t, absurd, "config.json", string(cfg.HFJSON()))
	misshapen := modelDir(t, true)
	cfg = testConfig()
	cfg.IntermediateSize = 40
	writeFile(t, misshapen, "config.json", string(cfg.HFJSON()))
	badTok := t.TempDir()
	writeFile(t, badTok, "tokenizer.json", `{"model": {"type": "WordPiece"}}`)

	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"unknown flag", "", []string{"--model", dir, "--frobnicate"}, "unknown flag: --frobnicate"},
		{"missing model flag", "", []string{"--prompt", "x"}, "--model is required"},
		{"stray argument", "", []string{"--model", dir, "hello"}, `unexpected argument "hello"`},
		{"missing model dir", "", []string{"--model", filepath.Join(dir, "nope"), "--prompt", "x"}, "nope does not exist"},
		{"corrupt safetensors", "", []string{"--model", corrupt, "--prompt", "x"}, "--model"},
		{"truncated safetensors", "", []string{"--model", truncated, "--prompt", "x"}, "--model"},
		{"bad config", "", []string{"--model", badConfig, "--prompt", "x"}, "config"},
		{"not a checkpoint", "", []string{"--model", notCk, "--ids", "--prompt", "[1]"}, "checkpoint"},
		{"absurd sizes", "", []string{"--model", absurd, "--prompt", "x"}, "do not belong together: the config describes at least"},
		{"wrong shapes", "", []string{"--model", misshapen, "--prompt", "x"}, "model.layers.0.mlp.gate_proj.weight has shape [48 32], want [40 32]"},
		{"two checkpoints", "", []string{"--model", twoCk, "--prompt", "x"}, "2 .safetensors files"},
		{"empty folder", "", []string{"--model", t.TempDir(), "--prompt", "x"}, "is not a model folder: no config.json"},
		{"bad tokenizer", "", []string{"--model", bare, "--tokenizer", filepath.Join(badTok, "tokenizer.json"), "--prompt", "x"}, "--tokenizer"},
		{"no tokenizer", "", []string{"--model", bare, "--prompt", "x"}, "--ids"},
		{"ids not json", "", []string{"--model", dir, "--ids", "--prompt", "1 2 3"}, "not a JSON array"},
		{"ids out of range", "[1, 320]", []string{"--model", dir, "--ids"}, "element 1 is 320"},
		{"negative id", "[-1]", []string{"--model", dir, "--ids", "--score"}, "element 0 is -1"},
		{"fractional id", "[1.5]", []string{"--model", dir, "--ids"}, "element 0 is 1.5"},
		{"ids trailing text", "[1] x", []string{"--model", dir, "--ids"}, "after the JSON array"},
		{"empty prompt", "", []string{"--model", dir, "--prompt", ""}, "prompt is empty"},
		{"empty stdin", "", []string{"--model", dir, "--score"}, "prompt is empty"},
		{"prompt too long", "[" + strings.Repeat("1,", 300) + "1]", []string{"--model", dir, "--ids", "--score"}, "at most 256"},
		{"vulkan", "", []string{"--model", dir, "--backend", "vulkan", "--prompt", "x"}, "vulkan backend unavailable"},
		{"bad temperature", "", []string{"--model", dir, "--temperature", "-1", "--prompt", "x"}, "temperature"},
		{"bad top-p", "", []string{"--model", dir, "--top-p", "1.5", "--prompt", "x"}, "top-p"},
		{"bad max tokens", "", []string{"--model", dir, "--max-new-tokens", "0", "--prompt", "x"}, "--max-new-tokens"},
		{"bad number", "", []string{"--model", dir, "--top-k", "many", "--prompt", "x"}, "top-k"},
		{"chatml without bpe", "", []string{"--model", chars, "--chatml", "--prompt", "1"}, "--chatml needs a BPE"},
		{"chatml with ids", "", []string{"--model", dir, "--chatml", "--ids", "--prompt", "[1]"}, "--chatml needs a text prompt"},
		{"stop without tokenizer", "", []string{"--model", bare, "--ids", "--prompt", "[1]", "--stop", "x"}, "--stop needs a tokenizer"},
		{"empty stop", "", []string{"--model", dir, "--stop", "", "--prompt", "x"}, "--stop must not be empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "vulkan" {
				if b, err := backend.Open("vulkan", backend.Options{}); err == nil {
					b.Sync()
					t.Skip("this build has a working Vulkan backend")
				}
			}
			code, out, errOut := runCmd(c.stdin, c.args...)
			assert.Equal(t, 2, code, "stderr: %s", errOut)
			assert.Empty(t, out)
			require.True(t, strings.HasPrefix(errOut, "generate: "), errOut)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
			assert.Contains(t, errOut, c.want)
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	code, out, _ := runCmd("", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "--max-new-tokens")
}
