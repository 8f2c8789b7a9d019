// Command rollout-worker joins a training run's rollouts from any machine:
// it pulls prompt groups from a NATS JetStream work queue, rolls them out
// with the run's policy (fetched from the object store by version) and
// tools, and publishes the trajectories back to the trainer:
//
//	go run ./cmd/train --nats nats://host:4222 ...          # the trainer
//	go run ./cmd/rollout-worker --nats nats://host:4222      # on each machine
//	go run ./cmd/rollout-worker --nats nats://host:4222 --threads 8 --search-url http://host:8000/retrieve
//
// It serves whichever run publishes work and stops on SIGINT or SIGTERM
// (an unfinished group is redelivered to another worker). Bad flags exit
// with status 2. See docs/SCALE.md and deploy/.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	_ "github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/dist"
	"github.com/goarpo/arpo/tools/python"
)

func main() {
	python.ServeChild() // a run with --tool-isolation process runs each Python call in a child of this binary
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// parseArgs reads the flags into the worker's options.
func parseArgs(args []string) (dist.ServeOptions, error) {
	o := dist.ServeOptions{}
	fs := pflag.NewFlagSet("rollout-worker", pflag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	fs.StringVar(&o.URL, "nats", "", "NATS server URL, e.g. nats://10.0.0.1:4222 (required)")
	fs.IntVar(&o.Threads, "threads", 0, "CPU threads for the policy (0: all)")
	fs.IntVar(&o.Batch, "batch", dist.DefaultBatch, "work items pulled and rolled out together")
	fs.StringVar(&o.Name, "name", "", "name in the trainer's metrics (default host-pid)")
	fs.StringVar(&o.SearchURL, "search-url", "", "send search calls to this retriever (cmd/searchd) instead of indexing the corpus here")
	fs.StringVar(&o.Backend, "backend", "cpu", "compute backend")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return o, fmt.Errorf("%w\n\nusage: rollout-worker --nats URL [flags]\n\n%s", err, fs.FlagUsages())
		}
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.URL == "":
		return o, errors.New("--nats URL is required")
	case o.Threads < 0 || o.Batch < 1:
		return o, fmt.Errorf("--threads must be >= 0 and --batch >= 1, got %d and %d", o.Threads, o.Batch)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if errors.Is(err, pflag.ErrHelp) {
		fmt.Fprintln(stdout, err)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "rollout-worker: %v (see --help)\n", err)
		return 2
	}
	lg := log.New(stderr, "rollout-worker ", log.LstdFlags)
	if err := dist.Serve(ctx, o, lg); err != nil {
		fmt.Fprintln(stderr, "rollout-worker:", err)
		return 1
	}
	return 0
}
