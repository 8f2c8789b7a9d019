package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAbsurdSizesRefusedAtStart: sizes that would overflow or need more
// memory than the machine has end with one line and exit 2 before any work
// (issue 20: --d-model 1e9 panicked, --rl-batch 1e9 crashed after SFT).
func TestAbsurdSizesRefusedAtStart(t *testing.T) {
	hf := t.TempDir() // a Hugging Face folder whose config.json is absurd
	questions := filepath.Join(hf, "q.jsonl")
	require.NoError(t, os.WriteFile(questions, []byte(`{"question":"1+1?","answer":"2"}`+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(hf, "config.json"), []byte(`{"model_type":"llama","vocab_size":32000,
		"hidden_size":1000000000,"num_hidden_layers":2,"num_attention_heads":8,"intermediate_size":64}`), 0o644))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--d-model", "1000000000"}, "--d-model 1000000000 is over the limit of 65536"},
		{[]string{"--layers", "1000000000"}, "--layers 1000000000 is over the limit"},
		{[]string{"--rl-batch", "1000000000"}, "--rl-batch 1000000000 is over the limit"},
		{[]string{"--rl-batch", "1000000"}, "this run needs about"},
		{[]string{"--d-model", "32768", "--heads", "32", "--kv-heads", "32", "--layers", "1000"}, "this machine has"},
		{[]string{"--task", "jsonl:" + questions, "--model", hf}, "hidden_size 1000000000 is over the limit"},
	}
	for _, c := range cases {
		code, _, stderr := runCmd(t, append([]string{"--preset", "smoke", "--out", filepath.Join(t.TempDir(), "r")}, c.args...)...)
		assert.Equal(t, 2, code, "%v: %s", c.args, stderr)
		assert.Contains(t, stderr, c.want, c.args)
		assert.NotContains(t, stderr, "panic", c.args)
	}
}
