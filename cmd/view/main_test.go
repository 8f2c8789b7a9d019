package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBadInput(t *testing.T) {
	empty := t.TempDir()
	runDir := filepath.Join(t.TempDir(), "run")
	require.NoError(t, os.MkdirAll(runDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(runDir, "config.json"), []byte(`{}`), 0o644))
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "give one or more run folders"},
		{[]string{"--nope", runDir}, "unknown flag"},
		{[]string{filepath.Join(empty, "missing")}, "no such file or directory"},
		{[]string{empty}, "is not a run folder"},
		{[]string{"--addr", "nonsense", runDir}, "--addr"},
		{[]string{"--addr", "127.0.0.1:99999", runDir}, "--addr"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), c.args, &out, &errb)
		assert.Equal(t, 2, code, "%v", c.args)
		assert.Contains(t, errb.String(), c.want, "%v", c.args)
	}
	var out bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"--help"}, &out, io.Discard))
	assert.Contains(t, out.String(), "usage: view")
}

// lineWriter hands each line written to a channel.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) { w <- string(p); return len(p), nil }

func TestServesUntilCancelled(t *testing.T) {
	runDir := filepath.Join(t.TempDir(), "run")
	require.NoError(t, os.MkdirAll(runDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(runDir, "metrics.jsonl"), []byte(`{"step":1}`+"\n"), 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	lines := make(lineWriter, 4)
	var errb bytes.Buffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"--addr", "127.0.0.1:0", runDir}, lines, &errb) }()
	var first string
	select {
	case first = <-lines:
	case <-time.After(10 * time.Second):
		t.Fatal("no address printed")
	}
	m := regexp.MustCompile(`http://\S+/`).FindString(first)
	require.NotEmpty(t, m, first)
	resp, err := http.Get(m + "api/runs")
	require.NoError(t, err)
	var runs []map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&runs))
	resp.Body.Close()
	require.Len(t, runs, 1)
	assert.Equal(t, "run", runs[0]["id"])
	cancel()
	assert.Equal(t, 0, <-done, errb.String())
	assert.Empty(t, errb.String(), "loopback: no warning")
}
