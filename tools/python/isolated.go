package python

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
)

// Isolated runs each call of the sandbox in a child process: this same
// binary started again, which calls ServeChild first thing in main and then
// runs the code under an address-space limit (RLIMIT_AS). A run that gets
// past the sandbox's own checks can then only end its child, never the
// process that calls the tool: a hard memory budget per call, for servers
// exposing --tools to untrusted models. It costs a process start per call
// (milliseconds), so it is opt-in. It implements tools.Tool (name "python").
type Isolated struct {
	Config        Config // the sandbox's limits inside the child
	AddressSpace  int64  // e.g. 2 << 30 bytes of virtual memory for the child (RLIMIT_AS)
	ErrorTextSize int    // e.g. 4 << 10 bytes of a dead child's stderr kept in the error
}

// NewIsolated returns the isolated sandbox with cfg's limits (zero fields
// take DefaultConfig's) and a 2 GiB address space per child.
func NewIsolated(cfg Config) *Isolated {
	return &Isolated{Config: New(cfg).cfg, AddressSpace: 2 << 30, ErrorTextSize: 4 << 10}
}

func (s *Isolated) Name() string { return "python" }

// childEnv marks a process started by Isolated; its value is the address
// space limit in bytes.
const childEnv = "ARPO_PYTHON_CHILD"

type childRequest struct {
	Code   string `json:"code"`
	Config Config `json:"config"`
}

type childReply struct {
	Output string `json:"output"`
	Err    *Error `json:"err,omitempty"`
	Other  string `json:"other,omitempty"` // an error that is not a Python one
}

// Call runs code in a child process; see Isolated.
func (s *Isolated) Call(ctx context.Context, code string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("python isolated: %w", err)
	}
	req, err := json.Marshal(childRequest{Code: code, Config: s.Config})
	if err != nil {
		return "", fmt.Errorf("python isolated: %w", err)
	}
	// The child stops itself at Config.Timeout; the parent's deadline is a
	// backstop for a child that cannot.
	ctx, cancel := context.WithTimeout(ctx, s.Config.Timeout+5e9)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = []string{childEnv + "=" + strconv.FormatInt(s.AddressSpace, 10), "PATH=/usr/bin:/bin"}
	cmd.Stdin = bytes.NewReader(req)
	var stdout bytes.Buffer
	stderr := &capped{max: s.ErrorTextSize}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	runErr := cmd.Run()
	var rep childReply
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || runErr != nil {
		text := stderr.buf.String()
		switch {
		case ctx.Err() != nil:
			return "", &Error{Type: "TimeoutError", Msg: fmt.Sprintf("time limit of %v exceeded", s.Config.Timeout)}
		case strings.Contains(text, "out of memory") || strings.Contains(text, "cannot allocate memory"):
			return "", &Error{Type: "MemoryError", Msg: fmt.Sprintf("the interpreter process ran out of memory (limit %d MiB)", s.AddressSpace>>20)}
		}
		return "", fmt.Errorf("python isolated: the child process failed (%v): %s", runErr, lastLines(text, 3))
	}
	if rep.Err != nil {
		return rep.Output, rep.Err
	}
	if rep.Other != "" {
		return rep.Output, errors.New(rep.Other)
	}
	return rep.Output, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

// ServeChild makes a binary able to serve Isolated: called first thing in
// main, it returns at once in a normal start, and in a child started by
// Isolated it runs the one call it is given and exits.
func ServeChild() {
	limit, err := strconv.ParseInt(os.Getenv(childEnv), 10, 64)
	if err != nil {
		return
	}
	if limit > 0 {
		setAddressSpace(limit)
		debug.SetMemoryLimit(limit / 2) // collect hard before the wall
	}
	var req childRequest
	data, err := io.ReadAll(os.Stdin)
	if err == nil {
		err = json.Unmarshal(data, &req)
	}
	var rep childReply
	if err != nil {
		rep.Other = "python isolated: bad request: " + err.Error()
	} else {
		out, err := New(req.Config).Run(context.Background(), req.Code)
		rep.Output = out
		var pe *Error
		switch {
		case errors.As(err, &pe):
			rep.Err = pe
		case err != nil:
			rep.Other = err.Error()
		}
	}
	json.NewEncoder(os.Stdout).Encode(rep)
	os.Exit(0)
}
