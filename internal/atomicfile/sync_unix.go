//go:build unix

package atomicfile

import (
	"errors"
	"syscall"
)

func isInvalid(err error) bool { return errors.Is(err, syscall.EINVAL) }
