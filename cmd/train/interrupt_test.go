package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/internal/runlog"
)

// cancelAfter is a stdout that cancels the run once a line starting with
// prefix is printed: an interruption at a chosen point of the run.
type cancelAfter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	prefix string
	cancel func()
}

func (w *cancelAfter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.HasPrefix(string(p), w.prefix) {
		w.cancel()
	}
	return w.buf.Write(p)
}

// TestInterruptDuringToolWorldBuild: a signal while a large ToolWorld is
// built stops the build at once with exit 130 (issue 20: SIGTERM ignored
// until the world was done). 4M train questions take minutes to build;
// cancelled, the call returns before the world's first phase ends.
func TestInterruptDuringToolWorldBuild(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := filepath.Join(t.TempDir(), "run")
	var out, errb bytes.Buffer
	code := command(ctx, []string{"--preset", "smoke", "--out", dir, "--tw-train-entities", "4000000", "--tw-train", "4000000"}, &out, &errb)
	require.Equal(t, 130, code, errb.String())
	assert.Equal(t, "train: interrupted while building ToolWorld: nothing saved yet\n", errb.String())
	assert.NoError(t, runlog.CheckNew(dir), "nothing written")
}
