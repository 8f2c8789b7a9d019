package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// entries lists the names in dir, to catch leftover temporary files.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestWriteFileCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.txt")

	require.NoError(t, WriteFile(path, writeString("first")))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "first", string(got))
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, defaultPerm, st.Mode().Perm())

	require.NoError(t, WriteFile(path, writeString("second, longer")))
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "second, longer", string(got))
	require.Equal(t, []string{"a.txt"}, entries(t, dir))
}

func TestWriteFileKeepsMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(path, []byte("x"), 0o600))
	require.NoError(t, os.Chmod(path, 0o600)) // umask may have changed it
	require.NoError(t, WriteFile(path, writeString("y")))
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

func TestWriteFileErrorKeepsOldContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.txt")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))

	boom := errors.New("boom")
	err := WriteFile(path, func(w io.Writer) error {
		// Write more than the buffer so that part reaches the temp file.
		if _, err := w.Write(make([]byte, 3<<20)); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Contains(t, err.Error(), path)

	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "old", string(got))
	require.Equal(t, []string{"a.txt"}, entries(t, dir))
}

func TestWriteFileErrorOnNewPathLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.txt")
	err := WriteFile(path, func(io.Writer) error { return errors.New("nope") })
	require.Error(t, err)
	require.Empty(t, entries(t, dir))
}

func TestWriteFileMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "f")
	err := WriteFile(path, writeString("x"))
	require.Error(t, err)
	require.Contains(t, err.Error(), path)
}

func TestWriteFileRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	require.Error(t, WriteFile(sub, writeString("x")))
	require.Equal(t, []string{"sub"}, entries(t, dir))
}

func TestWriteFileRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, WriteFile("rel.txt", writeString("r")))
	got, err := os.ReadFile(filepath.Join(dir, "rel.txt"))
	require.NoError(t, err)
	require.Equal(t, "r", string(got))
}

// TestRemoveStale removes what a WriteFile killed before its rename leaves,
// and nothing else.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{".latest.safetensors.tmp-123", ".state.json.tmp-9", "state.json", ".lock", "x.tmp-1"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".sub.tmp-1"), 0o755))
	removed, err := RemoveStale(dir)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{".latest.safetensors.tmp-123", ".state.json.tmp-9"}, removed)
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"state.json", ".lock", "x.tmp-1", ".sub.tmp-1"}, names)
}
