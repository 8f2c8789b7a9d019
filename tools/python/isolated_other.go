//go:build !unix

package python

// setAddressSpace is a no-op where rlimits do not exist: the child is then
// isolated but not capped.
func setAddressSpace(int64) {}
