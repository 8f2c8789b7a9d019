package exitcode

import (
	"errors"
	"fmt"
)

// UsageError is bad input: flags, files, configs or specs the user must
// fix. A command prints it as one line and exits with BadInput (2); every
// command marks such errors with Usage or Usagef, so that one errors.As
// decides the exit status everywhere.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usage marks err as bad input (nil stays nil).
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return UsageError{err}
}

// Usagef is Usage(fmt.Errorf(format, args...)).
func Usagef(format string, args ...any) error { return UsageError{fmt.Errorf(format, args...)} }

// IsUsage reports whether err, or an error it wraps, is bad input.
func IsUsage(err error) bool {
	var ue UsageError
	return errors.As(err, &ue)
}
