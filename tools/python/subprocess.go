package python

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Subprocess runs code with a real python3, for users who need real
// libraries (numpy, sympy). It is OFF by default and weaker than the
// sandbox: the code runs as the calling user with a CPU-time, memory and
// wall-clock limit, in a fresh temporary directory, with a minimal
// environment and Python's isolated mode, but it CAN read files the user can
// read and open network connections. Run it in a container or as an
// unprivileged user if the model is untrusted. It implements tools.Tool
// (name "python").
type Subprocess struct {
	Python    string        // e.g. "python3"
	Timeout   time.Duration // e.g. 10 * time.Second of wall-clock time
	CPU       time.Duration // e.g. 10 * time.Second of CPU time (RLIMIT_CPU)
	MaxMemory int64         // e.g. 1 << 30 bytes of address space (RLIMIT_AS)
	MaxOutput int           // e.g. 16 << 10 bytes of output kept
}

// NewSubprocess returns the backend with the default limits.
func NewSubprocess() *Subprocess {
	return &Subprocess{Python: "python3", Timeout: 10 * time.Second, CPU: 10 * time.Second, MaxMemory: 1 << 30, MaxOutput: 16 << 10}
}

func (s *Subprocess) Name() string { return "python" }

// runner prints the value of a final bare expression, as the sandbox does.
const runner = `import ast, sys
src = open(sys.argv[1]).read()
g = {"__name__": "__main__"}
tree = ast.parse(src, "<string>")
last = None
if tree.body and isinstance(tree.body[-1], ast.Expr):
    last = tree.body.pop()
exec(compile(tree, "<string>", "exec"), g)
if last is not None:
    v = eval(compile(ast.Expression(last.value), "<string>", "eval"), g)
    if v is not None:
        print(repr(v))
`

// Call runs code; a non-zero exit is an error carrying the last line of the
// traceback, and the output includes the traceback.
func (s *Subprocess) Call(ctx context.Context, code string) (string, error) {
	dir, err := os.MkdirTemp("", "arpo-python-")
	if err != nil {
		return "", fmt.Errorf("python subprocess: %w", err)
	}
	defer os.RemoveAll(dir)
	for name, text := range map[string]string{"code.py": code, "runner.py": runner} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			return "", fmt.Errorf("python subprocess: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	// ulimit in a shell is the portable way to set a child's rlimits from Go.
	// One option per ulimit: dash takes only one.
	script := fmt.Sprintf("ulimit -t %d && ulimit -v %d && exec %q -I -B runner.py code.py",
		max(int(s.CPU.Seconds()), 1), max(s.MaxMemory>>10, 1), s.Python)
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir, "TMPDIR=" + dir, "PYTHONIOENCODING=utf-8", "LANG=C.UTF-8"}
	out := &capped{max: s.MaxOutput}
	errOut := &capped{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, errOut
	setGroup(cmd)
	err = cmd.Run()
	text := out.String()
	if tb := strings.TrimSpace(errOut.buf.String()); tb != "" {
		// The end of a traceback says what went wrong; keep that part.
		if len(tb) > 2000 {
			tb = "..." + tb[len(tb)-2000:]
		}
		text += tb + "\n"
	}
	if ctx.Err() != nil {
		return text, &Error{Type: "TimeoutError", Msg: fmt.Sprintf("time limit of %v exceeded", s.Timeout)}
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return text, &Error{Type: "Error", Msg: lastLine(text, exitErr)}
	}
	if err != nil {
		return text, fmt.Errorf("python subprocess: %w", err)
	}
	return text, nil
}

func lastLine(text string, e *exec.ExitError) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if l := lines[len(lines)-1]; l != "" {
		return l
	}
	return e.Error()
}

// capped is a writer that keeps the first max bytes.
type capped struct {
	buf     bytes.Buffer
	max     int
	dropped int
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.max - c.buf.Len()
	if room >= len(p) {
		c.buf.Write(p)
	} else {
		if room > 0 {
			c.buf.Write(p[:room])
		}
		c.dropped += len(p) - max(room, 0)
	}
	return len(p), nil
}

func (c *capped) String() string {
	if c.dropped > 0 {
		return c.buf.String() + fmt.Sprintf("\n[output truncated: %d more bytes not shown]", c.dropped)
	}
	return c.buf.String()
}
