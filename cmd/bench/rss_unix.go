//go:build unix

package main

import (
	"runtime"
	"syscall"
)

// peakRSSMiB is the process's peak resident set size so far, getrusage's
// ru_maxrss (the same number `/usr/bin/time -v` prints and Python's
// resource.getrusage gives the PyTorch scripts); 0 when it cannot be read.
// It is a high-water mark over the whole process: see --isolate.
func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return float64(ru.Maxrss) / (1 << 20) // bytes there
	}
	return float64(ru.Maxrss) / 1024 // KiB on Linux and the BSDs
}
