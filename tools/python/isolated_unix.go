//go:build unix

package python

import "syscall"

// setAddressSpace caps this process's virtual memory; past it an
// allocation fails and the Go runtime ends the process.
func setAddressSpace(bytes int64) {
	lim := syscall.Rlimit{Cur: uint64(bytes), Max: uint64(bytes)}
	_ = syscall.Setrlimit(syscall.RLIMIT_AS, &lim)
}
