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
// --resume continues, also after a kill at any moment (runstate.go). It is not a serving or evaluation-only tool: see
// cmd/eval and cmd/generate for those.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/internal/exitcode"

	_ "github.com/goarpo/arpo/backend/cpu"    // the default backend
	_ "github.com/goarpo/arpo/backend/vulkan" // --backend vulkan, in a build with -tags vulkan
)

func main() {
	if url := os.Getenv(workerEnv); url != "" { // a local rollout worker (workers.go)
		os.Exit(localWorker(url))
	}
	defer exitcode.OnPanic("train")
	ctx, stop := exitcode.SignalContext("train", os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the exit status: 0, 1 for a failure
// during the run, 2 for bad input, 130 when interrupted (after saving); a
// panic exits 3 (exitcode.OnPanic).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if errors.Is(err, pflag.ErrHelp) {
		fs := pflag.NewFlagSet("train", pflag.ContinueOnError)
		c := quickPreset()
		bindFlags(fs, &c)
		fs.String("config", "", "config file (JSON or YAML) whose keys are flag names; flags override it")
		fs.String("resume", "", "continue the run in this folder from its latest checkpoint")
		fs.Bool("print-config", false, "print the effective config as JSON and exit")
		fs.String("serve", "", serveUsage)
		fmt.Fprintf(stdout, "usage: train [flags]\n\n%s", fs.FlagUsages())
		return 0
	}
	if err == nil {
		err = execute(ctx, o, stdout)
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "train:", err)
		return 2
	case errors.Is(err, errInterrupted):
		fmt.Fprintln(stderr, "train:", err)
		return 130
	}
	fmt.Fprintln(stderr, "train:", err)
	return 1
}
