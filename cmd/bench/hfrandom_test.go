package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn"
)

func TestHFRandomWritesALoadableFolder(t *testing.T) {
	capture(t)
	tok := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(tok, "tokenizer.json"), []byte(`{"model":{}}`), 0o644))
	dir := filepath.Join(t.TempDir(), "m")
	require.NoError(t, suites["hf-random"].run([]string{"--out", dir, "--tokenizer", tok, "--vocab", "300", "--hidden", "16", "--layers", "2", "--ffn", "32"}))
	b, err := backend.Open("cpu", backend.Options{Threads: 1})
	require.NoError(t, err)
	m, err := nn.LoadHF(dir, b)
	require.NoError(t, err)
	defer m.Free()
	require.Equal(t, "qwen2", m.Cfg.ModelType)
	require.Equal(t, [3]int{300, 16, 2}, [3]int{m.Cfg.VocabSize, m.Cfg.HiddenSize, m.Cfg.NumLayers})
	got, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	require.NoError(t, err)
	require.Equal(t, `{"model":{}}`, string(got))
}

func TestHFRandomBadInput(t *testing.T) {
	capture(t)
	for _, args := range [][]string{
		{"--tokenizer", t.TempDir()},                               // no --out
		{"--out", t.TempDir(), "--tokenizer", t.TempDir()},         // no tokenizer.json
		{"--out", t.TempDir(), "--tokenizer", ".", "--heads", "5"}, // 64 not a multiple of 5
	} {
		err := suites["hf-random"].run(args)
		require.Error(t, err, "%v", args)
		require.Equal(t, 2, exitCode(err), "%v: %v", args, err)
	}
}
