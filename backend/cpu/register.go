package cpu

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
)

// The CPU backend is always available under the name "cpu".
func init() {
	backend.Register("cpu", func(o backend.Options) (backend.Backend, error) {
		if o.Threads < 0 {
			return nil, fmt.Errorf("cpu backend: threads must be >= 0 (0 means GOMAXPROCS), got %d", o.Threads)
		}
		return New(o.Threads), nil
	})
}

var _ backend.Backend = (*CPU)(nil)
