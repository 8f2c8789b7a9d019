package runconfig

import (
	"fmt"

	"github.com/goarpo/arpo/tasks"
	"github.com/goarpo/arpo/tasks/toolworld"
	"github.com/goarpo/arpo/tools"
	"github.com/goarpo/arpo/tools/search"
)

// ToolSpec is what a rollout worker on another machine needs to build the
// tools of a run: cmd/train publishes it, cmd/rollout-worker builds from it
// the tools cmd/train's rollouts would call.
type ToolSpec struct {
	// Task is toolworld, hotpotqa-local, or file (a JSONL or Parquet task:
	// Python only, as cmd/train gives it).
	Task  string `json:"task"`
	World World  `json:"world"` // the ToolWorld to index, for Task toolworld
	// Data is the shared data folder of hotpotqa-local, as the trainer
	// named it; empty: tasks.DefaultDataDir on the worker.
	Data       string `json:"data,omitempty"`
	SearchTopK int    `json:"search-topk"`
	MaxResult  int    `json:"max-result"`
	CallLimit  int    `json:"call-limit"`
	// Isolation is how the Python tool runs (see IsolationProcess); empty
	// is none, and omitted so that specs of runs without it read as before.
	Isolation string `json:"isolation,omitempty"`
}

// Build returns the executor and protocol of the spec's tools, in the order
// cmd/train registers them. searchURL, when set, replaces the local search
// index with a retriever server (cmd/searchd), which must serve the same
// corpus.
func (s ToolSpec) Build(searchURL string) (*tools.Executor, *tools.Protocol, error) {
	if s.SearchTopK < 1 || s.MaxResult < 1 || s.CallLimit < 0 {
		return nil, nil, fmt.Errorf("tool spec: search-topk %d, max-result %d, call-limit %d", s.SearchTopK, s.MaxResult, s.CallLimit)
	}
	if err := CheckIsolation(s.Isolation); err != nil {
		return nil, nil, fmt.Errorf("tool spec: isolation: %w", err)
	}
	searchTool := func(corpus []tasks.Passage) tools.Tool {
		if searchURL != "" {
			return &search.Client{URL: searchURL, TopK: s.SearchTopK}
		}
		return Search(corpus, s.SearchTopK)
	}
	var ts []tools.Tool
	switch s.Task {
	case "toolworld":
		var corpus []tasks.Passage
		if searchURL == "" {
			d, err := toolworld.Generate(s.World.Config())
			if err != nil {
				return nil, nil, fmt.Errorf("tool spec: toolworld: %w", err)
			}
			corpus = d.Corpus
		}
		ts = []tools.Tool{searchTool(corpus), Python(s.Isolation)}
	case "hotpotqa-local":
		var corpus []tasks.Passage
		if searchURL == "" {
			var err error
			dir := s.Data
			if dir == "" {
				dir = tasks.DefaultDataDir()
			}
			if _, corpus, err = tasks.LoadShared(dir, "hotpotqa-local"); err != nil {
				return nil, nil, fmt.Errorf("tool spec: %w", err)
			}
		}
		ts = []tools.Tool{Python(s.Isolation), searchTool(corpus)}
	case "file":
		ts = []tools.Tool{Python(s.Isolation)}
	default:
		return nil, nil, fmt.Errorf("tool spec: unknown task kind %q (want toolworld, hotpotqa-local or file)", s.Task)
	}
	reg, err := tools.NewRegistry(ts...)
	if err != nil {
		return nil, nil, err
	}
	return Executor(reg, s.MaxResult), reg.Protocol(s.CallLimit), nil
}
