package dashboard

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxLine bounds one JSON line: a rollout tree of a long trajectory group is
// the largest, well under this.
const maxLine = 64 << 20

// scanJSONL calls fn with each complete JSON line of path, in order, until fn
// returns false. A last line without its newline is being written (or was
// torn by a crash) and is left out. A line that is not a JSON value is
// counted in skipped; when it is what a crash mid-line leaves followed by
// the line a resumed run appended, that line is still read. A missing file
// has no lines.
func scanJSONL(path string, fn func(line []byte) bool) (skipped int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	var long []byte // a line longer than the reader's buffer, in pieces
	for {
		chunk, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(chunk) > maxLine {
				return skipped, fmt.Errorf("%s: a line longer than %d bytes", path, maxLine)
			}
			long = append(long, chunk...)
			continue
		}
		if errors.Is(err, io.EOF) {
			return skipped, nil // what is left has no newline yet
		}
		if err != nil {
			return skipped, err
		}
		line := chunk
		if long != nil {
			line = append(long, chunk...)
			long = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) {
			skipped++
			if line = validTail(line); line == nil {
				continue
			}
		}
		if !fn(line) {
			return skipped, nil
		}
	}
}

// readJSONLines returns every complete JSON line of path as raw JSON, so that
// the numbers reach the browser exactly as the trainer wrote them.
func readJSONLines(path string) ([]json.RawMessage, int, error) {
	var out []json.RawMessage
	skipped, err := scanJSONL(path, func(line []byte) bool {
		out = append(out, json.RawMessage(bytes.Clone(line)))
		return true
	})
	return out, skipped, err
}

// validTail returns the longest suffix of line that starts with '{' and is
// a JSON value, or nil: the whole line after a torn one.
func validTail(line []byte) []byte {
	for i := 1; i < len(line); i++ {
		if line[i] == '{' && json.Valid(line[i:]) {
			return line[i:]
		}
	}
	return nil
}
