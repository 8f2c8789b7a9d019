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
// (an unfinished group is redelivered to another worker). See docs/SCALE.md.
package main

import (
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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := pflag.NewFlagSet("rollout-worker", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("nats", "", "NATS server URL, e.g. nats://10.0.0.1:4222 (required)")
	threads := fs.Int("threads", 0, "CPU threads for the policy (0: all)")
	name := fs.String("name", "", "name in the trainer's metrics (default host-pid)")
	searchURL := fs.String("search-url", "", "send search calls to this retriever (cmd/searchd) instead of indexing the corpus here")
	be := fs.String("backend", "cpu", "compute backend")
	batch := fs.Int("batch", dist.DefaultBatch, "work items pulled and rolled out together")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *url == "" || fs.NArg() > 0 || *threads < 0 || *batch < 1 {
		fmt.Fprintln(stderr, "rollout-worker: give --nats URL and no arguments; --threads >= 0, --batch >= 1 (see --help)")
		return 2
	}
	lg := log.New(stderr, "rollout-worker ", log.LstdFlags)
	o := dist.ServeOptions{URL: *url, Name: *name, SearchURL: *searchURL, Backend: *be, Threads: *threads, Batch: *batch}
	if err := dist.Serve(ctx, o, lg); err != nil {
		fmt.Fprintln(stderr, "rollout-worker:", err)
		return 1
	}
	return 0
}
