package python

import (
	"context"
	"errors"
	"fmt"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Config sets the sandbox's limits.
type Config struct {
	MaxSteps   uint64        // e.g. 50_000_000 Starlark steps (~1-5 s of work)
	Timeout    time.Duration // e.g. 10 * time.Second of wall-clock time
	MaxOutput  int           // e.g. 16 << 10 bytes of printed output kept; more is cut with a marker
	MaxMemory  int64         // e.g. 512 << 20 bytes of heap growth during the run
	MaxElems   int           // e.g. 10_000_000 elements built by one operation ([0] * n, "x" * n)
	MaxIntBits int           // e.g. 1 << 22 bits in an integer made by ** or pow
	MaxDepth   int           // e.g. 5000 nested calls (Python's default limit is 1000)
}

// DefaultConfig suits tool calls during RL rollouts.
func DefaultConfig() Config {
	return Config{
		MaxSteps:   50_000_000,
		Timeout:    10 * time.Second,
		MaxOutput:  16 << 10,
		MaxMemory:  512 << 20,
		MaxElems:   10_000_000,
		MaxIntBits: 1 << 22,
		MaxDepth:   5000,
	}
}

// Sandbox runs Python in the Starlark interpreter. It implements tools.Tool
// (name "python") and is safe for concurrent use: every run gets its own
// interpreter thread and globals.
type Sandbox struct {
	cfg Config
}

// New returns a sandbox; zero fields of cfg take their DefaultConfig value.
func New(cfg Config) *Sandbox {
	d := DefaultConfig()
	if cfg.MaxSteps == 0 {
		cfg.MaxSteps = d.MaxSteps
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = d.Timeout
	}
	if cfg.MaxOutput == 0 {
		cfg.MaxOutput = d.MaxOutput
	}
	if cfg.MaxMemory == 0 {
		cfg.MaxMemory = d.MaxMemory
	}
	if cfg.MaxElems == 0 {
		cfg.MaxElems = d.MaxElems
	}
	if cfg.MaxIntBits == 0 {
		cfg.MaxIntBits = d.MaxIntBits
	}
	if cfg.MaxDepth == 0 {
		cfg.MaxDepth = d.MaxDepth
	}
	return &Sandbox{cfg: cfg}
}

func (s *Sandbox) Name() string { return "python" }

// Call runs code and returns what it printed. On failure the error is an
// *Error with a short Python-style message; the output printed before the
// failure is still returned.
func (s *Sandbox) Call(ctx context.Context, code string) (string, error) {
	return s.Run(ctx, code)
}

// Error is a failed run, shown to the model like the last lines of a
// Python traceback.
type Error struct {
	Line int    // 0 when unknown
	Type string // e.g. "ZeroDivisionError", "TimeoutError"
	Msg  string
}

func (e *Error) Error() string {
	msg := e.Type
	if e.Msg != "" {
		msg += ": " + e.Msg
	}
	if e.Line > 0 {
		return fmt.Sprintf("Traceback (most recent call last):\n  File \"<string>\", line %d, in <module>\n%s", e.Line, msg)
	}
	return msg
}

// output collects printed text up to a cap.
type output struct {
	b         strings.Builder
	max       int
	maxText   int // largest text one printed value may have (Config.MaxElems)
	truncated int // bytes dropped
}

func (o *output) write(s string) {
	if room := o.max - o.b.Len(); room < len(s) {
		if room > 0 {
			o.b.WriteString(s[:room])
		}
		o.truncated += len(s) - max(room, 0)
		return
	}
	o.b.WriteString(s)
}

func (o *output) String() string {
	if o.truncated > 0 {
		return o.b.String() + fmt.Sprintf("\n[output truncated: %d more bytes not shown]", o.truncated)
	}
	return o.b.String()
}

func (o *output) print(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	sep, end := " ", "\n"
	for _, kv := range kw {
		k := string(kv[0].(starlark.String))
		switch k {
		case "sep", "end":
			if kv[1] == starlark.None {
				continue
			}
			v, ok := kv[1].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("TypeError: %s must be None or a string, not %s", k, typeName(kv[1]))
			}
			if k == "sep" {
				sep = string(v)
			} else {
				end = string(v)
			}
		case "file", "flush":
			// Everything goes to the one output.
		default:
			return nil, fmt.Errorf("TypeError: '%s' is an invalid keyword argument for print()", k)
		}
	}
	for i, a := range args {
		if i > 0 {
			o.write(sep)
		}
		s, err := strMax(a, o.maxText)
		if err != nil {
			return nil, err
		}
		o.write(s)
	}
	o.write(end)
	return starlark.None, nil
}

// stopFlag is the thread-local flag builtins check in long loops, since
// Starlark only checks cancellation between its own steps.
type stopFlag struct{ reason atomic.Pointer[string] }

func stop(th *starlark.Thread, f *stopFlag, reason string) {
	f.reason.CompareAndSwap(nil, &reason)
	th.Cancel(reason)
}

func checkStop(th *starlark.Thread) error {
	if f, ok := th.Local("stop").(*stopFlag); ok {
		if r := f.reason.Load(); r != nil {
			return fmt.Errorf("Starlark computation cancelled: %s", *r)
		}
	}
	return nil
}

var fileOptions = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}

// Run translates and runs code. See Call.
func (s *Sandbox) Run(ctx context.Context, code string) (string, error) {
	out := &output{max: s.cfg.MaxOutput, maxText: s.cfg.MaxElems}
	tr, err := translate(code)
	if err != nil {
		return "", toError(err)
	}
	f, err := fileOptions.Parse("<string>", tr.src, 0)
	if err != nil {
		return "", toError(err)
	}
	rewriteFile(f)
	// Like a notebook cell, a final bare expression's value is printed.
	var last syntax.Expr
	if n := len(f.Stmts); n > 0 {
		if es, ok := f.Stmts[n-1].(*syntax.ExprStmt); ok && !isPrintCall(es.X) {
			last = es.X
			f.Stmts = f.Stmts[:n-1]
		}
	}
	lim := limits{maxElems: s.cfg.MaxElems, maxIntBits: s.cfg.MaxIntBits, maxDepth: s.cfg.MaxDepth}
	env := builtins(out, lim)
	mods := newModules(lim)
	for bound, path := range tr.imports {
		mod, member, _ := strings.Cut(path, ".")
		m := mods[mod]
		switch {
		case member == "":
			env[bound] = m
		case member == "*":
			for k, v := range m.Members {
				env[k] = v
			}
		default:
			v, ok := m.Members[member]
			if !ok {
				return "", &Error{Type: "ImportError", Msg: fmt.Sprintf("cannot import name '%s' from '%s' (not available in the sandbox)", member, mod)}
			}
			env[bound] = v
		}
	}
	prog, err := starlark.FileProgram(f, env.Has)
	if err != nil {
		return "", toError(err)
	}

	th := &starlark.Thread{Name: "python", Print: func(_ *starlark.Thread, msg string) { out.write(msg + "\n") }}
	th.SetMaxExecutionSteps(s.cfg.MaxSteps)
	flag := &stopFlag{}
	th.SetLocal("stop", flag)
	th.OnMaxSteps = func(th *starlark.Thread) {
		stop(th, flag, fmt.Sprintf("TimeoutError: step limit of %d exceeded (an infinite loop?)", s.cfg.MaxSteps))
	}
	done := make(chan struct{})
	defer close(done)
	go s.watch(ctx, th, flag, done)

	globals, err := prog.Init(th, env)
	if err == nil && last != nil {
		for k, v := range globals {
			env[k] = v
		}
		var v starlark.Value
		v, err = starlark.EvalExprOptions(fileOptions, th, last, env)
		if err == nil && v != starlark.None {
			var text string
			if text, err = reprMax(v, s.cfg.MaxElems); err == nil {
				out.write(text + "\n")
			}
		}
	}
	if err != nil {
		if r := flag.reason.Load(); r != nil && *r == exitReason {
			err = nil
		}
	}
	if err != nil {
		return out.String(), toError(err)
	}
	return out.String(), nil
}

func isPrintCall(e syntax.Expr) bool {
	c, ok := e.(*syntax.CallExpr)
	if !ok {
		return false
	}
	id, ok := c.Fn.(*syntax.Ident)
	return ok && id.Name == "print"
}

// watch cancels the run on timeout, on ctx, and when the heap has grown by
// more than MaxMemory since the run began. The heap is the process's, so
// with runs in parallel one run's growth may stop another: the cap guards
// the process, not a per-run quota.
func (s *Sandbox) watch(ctx context.Context, th *starlark.Thread, flag *stopFlag, done chan struct{}) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	timer := time.NewTimer(s.cfg.Timeout)
	defer timer.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			stop(th, flag, "TimeoutError: the call was cancelled")
			return
		case <-timer.C:
			stop(th, flag, fmt.Sprintf("TimeoutError: time limit of %v exceeded", s.cfg.Timeout))
			return
		case <-tick.C:
			metrics.Read(sample)
			if now := sample[0].Value.Uint64(); now > base && int64(now-base) > s.cfg.MaxMemory {
				stop(th, flag, fmt.Sprintf("MemoryError: memory limit of %d MiB exceeded", s.cfg.MaxMemory>>20))
				return
			}
		}
	}
}

// toError turns a Starlark error into a Python-style one: the innermost
// line of the model's code and an exception type guessed from the message.
func toError(err error) *Error {
	var se *SyntaxError
	if errors.As(err, &se) {
		typ, msg, ok := strings.Cut(se.Msg, ": ")
		if !ok || strings.ContainsAny(typ, " '") {
			typ, msg = "SyntaxError", se.Msg
		}
		return &Error{Line: se.Line, Type: typ, Msg: msg}
	}
	var synErr syntax.Error
	if errors.As(err, &synErr) {
		return &Error{Line: int(synErr.Pos.Line), Type: "SyntaxError", Msg: synErr.Msg}
	}
	var list resolveErrors
	if errors.As(err, &list) {
		return firstResolveError(list)
	}
	msg := err.Error()
	line := 0
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		msg = ee.Msg
		for i := 0; i < len(ee.CallStack); i++ {
			fr := ee.CallStack.At(i)
			if fr.Pos.Filename() == "<string>" && fr.Pos.Line > 0 {
				line = int(fr.Pos.Line)
				break
			}
		}
	}
	var pe *Error
	if errors.As(err, &pe) { // raised by a builtin: add the line
		e := *pe
		if e.Line == 0 {
			e.Line = line
		}
		return &e
	}
	typ, text := classify(msg)
	return &Error{Line: line, Type: typ, Msg: text}
}

// classify maps Starlark's messages to Python exception types.
func classify(msg string) (typ, text string) {
	msg = strings.TrimPrefix(msg, "Starlark computation cancelled: ")
	// Messages our builtins made already start with a Python type.
	if t, rest, ok := strings.Cut(msg, ": "); ok && strings.HasSuffix(t, "Error") && !strings.ContainsAny(t, " .") {
		return t, rest
	}
	// Drop Starlark's "fn: " prefix on builtin errors.
	for _, pre := range []string{"int: ", "float: ", "list: ", "dict: ", "range: ", "sorted: "} {
		msg = strings.TrimPrefix(msg, pre)
	}
	switch {
	case strings.Contains(msg, "division by zero") || strings.Contains(msg, "modulo by zero"):
		return "ZeroDivisionError", msg
	case strings.Contains(msg, "stack overflow") || strings.Contains(msg, "called recursively"):
		return "RecursionError", "maximum recursion depth exceeded"
	case strings.HasPrefix(msg, "undefined: "):
		return "NameError", fmt.Sprintf("name '%s' is not defined", strings.TrimPrefix(msg, "undefined: "))
	case strings.Contains(msg, "out of range"):
		return "IndexError", msg
	case strings.Contains(msg, "not in dict") || strings.Contains(msg, "key ") && strings.Contains(msg, "not in"):
		return "KeyError", msg
	case strings.Contains(msg, "has no ") && strings.Contains(msg, "field or method"):
		return "AttributeError", msg
	case strings.Contains(msg, "invalid literal") || strings.Contains(msg, "invalid syntax for"):
		return "ValueError", msg
	case strings.Contains(msg, "unsupported") || strings.Contains(msg, "unknown binary op") ||
		strings.Contains(msg, "not iterable") || strings.Contains(msg, "got ") || strings.Contains(msg, "missing") ||
		strings.Contains(msg, "not callable") || strings.Contains(msg, "unhashable") || strings.Contains(msg, "invalid call"):
		return "TypeError", msg
	case strings.Contains(msg, "fail: "):
		return "Exception", strings.TrimPrefix(msg, "fail: ")
	}
	return "Error", msg
}
