package runlog

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateRefusesNonEmptyFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	require.NoError(t, Create(dir))
	require.NoError(t, Create(dir), "an empty folder is fine")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x"), []byte("keep"), 0o644))
	assert.Error(t, Create(dir))
	assert.Error(t, CheckNew(dir))
	data, err := os.ReadFile(filepath.Join(dir, "x"))
	require.NoError(t, err)
	assert.Equal(t, "keep", string(data))
}

func TestJSONLRoundTrip(t *testing.T) {
	type rec struct {
		Step int     `json:"step"`
		V    float64 `json:"v"`
	}
	p := filepath.Join(t.TempDir(), "m.jsonl")
	j, err := OpenJSONL(p)
	require.NoError(t, err)
	require.NoError(t, j.Add(rec{1, 0.5}))
	require.NoError(t, j.Close())
	j, err = OpenJSONL(p) // appends
	require.NoError(t, err)
	require.NoError(t, j.Add(rec{2, 1.5}))
	require.NoError(t, j.Close())
	got, err := ReadJSONL[rec](p)
	require.NoError(t, err)
	assert.Equal(t, []rec{{1, 0.5}, {2, 1.5}}, got)
	none, err := ReadJSONL[rec](filepath.Join(t.TempDir(), "missing.jsonl"))
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestBarIsQuietOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	b := NewBar(&buf, false, "sft", 10)
	for i := 1; i <= 10; i++ {
		b.Set(i, "loss 1.0")
	}
	assert.Empty(t, buf.String())
	b.Done("10 steps")
	assert.Contains(t, buf.String(), "sft")
	assert.Contains(t, buf.String(), "10 steps")
	assert.NotContains(t, buf.String(), "\r")

	buf.Reset()
	b = NewBar(&buf, true, "sft", 10)
	b.Set(10, "done")
	assert.Contains(t, buf.String(), "10/10")
}

func TestSavePNG(t *testing.T) {
	p := filepath.Join(t.TempDir(), "p.png")
	err := SavePNG(p, Chart{Title: "a", Series: []Series{{Name: "x", X: []float64{1, 2, 3}, Y: []float64{1, 4, 9}}}},
		Chart{Title: "b", Series: []Series{{Name: "pts", X: []float64{0}, Y: []float64{1}, Points: true}, {Name: "empty"}}})
	require.NoError(t, err)
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, []byte("\x89PNG"), data[:4])
}
