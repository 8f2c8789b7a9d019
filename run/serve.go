package run

import (
	"context"
	"path/filepath"

	"github.com/goarpo/arpo/dashboard"
	"github.com/goarpo/arpo/internal/exitcode"
)

// ServeUsage is --serve's help line.
const ServeUsage = "serve the run's live dashboard at this address while it trains (host:port, e.g. 127.0.0.1:8080; it has no authentication)"

// serve starts the dashboard of the run folder at addr (nothing when addr
// is ""); the folder need not exist yet, the pages wait for it. The returned
// function shuts the server down: it serves as long as the run does.
func (j *job) serve(ctx context.Context, addr string) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := dashboard.Listen(addr)
	if err != nil {
		return nil, exitcode.Usagef("--serve: %v", err)
	}
	runs := []dashboard.Run{{Name: filepath.Clean(j.dir), Dir: j.dir, Live: true, RLSteps: j.c.RLSteps}}
	dashboard.AssignIDs(runs)
	srv, err := dashboard.New(runs)
	if err != nil {
		ln.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// An error here means the listener failed mid-run; the run goes
		// on without its dashboard rather than stopping.
		if err := srv.Serve(sctx, ln); err != nil {
			j.printf("dashboard stopped: %v\n", err)
		}
	}()
	// Printed once it serves, so that whoever reads the address can use it.
	if !dashboard.IsLoopback(addr) {
		j.printf("%s\n", dashboard.NotLoopbackWarning(ln.Addr().String()))
	}
	j.printf("%-10s %s (while the run lasts; afterwards: go run ./cmd/view %s)\n", "dashboard", dashboard.URL(ln), j.dir)
	return func() { cancel(); <-done }, nil
}
