//go:build !unix

package main

// peakRSSMiB is 0 where getrusage does not exist.
func peakRSSMiB() float64 { return 0 }
