package dist

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/goarpo/arpo/backend"
)

// ServeOptions configure a worker process (cmd/rollout-worker, and the
// local workers of cmd/train --workers N).
type ServeOptions struct {
	URL       string // NATS server, e.g. nats://10.0.0.1:4222
	Name      string // default host-pid
	SearchURL string // remote retriever instead of a local index
	Backend   string // e.g. cpu
	Threads   int    // 0: all
	Batch     int    // work items rolled out together; 0: DefaultBatch
}

// DefaultBatch is how many work items a worker pulls and rolls out together:
// enough that tool waits overlap and decode batches are not tiny.
const DefaultBatch = 8

// Serve runs one worker until ctx ends. Errors are about its options or the
// first connection; later NATS trouble is logged and retried.
func Serve(ctx context.Context, o ServeOptions, lg *log.Logger) error {
	if o.Name == "" {
		host, _ := os.Hostname()
		o.Name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	b, err := backend.Open(o.Backend, backend.Options{Threads: o.Threads})
	if err != nil {
		return err
	}
	nc, js, err := Connect(o.URL, "rollout-worker "+o.Name)
	if err != nil {
		return err
	}
	defer nc.Close()
	lg.Printf("%s: serving rollouts from %s", o.Name, o.URL)
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	w := &Worker{Name: o.Name, Backend: b, SearchURL: o.SearchURL, Log: lg, Batch: o.Batch}
	err = w.Run(ctx, js)
	lg.Printf("%s: stopped after %d groups", o.Name, w.Groups)
	return err
}
