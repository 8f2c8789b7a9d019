package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

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

// TestDelayed: --delay answers after the delay (never before: a lower bound
// that sleeping guarantees), and a client that gives up gets nothing.
func TestDelayed(t *testing.T) {
	calls := 0
	h := delayed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++; w.Write([]byte("ok")) }), 30*time.Millisecond)
	rec := httptest.NewRecorder()
	t0 := time.Now()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/retrieve", nil))
	assert.GreaterOrEqual(t, time.Since(t0), 30*time.Millisecond)
	assert.Equal(t, "ok", rec.Body.String())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/retrieve", nil).WithContext(ctx))
	assert.Equal(t, 1, calls, "a cancelled request is not served")
}
