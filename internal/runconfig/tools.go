package runconfig

import (
	"fmt"
	"time"

	"github.com/goarpo/arpo/tasks"
	"github.com/goarpo/arpo/tools"
	"github.com/goarpo/arpo/tools/python"
	"github.com/goarpo/arpo/tools/search"
)

// The tools a run's rollouts call, built the same way by cmd/train,
// cmd/eval and cmd/experiment, so that an evaluation sees what training saw.

// The tool isolations: where the Python tool runs model-written code.
const (
	// IsolationNone runs the sandbox in this process under its own limits
	// (steps, time, element counts, a memory budget per call): the fast
	// default, for models and tasks you train yourself.
	IsolationNone = "none"
	// IsolationProcess runs each call in a child process of the same
	// binary under an address-space limit (python.Isolated, 2 GiB more than
	// the child has mapped at start): a hard memory budget, so that a
	// program that gets past the sandbox's checks ends its child, never the
	// run. For servers and for models whose code nobody has read; it costs
	// a process start per call. The binary's main must call
	// python.ServeChild first.
	IsolationProcess = "process"
)

// CheckIsolation refuses an isolation other than "" (none), none and
// process.
func CheckIsolation(s string) error {
	switch s {
	case "", IsolationNone, IsolationProcess:
		return nil
	}
	return fmt.Errorf("want %s or %s, got %q", IsolationNone, IsolationProcess, s)
}

// Python is the sandboxed interpreter, 5 seconds a call, run as isolation
// says ("" is none; CheckIsolation first).
func Python(isolation string) tools.Tool {
	cfg := python.Config{Timeout: 5 * time.Second}
	if isolation == IsolationProcess {
		return python.NewIsolated(cfg)
	}
	return python.New(cfg)
}

// Search indexes corpus with BM25; each query returns topK passages.
func Search(corpus []tasks.Passage, topK int) *search.Tool {
	docs := make([]search.Doc, len(corpus))
	for i, p := range corpus {
		docs[i] = search.Doc{ID: p.ID, Title: p.Title, Text: p.Text}
	}
	return &search.Tool{Index: search.Build(docs, search.DefaultParams), TopK: topK}
}

// Executor runs reg's tools with 4 workers, 10 seconds a call, a result
// cache, and results cut to maxResult bytes.
func Executor(reg *tools.Registry, maxResult int) *tools.Executor {
	return tools.NewExecutor(reg, tools.Config{Workers: 4, Timeout: 10 * time.Second, MaxResultLen: maxResult, Cache: tools.NewCache()})
}
