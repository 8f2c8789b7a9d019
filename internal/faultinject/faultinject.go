// Package faultinject kills the process at a named point, so that tests can
// prove that a run killed at that moment resumes to the same result as one
// that never stopped.
//
// The point to kill at comes from the environment variable ARPO_FAULT,
// "NAME" (the first time the program reaches NAME) or "NAME@N" (the N-th
// time). Without it every call is a map-free string comparison that does
// nothing, so the hooks stay in release binaries at no measurable cost. The
// kill is SIGKILL where the platform has it: no deferred function, buffered
// writer or signal handler runs, as after `kill -9` or a power cut of the
// process.
package faultinject

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// EnvVar names the environment variable that arms a kill point.
const EnvVar = "ARPO_FAULT"

var (
	once  sync.Once
	point string // the armed point; "" when none
	nth   int    // kill on this hit of point
	mu    sync.Mutex
	hits  int
)

func arm() {
	v := os.Getenv(EnvVar)
	if v == "" {
		return
	}
	var err error
	if point, nth, err = parse(v); err != nil {
		// A malformed value must not silently disarm a test's kill.
		os.Stderr.WriteString("faultinject: " + err.Error() + "\n")
		os.Exit(3)
	}
}

// parse splits "NAME" or "NAME@N" into the point and the hit to kill on.
func parse(v string) (string, int, error) {
	name, n, ok := strings.Cut(v, "@")
	if !ok {
		return v, 1, nil
	}
	k, err := strconv.Atoi(n)
	if err != nil || k < 1 || name == "" {
		return "", 0, fmt.Errorf("bad %s=%q (want NAME or NAME@N, N >= 1)", EnvVar, v)
	}
	return name, k, nil
}

// Armed reports whether this call is the armed hit of name; a caller that
// gets true does the partial work the point stands for (half a line, say)
// and then calls Kill. Each call with the armed name counts as one hit.
func Armed(name string) bool {
	once.Do(arm)
	if point == "" || name != point {
		return false
	}
	mu.Lock()
	defer mu.Unlock()
	hits++
	return hits == nth
}

// At kills the process if name is the armed point and this is its armed hit.
func At(name string) {
	if Armed(name) {
		Kill()
	}
}

// Kill ends the process at once, as kill -9 would.
func Kill() {
	kill()
	os.Exit(137) // where kill is not available or did not take
}
