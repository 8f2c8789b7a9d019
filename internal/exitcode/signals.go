package exitcode

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// SignalContext returns a context cancelled by the first SIGINT or SIGTERM,
// after which the command stops at its next safe point (saving what can be
// resumed). The first signal also restores the default handling, so a
// second Ctrl-C or SIGTERM ends the process at once: a user is never stuck
// with a command that ignores them. stop releases the signals.
func SignalContext(command string, stderr io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			signal.Stop(sigs)
			fmt.Fprintf(stderr, "%s: %v: stopping at the next safe point (send it again to quit at once)\n", command, s)
			cancel()
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
