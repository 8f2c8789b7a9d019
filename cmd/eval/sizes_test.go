package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/nn/safetensors"
)

// TestHugeModelRefused: a Hugging Face folder whose config.json is absurd
// or larger than the machine ends with one line and exit 2, before any
// allocation (issue 20: "panic: tensor: negative dimension").
func TestHugeModelRefused(t *testing.T) {
	cases := map[string]string{
		`"hidden_size":1000000000,"num_hidden_layers":2,"intermediate_size":64`:  "hidden_size 1000000000 is over the limit",
		`"hidden_size":64,"num_hidden_layers":2,"intermediate_size":10000000000`: "intermediate_size 10000000000 is over the limit",
		// 4000 layers of 3 x 16384 x 262144: 5.6e13 parameters, over the limit.
		`"hidden_size":16384,"num_hidden_layers":4000,"intermediate_size":262144`: "parameters, over the limit",
		// 1.7e12 parameters: valid, but terabytes.
		`"hidden_size":16384,"num_hidden_layers":2000,"intermediate_size":16384`: "this machine has",
	}
	for fields, want := range cases {
		dir := t.TempDir()
		cfg := `{"model_type":"llama","vocab_size":32000,"num_attention_heads":8,` + fields + `}`
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644))
		// Some weights, so that the folder is a Hugging Face folder and
		// its config is what is judged.
		require.NoError(t, safetensors.WriteFile(filepath.Join(dir, "model.safetensors"),
			map[string]safetensors.Tensor{"model.norm.weight": {Shape: []int{1}, Data: []float32{1}}}, nil))
		var out, errb bytes.Buffer
		code := command(context.Background(), []string{"--model", dir}, &out, &errb)
		assert.Equal(t, 2, code, errb.String())
		assert.Contains(t, errb.String(), want)
	}
}
