// Package atomicfile replaces a file's contents all at once: readers see
// either the old file or the complete new one, never a half-written mix, even
// if the process dies or the machine loses power in the middle.
//
// It is for checkpoints, configs and other files that a crash must not
// corrupt. It is not for appending to logs or for files shared with other
// writers: two concurrent WriteFile calls on one path both succeed and the
// last rename wins.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/goarpo/arpo/internal/faultinject"
)

// defaultPerm is the mode of a newly created file; an existing file keeps
// its own mode, so that replacing it does not change who may read it.
const defaultPerm fs.FileMode = 0o644

// WriteFile calls write with a buffered writer on a temporary file in the
// directory of path, then fsyncs that file, renames it over path and fsyncs
// the directory, so that the new contents are durable once WriteFile returns
// nil. If write or any step fails, path keeps its old contents (or stays
// absent) and the temporary file is removed.
func WriteFile(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	perm := defaultPerm
	if st, statErr := os.Stat(path); statErr == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("atomicfile: %s: not a regular file", path)
		}
		perm = st.Mode().Perm()
	}

	// The temporary file lives beside the target because rename is only
	// atomic within one file system. Its name starts with a dot and the
	// target's name so that a leftover after a crash is easy to attribute.
	tmp, err := os.CreateTemp(dir, "."+base+tmpInfix+"*")
	if err != nil {
		return fmt.Errorf("atomicfile: %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close() // a second Close after a successful one only returns an error we ignore
			os.Remove(tmpName)
		}
	}()

	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(bw); err != nil {
		return fmt.Errorf("atomicfile: %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("atomicfile: %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("atomicfile: %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("atomicfile: %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("atomicfile: %s: %w", path, err)
	}
	faultinject.At("unrenamed:" + base) // a complete temporary file that never replaced path
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("atomicfile: %s: %w", path, err)
	}
	faultinject.At("renamed:" + base)
	// Without this fsync the rename itself may be lost on power failure,
	// leaving the old file (or none) although WriteFile reported success.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("atomicfile: %s: rename done but directory sync failed: %w", path, err)
	}
	return nil
}

// tmpInfix marks temporary files: ".NAME.tmp-RANDOM".
const tmpInfix = ".tmp-"

// RemoveStale deletes the temporary files that WriteFile calls killed in
// the middle left in dir (not in its subfolders), and returns their names.
// Only call it when no other process may be writing into dir (hold the
// folder's lock): a live writer's temporary file looks the same.
func RemoveStale(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, ".") || !strings.Contains(n, tmpInfix) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, err
		}
		removed = append(removed, n)
	}
	return removed, nil
}

// syncDir fsyncs a directory. Some file systems and platforms cannot sync a
// directory handle; those report EINVAL or similar, which we accept because
// there is nothing more the caller could do.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !isInvalid(err) {
		return err
	}
	return nil
}
