package shareddata

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/goarpo/arpo/nn/nntest"
)

// Qwen3Folder writes a tiny random model in Qwen3's layout with the real
// Qwen tokenizer (151,936 ids) and its chat template: a downloaded Qwen3
// folder in miniature, for tests of the real-model path. It skips the test
// without the shared data.
func Qwen3Folder(t *testing.T) string {
	t.Helper()
	tokDir := filepath.Dir(Path(t, "tokenizers/qwen3/tokenizer.json"))
	dir := filepath.Join(t.TempDir(), "qwen3-tiny")
	if _, err := nntest.WriteQwen3(dir, 151936, 7); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		data, err := os.ReadFile(filepath.Join(tokDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
