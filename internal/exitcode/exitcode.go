// Package exitcode names the exit statuses the commands share and turns a
// panic of the main goroutine into its own status, so that a script can
// tell bad input (2, the user's to fix) from a bug (3, ours to fix).
//
// Go itself exits 2 on an unrecovered panic; OnPanic catches those of the
// main goroutine. A panic in another goroutine still ends the process with
// Go's 2: code that runs goroutines on user-sized input validates first.
//
// Bad input is marked with Usage or Usagef (usage.go) wherever it is found;
// a command's main maps IsUsage to BadInput. Every command uses that one
// type, so a package like run can report bad input the same way.
//
// Not for: recovering from panics and carrying on.
package exitcode

import (
	"fmt"
	"os"
	"runtime/debug"
)

const (
	OK          = 0   // done
	Failure     = 1   // the run failed (an I/O error, a failed evaluation)
	BadInput    = 2   // flags, files or configs are wrong: one line says which
	Panic       = 3   // a bug: the message and stack go to stderr
	Interrupted = 130 // Ctrl-C or SIGTERM, after saving what can be resumed
)

// OnPanic, deferred first in main, prints a panic of the main goroutine
// with its stack and exits with Panic.
//
//	func main() {
//		defer exitcode.OnPanic("train")
//		...
//	}
func OnPanic(command string) {
	r := recover()
	if r == nil {
		return
	}
	fmt.Fprintf(os.Stderr, "%s: internal error (a bug, please report it): %v\n\n%s", command, r, debug.Stack())
	os.Exit(Panic)
}
