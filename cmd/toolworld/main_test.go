package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/tasks"
)

func TestRunWritesDataset(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tw")
	var out bytes.Buffer
	err := run([]string{"--out", dir, "--train-entities", "300", "--test-entities", "100", "--train", "200", "--test", "40"}, &out)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "200 train, 40 test")
	assert.Contains(t, out.String(), "two_hop")

	train, err := tasks.LoadJSONL(filepath.Join(dir, "train.jsonl"), tasks.Options{})
	require.NoError(t, err)
	require.Len(t, train, 200)
	assert.Equal(t, "toolworld", train[0].Source)
	assert.NotEmpty(t, train[0].Gold)
	test, err := tasks.LoadJSONL(filepath.Join(dir, "test.jsonl"), tasks.Options{})
	require.NoError(t, err)
	assert.Len(t, test, 40)
	corpus, err := tasks.LoadPassages(filepath.Join(dir, "corpus.jsonl"))
	require.NoError(t, err)
	assert.NotEmpty(t, corpus)

	// Same flags, same bytes.
	dir2 := filepath.Join(t.TempDir(), "tw2")
	require.NoError(t, run([]string{"--out", dir2, "--train-entities", "300", "--test-entities", "100", "--train", "200", "--test", "40"}, &bytes.Buffer{}))
	for _, f := range []string{"train.jsonl", "test.jsonl", "corpus.jsonl"} {
		a, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(dir2, f))
		require.NoError(t, err)
		assert.Equal(t, a, b, f)
	}
}

func TestRunErrors(t *testing.T) {
	assert.ErrorContains(t, run(nil, &bytes.Buffer{}), "--out")
	assert.Error(t, run([]string{"--out", t.TempDir(), "--families", "nope"}, &bytes.Buffer{}))
	assert.Error(t, run([]string{"--bogus"}, &bytes.Buffer{}))
}
