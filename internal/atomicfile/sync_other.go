//go:build !unix

package atomicfile

// isInvalid reports true for any error: directory sync is not meaningful on
// these platforms (Windows cannot open a directory for syncing).
func isInvalid(err error) bool { return true }
