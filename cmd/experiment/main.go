// Command experiment runs the comparison of issue 10: one SFT checkpoint,
// then a grid of cmd/train RL runs (algorithms and ablation variants x
// seeds) on the same settings, collected into one table and plots; and the
// entropy-by-position analysis of a checkpoint (the paper's figure 1).
//
//	go run ./cmd/experiment --spec experiments/smoke.yaml --out runs/exp-smoke
//	go run ./cmd/experiment --spec experiments/grid.yaml --dry-run
//	go run ./cmd/experiment entropy --model runs/x/checkpoints/final.safetensors
//
// Each run is a run.Config (package run): the spec's keys are its flag
// names, and every run's arguments are parsed and validated as a
// run.Config in this process before anything starts. The runs themselves
// are cmd/train child processes (crash isolation, resume, one log each),
// built once into OUT/bin/train (or --train-bin), one per cell, into
// OUT/cells/<arm>-s<seed>/, with OUT/cells/<cell>.json recording the
// arguments and status. Rerunning the same command skips finished cells
// (a record matches when its arguments ask for the same run.Config),
// resumes interrupted ones with cmd/train --resume and restarts cells that
// died before their first checkpoint. The results are OUT/results.md,
// results.json and results.png. Bad specs end with one message and exit
// status 2 before any run starts; a failed cell gives status 1 after the
// others have run. It does not train anything itself.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	_ "github.com/goarpo/arpo/backend/cpu" // the entropy analysis's backend
	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/tools/python"
)

func main() {
	python.ServeChild() // the entropy analysis of a --tool-isolation process run runs Python calls in children of this binary
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := command(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// badSpec is bad input (a spec, a flag): one line, exit status 2.
func badSpec(format string, args ...any) error { return exitcode.Usagef(format, args...) }

// command is the whole command; it returns the exit status: 0, 1 when a cell
// or the analysis failed, 2 for bad input, 130 when interrupted.
func command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var err error
	if len(args) > 0 && args[0] == "entropy" {
		err = runEntropy(ctx, args[1:], stdout)
	} else {
		err = runGrid(ctx, args, stdout)
	}
	switch {
	case err == nil || errors.Is(err, pflag.ErrHelp):
		return exitcode.OK
	case exitcode.IsUsage(err):
		fmt.Fprintln(stderr, "experiment:", err)
		return exitcode.BadInput
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "experiment: interrupted; rerun the same command to resume")
		return exitcode.Interrupted
	}
	fmt.Fprintln(stderr, "experiment:", err)
	return exitcode.Failure
}

func runEntropy(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseEntropyArgs(args)
	if errors.Is(err, pflag.ErrHelp) {
		fmt.Fprintln(stdout, "usage: experiment entropy --model CHECKPOINT [--tokenizer FILE] [--run-config FILE] [--out DIR]\n"+
			"    [--questions 50] [--m 4] [--k 20] [--boot 1000] [--temperature 1] [--seed 1] [--threads N]")
		return err
	}
	if err != nil {
		return err
	}
	rep, err := entropy(ctx, o)
	if err != nil {
		return err
	}
	if err := rep.WriteMarkdown(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwritten to %s\n", o.Out)
	return nil
}

type gridOpts struct {
	spec, out, trainBin string
	dryRun              bool
	threads             int
}

func parseGridArgs(args []string) (gridOpts, error) {
	var o gridOpts
	fs := pflag.NewFlagSet("experiment", pflag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	fs.StringVar(&o.spec, "spec", "", "experiment spec (JSON or YAML; see experiments/)")
	fs.StringVar(&o.out, "out", "", "experiment folder (default runs/exp-<spec name>); rerun with the same folder to resume")
	fs.StringVar(&o.trainBin, "train-bin", "", "a cmd/train binary to use instead of building one")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the runs and exit")
	fs.IntVar(&o.threads, "threads", 0, "CPU threads of every cmd/train run (0: all)")
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return o, err
		}
		return o, badSpec("%v (see --help)", err)
	}
	switch {
	case fs.NArg() > 0:
		return o, badSpec("unexpected argument %q (subcommands: entropy)", fs.Arg(0))
	case o.spec == "":
		return o, badSpec("--spec FILE is required (see experiments/)")
	case o.threads < 0:
		return o, badSpec("--threads must be >= 0")
	}
	return o, nil
}

func runGrid(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseGridArgs(args)
	if errors.Is(err, pflag.ErrHelp) {
		fmt.Fprintln(stdout, "usage: experiment --spec FILE [--out DIR] [--dry-run] [--threads N] [--train-bin FILE]\n"+
			"       experiment entropy --model CHECKPOINT [...]  (entropy --help)")
		return err
	}
	if err != nil {
		return err
	}
	spec, err := readSpec(o.spec)
	if err != nil {
		return badSpec("spec %v", err)
	}
	if o.out == "" {
		name := spec.Name
		if name == "" {
			name = strings.TrimSuffix(filepath.Base(o.spec), filepath.Ext(o.spec))
		}
		o.out = filepath.Join("runs", "exp-"+name)
	}
	dir, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	g := &grid{spec: spec, dir: dir, bin: o.trainBin, threads: o.threads, out: stdout}
	if g.bin != "" {
		if _, err := os.Stat(g.bin); err != nil {
			return badSpec("--train-bin: %v", err)
		}
	}
	cells := spec.cells()
	if err := g.check(cells); err != nil {
		return err
	}
	jobs, err := g.plan(cells)
	if err != nil {
		return err
	}
	if err := g.sameFlags(jobs); err != nil {
		return err
	}
	if g.bin == "" {
		// Built for the real run only: a dry run names the binary it would build.
		if o.dryRun {
			g.bin = filepath.Join(dir, "bin", "train")
		} else if g.bin, err = buildTrain(ctx, dir); err != nil {
			return err
		}
	}
	if o.dryRun {
		if spec.SFT.Model == "" {
			fmt.Fprintf(stdout, "sft: %s %s --out %s\n", g.bin, strings.Join(spec.sftArgs(), " "), filepath.Join(dir, "sft"))
		}
		for _, c := range cells {
			fmt.Fprintf(stdout, "%s: %s %s --model SFT --out %s\n", c.Name, g.bin, strings.Join(c.Args, " "), filepath.Join(dir, "cells", c.Name))
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := runlog.WriteJSON(filepath.Join(dir, "spec.json"), spec); err != nil {
		return err
	}
	runErr := g.runAll(ctx, jobs)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if runErr != nil && !errors.Is(runErr, errCellsFailed) {
		return runErr
	}
	if err := g.collect(ctx, cells); err != nil {
		return err
	}
	return runErr
}

// collect reads every finished cell and writes results.{md,json,png}, and
// runs the entropy analysis when the spec asks for it.
func (g *grid) collect(ctx context.Context, cells []Cell) error {
	var runs []RunResult
	scores := map[string][]questionScores{}
	for _, c := range cells {
		cellDir := filepath.Join(g.dir, "cells", c.Name)
		var rec record
		if err := runlog.ReadJSON(cellDir+".json", &rec); err != nil || rec.Status != "done" {
			continue
		}
		r, err := readRun(cellDir)
		if err != nil {
			return fmt.Errorf("collect %s: %w", c.Name, err)
		}
		r.Cell, r.Arm, r.Seed, r.WallS = c.Name, c.Arm, c.Seed, rec.WallS
		runs = append(runs, r)
		qs, err := readScores(cellDir)
		if err != nil {
			return fmt.Errorf("collect %s: %w", c.Name, err)
		}
		scores[c.Arm] = append(scores[c.Arm], qs)
	}
	arms := aggregate(g.spec.arms(), runs)
	var md bytes.Buffer
	fmt.Fprintf(&md, "# Experiment %s\n\n%d of %d cells finished.", g.spec.Name, len(runs), len(cells))
	md.WriteString("\n\n")
	if err := writeMarkdown(&md, arms, runs); err != nil {
		return err
	}
	var names []string
	for _, a := range g.spec.arms() {
		names = append(names, a.Name)
	}
	base := g.spec.Baseline
	if base == "" {
		base = names[0]
	}
	paired := pairedComparison(names, base, scores, 2000, 1)
	if err := writePaired(&md, paired); err != nil {
		return err
	}
	if g.spec.Entropy != nil {
		if err := g.entropies(ctx, &md, runs); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(g.dir, "results.md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	if err := runlog.WriteJSON(filepath.Join(g.dir, "results.json"), map[string]any{
		"name": g.spec.Name, "arms": arms, "cells": runs, "paired": paired,
	}); err != nil {
		return err
	}
	if len(runs) > 0 {
		if err := plots(filepath.Join(g.dir, "results.png"), arms, runs); err != nil {
			return fmt.Errorf("plots: %w", err)
		}
	}
	fmt.Fprintf(g.out, "\n%s\nresults: %s (and results.json, results.png)\n", md.String(), filepath.Join(g.dir, "results.md"))
	return nil
}

// entropies analyses the SFT checkpoint and every finished cell's final
// checkpoint (skipping those already analysed) and appends a summary.
func (g *grid) entropies(ctx context.Context, md *bytes.Buffer, runs []RunResult) error {
	e := *g.spec.Entropy
	type target struct{ name, ckpt string }
	var ts []target
	if g.spec.SFT.Model != "" {
		ts = append(ts, target{"sft", g.spec.SFT.Model})
	} else {
		ts = append(ts, target{"sft", filepath.Join(g.dir, "sft", "checkpoints", "sft.safetensors")})
	}
	for _, r := range runs {
		ts = append(ts, target{r.Cell, filepath.Join(g.dir, "cells", r.Cell, "checkpoints", "final.safetensors")})
	}
	fmt.Fprintf(md, "\n## Entropy around tool results\n\nMean normalised entropy, bootstrap 95%% CI over trajectories; "+
		"%d test questions x %d samples at temperature %g, k = %d. Full tables: entropy/<run>/entropy.md.\n\n"+
		"| checkpoint | before first call | last k of call | first k after result | later |\n|---|---|---|---|---|\n",
		e.Questions, e.M, e.Temperature, e.K)
	for _, t := range ts {
		out := filepath.Join(g.dir, "entropy", t.name)
		var rep analysisReport
		if err := runlog.ReadJSON(filepath.Join(out, "entropy.json"), &rep); err != nil {
			fmt.Fprintf(g.out, "[entropy] %-24s analysing\n", t.name)
			r, err := entropy(ctx, entropyOpts{Model: t.ckpt, Out: out, Threads: g.threads, Seed: 1, EntropySpec: e})
			if err != nil {
				return fmt.Errorf("entropy of %s: %w", t.name, err)
			}
			rep = analysisReport(r)
		}
		fmt.Fprintf(md, "| %s |", t.name)
		for _, b := range []string{"initial", "before", "after", "later"} {
			s, ok := rep.bucket(b)
			if !ok || s.Tokens == 0 {
				md.WriteString(" – |")
				continue
			}
			fmt.Fprintf(md, " %.3f [%.3f, %.3f] |", s.Mean, s.Lo, s.Hi)
		}
		md.WriteString("\n")
	}
	return nil
}
