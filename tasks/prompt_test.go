package tasks

import (
	"strings"
	"testing"

	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/stretchr/testify/require"
)

// SystemPrompt is the ARPO training data's system prompt, with "\boxed"
// spelt as the paper means it.
func TestSystemPromptIsThePapers(t *testing.T) {
	ex, err := LoadParquet(shareddata.Path(t, "train/arpo_train_10k.parquet"), Options{})
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, e := range ex {
		seen[e.System] = true
	}
	require.Len(t, seen, 1, "one system prompt for every row")
	for s := range seen {
		require.Contains(t, s, "\x08oxed")
		require.Equal(t, strings.ReplaceAll(s, "\x08oxed", `\boxed`), SystemPrompt)
	}
}
