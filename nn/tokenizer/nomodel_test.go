package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoModelRefused: a tokenizer.json without "model" (or with an empty
// vocabulary) is refused; it used to load and encode every text as []
// with exit 0 (issue 20).
func TestNoModelRefused(t *testing.T) {
	tok, err := Train([]string{"the river runs north"}, 300, DefaultSpecials)
	require.NoError(t, err)
	good := filepath.Join(t.TempDir(), "tokenizer.json")
	require.NoError(t, tok.Save(good))
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	for name, edit := range map[string]func(map[string]any){
		"no model":    func(f map[string]any) { delete(f, "model") },
		"empty vocab": func(f map[string]any) { f["model"].(map[string]any)["vocab"] = map[string]any{} },
	} {
		var f map[string]any
		require.NoError(t, json.Unmarshal(data, &f))
		edit(f)
		out, err := json.Marshal(f)
		require.NoError(t, err)
		p := filepath.Join(t.TempDir(), "tokenizer.json")
		require.NoError(t, os.WriteFile(p, out, 0o644))
		_, err = Load(p)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), `no "model" with a vocabulary`, name)
	}
}
