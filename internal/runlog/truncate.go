package runlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
)

// TruncateJSONL cuts a JSONL log back to a consistent prefix, as a resumed
// run needs before it appends again: it keeps the lines, in order, that are
// complete (end in a newline), are valid JSON and that keep accepts, and
// drops every other line, among them a half-written last line. It rewrites
// the file atomically, and only when something is dropped; it returns how
// many lines were dropped. A missing file is left missing.
func TruncateJSONL(path string, keep func(line []byte) bool) (int, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var out []byte
	dropped := 0
	for len(data) > 0 {
		line, rest, complete := bytes.Cut(data, []byte{'\n'})
		data = rest
		if len(bytes.TrimSpace(line)) == 0 && complete {
			continue
		}
		if !complete || !json.Valid(line) || !keep(line) {
			dropped++
			continue
		}
		out = append(append(out, line...), '\n')
	}
	if dropped == 0 {
		return 0, nil
	}
	return dropped, writeBytes(path, out)
}

// StepsUpTo returns a TruncateJSONL filter for logs whose lines carry a
// "step" number: it keeps lines with step <= last whose step is above the
// step kept before, so that steps a crashed run logged and a resumed run
// logged again appear once.
func StepsUpTo(last int) func([]byte) bool {
	prev := -1 << 62
	return func(line []byte) bool {
		var v struct {
			Step *int `json:"step"`
		}
		if json.Unmarshal(line, &v) != nil || v.Step == nil || *v.Step > last || *v.Step <= prev {
			return false
		}
		prev = *v.Step
		return true
	}
}
