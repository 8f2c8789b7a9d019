// Command train is the project's main job: it builds ToolWorld and its
// search corpus, trains a tokenizer, cold-starts a small transformer with
// supervised fine-tuning on gold tool-use trajectories, trains it with RL
// (ARPO by default; GRPO, DAPO, REINFORCE++) using the real tools, and
// evaluates before and after, all in one run folder:
//
//	go run ./cmd/train                      # the quick preset, < 15 min on 2 cores
//	go run ./cmd/train --preset smoke       # seconds: every phase on a toy scale
//	go run ./cmd/train --algo grpo --rl-steps 60 --out runs/grpo
//	go run ./cmd/train --config my.yaml --lr 3e-5
//	go run ./cmd/train --resume runs/20260101-120000-arpo
//
// The run folder holds config.json (the effective configuration),
// tokenizer.json, sft.jsonl and metrics.jsonl (one line per step),
// checkpoints/ (sft, latest and final), samples/ (one JSONL of graded
// trajectories per evaluation), evals.jsonl, summary.json, PNG plots and
// hf/, the final model as a Hugging Face folder (package nn/export).
// See docs/TRAINING.md. Bad flags or files end with one message and exit
// status 2 before any work starts; Ctrl-C saves a checkpoint and exits, and
// --resume continues, also after a kill at any moment. It is not a
// serving or evaluation-only tool: see cmd/eval and cmd/generate for those.
//
// The command is a flag parser over package run, which holds the run
// lifecycle (configuration, setup, SFT, RL, resume, checkpoints, reports).
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/internal/sysmem"
	"github.com/goarpo/arpo/run"
	"github.com/goarpo/arpo/tools/python"

	_ "github.com/goarpo/arpo/backend/cpu"    // the default backend
	_ "github.com/goarpo/arpo/backend/vulkan" // --backend vulkan, in a build with -tags vulkan
)

func main() {
	python.ServeChild()                             // --tool-isolation process runs each Python call in a child of this binary
	if url := os.Getenv(run.WorkerEnv); url != "" { // a local rollout worker of --workers
		os.Exit(run.LocalWorker(url))
	}
	defer exitcode.OnPanic("train")
	sysmem.LimitHeap()
	ctx, stop := exitcode.SignalContext("train", os.Stderr)
	code := command(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is the whole command; it returns the exit status: 0, 1 for a
// failure during the run, 2 for bad input, 130 when interrupted (after
// saving); a panic exits 3 (exitcode.OnPanic).
func command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := train(ctx, args, stdout)
	switch {
	case err == nil:
		return exitcode.OK
	case errors.Is(err, pflag.ErrHelp):
		return exitcode.OK
	case exitcode.IsUsage(err):
		fmt.Fprintln(stderr, "train:", err)
		return exitcode.BadInput
	case errors.Is(err, run.ErrInterrupted):
		fmt.Fprintln(stderr, "train:", err)
		return exitcode.Interrupted
	}
	fmt.Fprintln(stderr, "train:", err)
	return exitcode.Failure
}

// commandLine is what the command line holds besides the run's Config.
type commandLine struct {
	file, resume, serve string
	printConfig         bool
}

// flags registers the run's flags (run.FlagSet: every Config field over c,
// and --config) and the command's own.
func flags(c *run.Config, cl *commandLine) *pflag.FlagSet {
	fs := run.FlagSet("train", c, &cl.file)
	fs.StringVar(&cl.resume, "resume", "", "continue the run in this folder from its latest checkpoint")
	fs.BoolVar(&cl.printConfig, "print-config", false, "print the effective config as JSON and exit")
	fs.StringVar(&cl.serve, "serve", "", run.ServeUsage)
	return fs
}

func train(ctx context.Context, args []string, stdout io.Writer) error {
	scratch, cl := run.Default(), commandLine{}
	fs := flags(&scratch, &cl)
	fs.SetOutput(&bytes.Buffer{})
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			help, hcl := run.Default(), commandLine{}
			fmt.Fprintf(stdout, "usage: train [flags]\n\n%s", flags(&help, &hcl).FlagUsages())
			return err
		}
		return exitcode.Usagef("%v (see --help)", err)
	}
	if fs.NArg() > 0 {
		return exitcode.Usagef("unexpected argument %q (see --help)", fs.Arg(0))
	}
	// The effective config: the preset, the --config file, the flags.
	c, err := run.Load(cl.file, fs)
	if err != nil {
		return err
	}
	opts := run.Options{Out: stdout, Serve: cl.serve}
	if cl.resume != "" {
		var changed []string
		fs.Visit(func(f *pflag.Flag) { changed = append(changed, f.Name) })
		return run.Resume(ctx, cl.resume, c, changed, opts)
	}
	if cl.printConfig {
		if err := c.Validate(); err != nil {
			return err
		}
		return runlog.WriteJSONTo(stdout, c)
	}
	return run.Start(ctx, c, opts)
}
