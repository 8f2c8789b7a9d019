package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/export"
	"github.com/goarpo/arpo/nn/load"
)

// runFolder writes a folder as cmd/train leaves it (without hf/).
func runFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755))
	m := testModel(t, testConfig())
	defer m.Free()
	opt, err := nn.NewAdamW(m, nn.DefaultAdamW(1e-3))
	require.NoError(t, err)
	defer opt.Free()
	require.NoError(t, nn.Checkpoint{Model: m, Opt: opt}.Save(filepath.Join(dir, "checkpoints", "final.safetensors")))
	require.NoError(t, testTokenizer(t).Save(filepath.Join(dir, "tokenizer.json")))
	writeFile(t, dir, "config.json", `{"preset": "smoke"}`) // the run's config, not a model's
	writeFile(t, dir, "state.json", `{"phase": "done"}`)
	return dir
}

// --model RUN loads a run folder, and its Hugging Face export (as cmd/train
// and cmd/export write it) scores every token exactly as the run's own
// checkpoint does.
func TestRunFolderAndItsHFExportScoreTheSame(t *testing.T) {
	run := runFolder(t)
	l, err := load.Load(run, load.Options{Backend: cpu.New(1)})
	require.NoError(t, err)
	hf := filepath.Join(run, "hf")
	require.NoError(t, export.Write(export.FromLoaded(l), hf, export.Options{}))
	l.Free()

	text := "the cat sat on the mat; héllo 12+34=46."
	code, want, errOut := runCmd(text, "--model", run, "--score", "--threads", "1")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, len(strings.Split(strings.TrimSpace(want), "\n")), strings.Count(want, `"logprob":`))
	assert.Contains(t, want, `"token":"the"`)
	for _, m := range []string{hf, filepath.Join(run, "checkpoints", "final.safetensors")} {
		code, got, errOut := runCmd(text, "--model", m, "--score", "--threads", "1")
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, want, got, m)
	}

	// Generation from the run folder stops at the run's end-of-turn ids too.
	code, _, errOut = runCmd("", "--model", run, "--chatml", "--prompt", "the cat", "--max-new-tokens", "4", "--threads", "1")
	require.Equal(t, 0, code, errOut)
}
