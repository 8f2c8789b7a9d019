package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadIndex(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "c.jsonl")
	require.NoError(t, os.WriteFile(corpus, []byte(`{"id":"1","contents":"Paris\nCapital of France."}`+"\n"), 0o644))
	saved := filepath.Join(dir, "idx")

	ix, err := loadIndex(corpus, "", saved)
	require.NoError(t, err)
	assert.Len(t, ix.Docs, 1)
	ix2, err := loadIndex("", saved, "")
	require.NoError(t, err)
	assert.Equal(t, ix.Docs, ix2.Docs)

	_, err = loadIndex(corpus, saved, "")
	assert.Error(t, err, "both flags")
	_, err = loadIndex("", "", "")
	assert.Error(t, err, "neither flag")
	_, err = loadIndex(filepath.Join(dir, "missing.jsonl"), "", "")
	assert.Error(t, err)
}
