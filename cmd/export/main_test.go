package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/nn/load"
)

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestExportSharedModel(t *testing.T) {
	src := shareddata.Path(t, "models/llama-arith-random")
	out := filepath.Join(t.TempDir(), "hf")
	code, stdout, stderr := runCmd("--model", src, "--out", out)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "(hf, BF16)")
	l, err := load.Load(out, load.Options{Backend: cpu.New(1)})
	require.NoError(t, err)
	defer l.Free()
	assert.Equal(t, "BF16", l.Found.DType)

	// The same folder again is refused; --overwrite replaces it.
	code, _, stderr = runCmd("--model", src, "--out", out, "--dtype", "f32")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "is not empty; not overwriting it")
	code, stdout, stderr = runCmd("--model", src, "--out", out, "--dtype", "f32", "--overwrite")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "(hf, F32)")
}

// Bad input ends with exit status 2 and one line naming the problem.
func TestBadInput(t *testing.T) {
	src := shareddata.Path(t, "models/llama-arith-random")
	truncated := t.TempDir()
	for _, n := range []string{"config.json", "model.safetensors"} {
		data, err := os.ReadFile(filepath.Join(src, n))
		require.NoError(t, err)
		if n == "model.safetensors" {
			data = data[:len(data)/2]
		}
		require.NoError(t, os.WriteFile(filepath.Join(truncated, n), data, 0o644))
	}
	out := filepath.Join(t.TempDir(), "out")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", out}, "--model is required"},
		{[]string{"--model", src}, "--out is required"},
		{[]string{"--model", src, "--out", out, "--dtype", "int4"}, `--dtype: dtype "int4"`},
		{[]string{"--model", src, "--out", out, "extra"}, `unexpected argument "extra"`},
		{[]string{"--model", t.TempDir(), "--out", out}, "is not a model folder"},
		{[]string{"--model", truncated, "--out", out}, "truncated file?"},
		{[]string{"--model", src, "--out", filepath.Join(src, "config.json")}, "is a file, not a folder"},
		{[]string{"--frob"}, "unknown flag: --frob"},
	} {
		code, stdout, stderr := runCmd(tc.args...)
		assert.Equal(t, 2, code, "%v: %s", tc.args, stderr)
		assert.Empty(t, stdout)
		assert.True(t, strings.HasPrefix(stderr, "export: "), stderr)
		assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
		assert.Contains(t, stderr, tc.want, tc.args)
	}
	assert.NoDirExists(t, out, "nothing is written on bad input")
}
