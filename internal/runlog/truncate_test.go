package runlog

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTruncateJSONL: what a killed run leaves (steps past the checkpoint,
// steps logged twice by an older version, a half-written last line) is cut
// back to one complete line per step up to the checkpoint.
func TestTruncateJSONL(t *testing.T) {
	p := filepath.Join(t.TempDir(), "metrics.jsonl")
	for _, c := range []struct {
		name, in, want string
		last, dropped  int
	}{
		{"clean", "{\"step\":1}\n{\"step\":2}\n", "{\"step\":1}\n{\"step\":2}\n", 2, 0},
		{"past the checkpoint", "{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n", "{\"step\":1}\n", 1, 2},
		{"torn last line", "{\"step\":1}\n{\"step\":2}\n{\"st", "{\"step\":1}\n{\"step\":2}\n", 5, 1},
		{"torn line glued to the next", "{\"step\":1}\n{\"st{\"step\":2}\n{\"step\":3}\n", "{\"step\":1}\n{\"step\":3}\n", 3, 1},
		{"duplicated steps", "{\"step\":6}\n{\"step\":7}\n{\"step\":7}\n{\"step\":8}\n", "{\"step\":6}\n{\"step\":7}\n{\"step\":8}\n", 8, 1},
		{"no step", "{\"step\":1}\n{\"x\":1}\n", "{\"step\":1}\n", 9, 1},
		{"blank lines", "\n{\"step\":1}\n\n", "{\"step\":1}\n", 9, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(p, []byte(c.in), 0o644))
			n, err := TruncateJSONL(p, StepsUpTo(c.last))
			require.NoError(t, err)
			assert.Equal(t, c.dropped, n)
			got, err := os.ReadFile(p)
			require.NoError(t, err)
			if c.dropped > 0 {
				assert.Equal(t, c.want, string(got))
			} else {
				assert.Equal(t, c.in, string(got), "nothing dropped: the file is left as it was")
			}
			_, err = ReadJSONL[map[string]any](p)
			assert.NoError(t, err, "the result reads back")
		})
	}
	n, err := TruncateJSONL(filepath.Join(t.TempDir(), "absent.jsonl"), StepsUpTo(1))
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.NoFileExists(t, filepath.Join(t.TempDir(), "absent.jsonl"))
}

// TestLockDir: a second lock of a held folder fails naming the holder; a
// lock file left by a process that died (a pid, no flock) does not block.
func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir(dir)
	require.NoError(t, err)
	_, err = LockDir(dir)
	require.ErrorIs(t, err, ErrLocked)
	assert.ErrorContains(t, err, "process "+strconv.Itoa(os.Getpid()))
	require.NoError(t, l.Unlock())
	l, err = LockDir(dir)
	require.NoError(t, err, "free again after Unlock")
	require.NoError(t, l.Unlock())

	stale := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(stale, LockName), []byte("999999999\n"), 0o644))
	l, err = LockDir(stale)
	require.NoError(t, err, "a dead process's lock file is not a lock")
	require.NoError(t, l.Unlock())
}
