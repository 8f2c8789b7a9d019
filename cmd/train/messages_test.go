package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
)

// TestInputMessages: the messages of issue 20 item 10 that cmd/train
// prints, each one line with exit 2.
func TestInputMessages(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hf := filepath.Join(dir, "hf")
	os.MkdirAll(hf, 0o755)
	// A valid model folder (--model is checked before the task is read).
	cfg, err := nn.ParseConfig([]byte(`{"model_type":"llama","vocab_size":300,"hidden_size":16,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":32}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.New(cfg, cpu.New(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SaveHF(hf); err != nil {
		t.Fatal(err)
	}
	m.Free()
	empty := write("empty.jsonl", "")
	dup := write("dup.json", `{"lr": 0.0001, "sft-steps": 10, "lr": 1}`)
	nested := write("nested.json", `{"preset": "smoke", "x": {"a": 1, "a": 2}}`)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--task", "jsonl:" + empty, "--model", hf}, "--task: " + empty + ": no examples (the file is empty or only blank lines)"},
		{[]string{"--config", dup}, `key "lr" appears twice; give each key once`},
		{[]string{"--config", nested}, `key "a" appears twice in x`},
	}
	for _, c := range cases {
		code, _, stderr := runCmd(t, append([]string{"--preset", "smoke", "--out", filepath.Join(t.TempDir(), "r")}, c.args...)...)
		assert.Equal(t, 2, code, "%v: %s", c.args, stderr)
		assert.Contains(t, stderr, c.want, c.args)
	}
}
