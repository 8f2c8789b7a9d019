// Command view serves training runs in a web browser: the dashboard of
// package dashboard (overview, rollout trees, samples, comparison) over
// finished runs or runs another process is still writing.
//
//	go run ./cmd/view runs/20260101-120000-arpo
//	go run ./cmd/view --addr 127.0.0.1:9000 runs/a runs/b
//	go run ./cmd/view experiments/out      # every run folder below it (an experiment's cells)
//
// It listens on loopback unless --addr says otherwise; the dashboard has no
// authentication, so a non-loopback address prints a warning. Bad flags or
// folders end with one message and exit status 2. See docs/DASHBOARD.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/dashboard"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the exit status: 0 after Ctrl-C, 1
// when serving fails, 2 for bad input.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("view", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(stdout, "usage: view [--addr HOST:PORT] RUN [RUN...]\n\nRUN is a run folder, or a folder of run folders (an experiment).\n\n%s", fs.FlagUsages())
			return 0
		}
		fmt.Fprintf(stderr, "view: %v (see --help)\n", err)
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "view: give one or more run folders (see --help)")
		return 2
	}
	runs, err := dashboard.FindRuns(fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "view:", err)
		return 2
	}
	srv, err := dashboard.New(runs)
	if err != nil {
		fmt.Fprintln(stderr, "view:", err)
		return 2
	}
	ln, err := dashboard.Listen(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "view: --addr: %v\n", err)
		return 2
	}
	if !dashboard.IsLoopback(*addr) {
		fmt.Fprintln(stderr, "view:", dashboard.NotLoopbackWarning(ln.Addr().String()))
	}
	fmt.Fprintf(stdout, "serving %d run(s) at %s (Ctrl-C stops)\n", len(runs), dashboard.URL(ln))
	if err := srv.Serve(ctx, ln); err != nil {
		fmt.Fprintln(stderr, "view:", err)
		return 1
	}
	return 0
}
