package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"github.com/spf13/pflag"
)

// benchLine is one measurement of a suite, which prints one result line.
type benchLine struct {
	label string // the line's context in error messages: "config a, 1 threads"
	run   func() (any, error)
}

// lineEnv, when set to k in a bench process's environment, makes the suite
// run only its k-th line: the child process of an isolated run.
const lineEnv = "ARPO_BENCH_LINE"

// addIsolateFlag defines --isolate on fs.
func addIsolateFlag(fs *pflag.FlagSet) *bool {
	return fs.Bool("isolate", true, "run each line in its own process, so that its peak_rss_mib (getrusage's maxrss) is that line's alone; --cpuprofile runs them in this process")
}

// runLines runs a suite's lines and prints their results. With isolate, each
// line runs in a child process (this executable again, with the same suite
// and arguments and lineEnv naming the line), so that the peak resident
// memory each line reports is its own, not the high-water mark of the lines
// before it; the children run one after another, never together.
func runLines(suite string, args []string, isolate bool, ls []benchLine) error {
	if v, ok := os.LookupEnv(lineEnv); ok {
		k, err := strconv.Atoi(v)
		if err != nil || k < 0 || k >= len(ls) {
			return fmt.Errorf("%s=%q: the suite has lines 0 to %d", lineEnv, v, len(ls)-1)
		}
		return runLine(ls[k])
	}
	if !isolate {
		for _, l := range ls {
			if err := runLine(l); err != nil {
				return err
			}
		}
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--isolate: %w", err)
	}
	for k, l := range ls {
		cmd := exec.Command(exe, append([]string{suite}, args...)...)
		cmd.Env = append(os.Environ(), lineEnv+"="+strconv.Itoa(k))
		cmd.Stdout, cmd.Stderr = out, logOut
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() == 2 {
				// The child printed its one line; the input was bad for
				// this machine (a backend that does not open).
				return badInput("%s: failed (its message is above)", l.label)
			}
			return fmt.Errorf("%s: %w (its message is above)", l.label, err)
		}
	}
	return nil
}

// runLine runs one line in this process and prints its result.
func runLine(l benchLine) error {
	r, err := l.run()
	if err != nil {
		return lineError(err, "%s", l.label)
	}
	return emit(r)
}
