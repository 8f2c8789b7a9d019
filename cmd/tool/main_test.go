package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goarpo/arpo/tools"
	"github.com/goarpo/arpo/tools/python"
	"github.com/goarpo/arpo/tools/search"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The concrete tools satisfy the interface the RL side uses.
var (
	_ tools.Tool = (*python.Sandbox)(nil)
	_ tools.Tool = (*python.Subprocess)(nil)
	_ tools.Tool = (*search.Tool)(nil)
	_ tools.Tool = (*search.Client)(nil)
)

func TestPython(t *testing.T) {
	var out bytes.Buffer
	code, err := run([]string{"python"}, strings.NewReader("x = 7\nprint(x**2)\n"), &out)
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Equal(t, "<result>\n49\n</result>\n", out.String())

	out.Reset()
	code, err = run([]string{"python"}, strings.NewReader("1/0"), &out)
	require.NoError(t, err)
	assert.Equal(t, 1, code)
	assert.Contains(t, out.String(), "ZeroDivisionError")
}

func TestSearch(t *testing.T) {
	corpus := filepath.Join(t.TempDir(), "c.jsonl")
	require.NoError(t, os.WriteFile(corpus, []byte(`{"id":"1","title":"Paris","text":"Capital of France."}`+"\n"+`{"id":"2","title":"Rome","text":"Capital of Italy."}`+"\n"), 0o644))
	var out bytes.Buffer
	code, err := run([]string{"search", "--corpus", corpus, "--topk", "1"}, strings.NewReader("italy\n"), &out)
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Equal(t, "<result>\nDoc 1(Title: Rome) Capital of Italy.\n</result>\n", out.String())

	code, err = run([]string{"search"}, strings.NewReader("x"), &out)
	assert.Error(t, err)
	assert.NotZero(t, code)
	code, err = run([]string{"browse"}, strings.NewReader("x"), &out)
	assert.Error(t, err)
	assert.Equal(t, 2, code)
}
