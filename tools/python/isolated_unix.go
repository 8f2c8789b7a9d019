//go:build unix

package python

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// setAddressSpace caps the process's address space at what it has mapped
// now plus bytes. The limit is relative because a Go process has already
// reserved a varying amount of virtual memory when it gets here (heap arena
// hints, thread stacks; more in a larger binary such as a test binary), and
// an absolute cap at or below that would fail every later allocation, the
// interpreter's smallest included. Past the cap an allocation fails and
// the Go runtime ends the process.
func setAddressSpace(bytes int64) {
	lim := uint64(bytes) + mappedBytes()
	_ = syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: lim, Max: lim})
}

// mappedBytes is the process's virtual size (VmSize in /proc/self/status),
// 0 where it cannot be read.
func mappedBytes() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmSize:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
