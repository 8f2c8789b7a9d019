// Package runlog is what a training command needs around its numbers: a run
// folder that never overwrites another run's files, JSON and JSONL writers,
// a progress bar that draws only on a terminal, and PNG plots of the run.
//
// It knows nothing of models or algorithms: callers hand it plain values.
package runlog

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/term"

	"github.com/goarpo/arpo/internal/atomicfile"
	"github.com/goarpo/arpo/internal/faultinject"
)

// Create makes a new run folder. An existing folder is refused unless it is
// empty, so that a run never overwrites another run's files.
func Create(dir string) error {
	if err := CheckNew(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

// CheckNew reports whether Create would accept dir, without making it.
func CheckNew(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("run folder %s: %w", dir, err)
	case len(entries) > 0:
		return fmt.Errorf("run folder %s already exists and is not empty (use --resume %s to continue it, or another --out)", dir, dir)
	}
	return nil
}

// WriteJSON writes v as indented JSON, replacing path atomically.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return writeBytes(path, append(data, '\n'))
}

// ReadJSON reads path into v.
func ReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// WriteJSONL writes one JSON line per item, replacing path atomically.
func WriteJSONL[T any](path string, items []T) error {
	var buf []byte
	for _, it := range items {
		line, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		buf = append(append(buf, line...), '\n')
	}
	return writeBytes(path, buf)
}

// JSONL appends JSON lines to a file, flushing after each so that a crash
// loses at most the line being written.
type JSONL struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	name string // the file's base name, for the fault-injection point
}

// OpenJSONL opens path for appending, creating it when absent.
func OpenJSONL(path string) (*JSONL, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &JSONL{f: f, w: bufio.NewWriter(f), name: filepath.Base(path)}, nil
}

// Add writes v as one line.
func (j *JSONL) Add(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if faultinject.Armed("mid-line:" + j.name) {
		j.w.Write(line[:len(line)/2])
		j.w.Flush()
		faultinject.Kill()
	}
	if _, err := j.w.Write(append(line, '\n')); err != nil {
		return err
	}
	return j.w.Flush()
}

// Sync makes the lines written so far durable, so that a checkpoint
// written after it never refers to steps the log lost in a power cut.
func (j *JSONL) Sync() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.w.Flush(); err != nil {
		return err
	}
	return j.f.Sync()
}

// Close closes the file.
func (j *JSONL) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.w.Flush(); err != nil {
		j.f.Close()
		return err
	}
	return j.f.Close()
}

// ReadJSONL reads every line of path into a slice; a missing file is empty.
func ReadJSONL[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<26)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// IsTerminal reports whether w is a terminal, where progress bars draw.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Path joins a run folder and a file name.
func Path(dir string, elem ...string) string {
	return filepath.Join(append([]string{dir}, elem...)...)
}

func atomicWrite(path string, fn func(io.Writer) error) error { return atomicfile.WriteFile(path, fn) }

func writeBytes(path string, data []byte) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteJSONTo writes v as indented JSON to w.
func WriteJSONTo(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}
