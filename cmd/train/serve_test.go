package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/dashboard"
)

// urlWatcher is the run's stdout: when the dashboard's address appears it
// asks the live server for the run's status, in the middle of the run.
type urlWatcher struct {
	t      *testing.T
	buf    bytes.Buffer
	mu     sync.Mutex
	status []dashboard.Status
}

var dashboardLine = regexp.MustCompile(`dashboard\s+(http://\S+)`)

func (w *urlWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := dashboardLine.FindSubmatch(p); m != nil {
		var runs []dashboard.RunInfo
		resp, err := http.Get(string(m[1]) + "api/runs")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&runs)
			resp.Body.Close()
		}
		if assert.NoError(w.t, err) && assert.Len(w.t, runs, 1) {
			w.status = append(w.status, runs[0].Status)
		}
	}
	return len(p), nil
}

func TestServeShowsTheRunWhileItTrains(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := &urlWatcher{t: t}
	var errb bytes.Buffer
	code := command(context.Background(), []string{"--preset", "smoke", "--out", dir, "--threads", "1", "--serve", "127.0.0.1:0"}, w, &errb)
	require.Equal(t, 0, code, errb.String())
	require.Len(t, w.status, 1, "the dashboard answered while the run was going")
	st := w.status[0]
	assert.True(t, st.Live)
	assert.Equal(t, "starting", st.Phase, "asked before the run folder was made")
	assert.NotContains(t, w.buf.String(), "warning:", "loopback needs no warning")
	assert.FileExists(t, dashboard.TreesPath(dir, 1), "--save-trees defaults to saving some trees")

	// Bad addresses are bad input, before any work.
	for _, addr := range []string{"nonsense", "127.0.0.1:99999"} {
		code, _, stderr := runCmd(t, "--preset", "smoke", "--out", filepath.Join(t.TempDir(), "x"), "--serve", addr)
		assert.Equal(t, 2, code, addr)
		assert.Contains(t, stderr, "--serve", addr)
	}
}

func TestServeWarnsOffLoopback(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, out, stderr := runCmd(t, "--preset", "smoke", "--out", dir, "--threads", "1", "--rl-steps", "0", "--serve", "0.0.0.0:0")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "no authentication")
}

func TestSaveTreesFlag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, _, stderr := runCmd(t, "--preset", "smoke", "--out", dir, "--threads", "1", "--save-trees", "1")
	require.Equal(t, 0, code, stderr)
	for step := 1; step <= 2; step++ {
		data, err := os.ReadFile(dashboard.TreesPath(dir, step))
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		require.Len(t, lines, 1, "one prompt's tree per step")
		var rec dashboard.TreeRecord
		require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
		assert.Equal(t, step, rec.Step)
		assert.NotEmpty(t, rec.Question)
		assert.Len(t, rec.Leaves, 4, "the smoke preset's m trajectories per prompt")
		assert.Equal(t, "prompt", rec.Nodes[0].Spans[0].Kind)
	}
	code, _, _ = runCmd(t, "--preset", "smoke", "--out", filepath.Join(t.TempDir(), "y"), "--save-trees", "-1")
	assert.Equal(t, 2, code)
	dir2 := filepath.Join(t.TempDir(), "none")
	code, _, stderr = runCmd(t, "--preset", "smoke", "--out", dir2, "--threads", "1", "--save-trees", "0")
	require.Equal(t, 0, code, stderr)
	assert.NoFileExists(t, dashboard.TreesPath(dir2, 1))
}
