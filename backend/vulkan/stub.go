//go:build !(vulkan && cgo)

package vulkan

import (
	"errors"

	"github.com/goarpo/arpo/backend"
)

// errUnavailable explains how to get a build with the real backend.
var errUnavailable = errors.New("vulkan backend unavailable: built without the vulkan build tag and cgo (rebuild with `-tags vulkan`, CGO_ENABLED=1 and libvulkan-dev installed)")

// The name is registered in every build so that `--backend vulkan` gives a
// clear reason instead of "unknown backend".
func init() {
	backend.Register("vulkan", func(backend.Options) (backend.Backend, error) {
		return nil, errUnavailable
	})
}
