package tools

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Tool is one callable tool, named by its tag ("search" for <search>).
//
// Call returns the text the model should see. A non-nil error means the call
// failed (a bad query, a Python exception, a timeout); its message is shown
// to the model after whatever output came before the failure, and it counts
// as a failure. Call must respect ctx where it can.
type Tool interface {
	Name() string
	Call(ctx context.Context, arg string) (string, error)
}

// Func adapts a function to Tool, mainly for tests and small tools.
type Func struct {
	Tag string
	Fn  func(ctx context.Context, arg string) (string, error)
}

func (f Func) Name() string                                         { return f.Tag }
func (f Func) Call(ctx context.Context, arg string) (string, error) { return f.Fn(ctx, arg) }

// Registry maps tags to tools. It is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	tools map[string]Tool
}

// NewRegistry registers the given tools; it fails on a duplicate name.
func NewRegistry(ts ...Tool) (*Registry, error) {
	r := &Registry{tools: map[string]Tool{}}
	for _, t := range ts {
		if err := r.Register(t); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds t under t.Name().
func (r *Registry) Register(t Tool) error {
	name := t.Name()
	if !isTagName(name) || structural[name] {
		return fmt.Errorf("tools: cannot register tool %q: not a usable tag name", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tools == nil {
		r.tools = map[string]Tool{}
	}
	if _, ok := r.tools[name]; ok {
		return fmt.Errorf("tools: tool %q registered twice", name)
	}
	r.tools[name] = t
	return nil
}

// Get returns the tool for a tag.
func (r *Registry) Get(name string) (Tool, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.tools[name]
	return t, ok
}

// Names lists the registered tags in sorted order.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.tools))
	for n := range r.tools {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Protocol returns a parser that knows this registry's tags.
func (r *Registry) Protocol(maxCalls int) *Protocol {
	return &Protocol{Tools: r.Names(), MaxCalls: maxCalls}
}
