package runconfig

import (
	"time"

	"github.com/goarpo/arpo/tasks"
	"github.com/goarpo/arpo/tools"
	"github.com/goarpo/arpo/tools/python"
	"github.com/goarpo/arpo/tools/search"
)

// The tools a run's rollouts call, built the same way by cmd/train,
// cmd/eval and cmd/experiment, so that an evaluation sees what training saw.

// Python is the sandboxed interpreter, 5 seconds a call.
func Python() tools.Tool { return python.New(python.Config{Timeout: 5 * time.Second}) }

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
