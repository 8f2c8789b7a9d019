package backend

import (
	"fmt"
	"sort"
	"sync"
)

// Options configure a backend when it is opened.
type Options struct {
	// Threads is the number of worker threads a CPU backend uses; 0 means
	// GOMAXPROCS. e.g. 2
	Threads int
	// Device selects a GPU by index for device backends. e.g. 0
	Device int
}

// Factory opens a backend.
type Factory func(Options) (Backend, error)

var (
	registryMu sync.Mutex
	registry   = map[string]Factory{}
)

// Register makes a backend available to Open under name. Backends call it
// from an init function; registering a name twice is a programming error.
func Register(name string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("backend: Register called twice for " + name)
	}
	registry[name] = f
}

// Open returns the backend registered under name, e.g. "cpu" or "vulkan".
// The backend's package must be linked into the program (imported for its
// side effect) for its name to be known.
func Open(name string, opts Options) (Backend, error) {
	registryMu.Lock()
	f, ok := registry[name]
	registryMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("backend %q is not available (known: %v)", name, Names())
	}
	b, err := f(opts)
	if err != nil {
		return nil, fmt.Errorf("open backend %q: %w", name, err)
	}
	return b, nil
}

// Names lists the registered backends in sorted order.
func Names() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
