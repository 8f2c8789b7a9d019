package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/run"
)

// record is cmd/experiment's bookkeeping of one run (the SFT run or a
// cell), kept beside its run folder as <name>.json: the folder itself must
// be empty when cmd/train starts.
type record struct {
	Args     []string `json:"args"`   // cmd/train arguments, --out included
	Status   string   `json:"status"` // "running", "interrupted", "failed" or "done"
	Attempts int      `json:"attempts"`
	WallS    float64  `json:"wall_s"` // summed over attempts
	Exit     int      `json:"exit"`
}

// grid runs an experiment in dir.
type grid struct {
	spec    Spec
	dir     string
	bin     string // cmd/train binary
	threads int
	out     io.Writer
}

// errCellsFailed ends an experiment in which some cell failed; the others
// ran and were collected.
var errCellsFailed = errors.New("some cells failed")

// errCellFailed is a cmd/train run that exited with an error.
var errCellFailed = errors.New("cmd/train failed")

// buildTrain builds cmd/train into dir/bin/train from the module that holds
// the working directory.
func buildTrain(ctx context.Context, dir string) (string, error) {
	root, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(root)) == "" || strings.TrimSpace(string(root)) == os.DevNull {
		return "", fmt.Errorf("building cmd/train: run cmd/experiment inside the module (go env GOMOD: %v), or give --train-bin", err)
	}
	bin, err := filepath.Abs(filepath.Join(dir, "bin", "train"))
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/train")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/train: %w\n%s", err, out)
	}
	return bin, nil
}

// check parses every run's arguments into its run.Config and validates it
// as cmd/train would, in this process, so that a bad value in the spec fails
// now rather than hours into the grid. It fills each cell's Config.
func (g *grid) check(cells []Cell) error {
	c, err := run.ParseArgs(g.spec.sftArgs())
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		return badSpec("sft: %v", err)
	}
	for i := range cells {
		c, err := run.ParseArgs(cells[i].Args)
		if err == nil {
			err = c.Validate()
		}
		if err != nil {
			return badSpec("cell %s: %v", cells[i].Name, err)
		}
		cells[i].Config = c
	}
	return nil
}

// sameRun reports whether two argument lists of a run ask for the same
// run: the same arguments, or arguments of the same effective run.Config
// (another order, 1e-4 for 0.0001, a flag set to its preset's value).
// A record written by an earlier version of cmd/experiment thus still
// matches the run it describes.
func sameRun(a, b []string) bool {
	if slices.Equal(a, b) {
		return true
	}
	ca, err := run.ParseArgs(a)
	if err != nil {
		return false
	}
	cb, err := run.ParseArgs(b)
	return err == nil && ca == cb
}

// job is one cmd/train run of the experiment: the SFT run or a cell.
type job struct {
	name, tag string
	args      []string // without --out
	dir       string   // the run folder
}

// plan lists the runs in order: the SFT run (unless the spec gives a
// checkpoint), then the cells, each starting from the SFT checkpoint.
func (g *grid) plan(cells []Cell) ([]job, error) {
	var jobs []job
	model := g.spec.SFT.Model
	if model == "" {
		sftDir := filepath.Join(g.dir, "sft")
		jobs = append(jobs, job{name: "sft", tag: "[sft]", args: g.spec.sftArgs(), dir: sftDir})
		model = filepath.Join(sftDir, "checkpoints", "sft.safetensors")
	}
	model, err := filepath.Abs(model)
	if err != nil {
		return nil, err
	}
	for i, c := range cells {
		jobs = append(jobs, job{name: c.Name, tag: fmt.Sprintf("[%d/%d]", i+1, len(cells)),
			args: append(slices.Clone(c.Args), "--model", model), dir: filepath.Join(g.dir, "cells", c.Name)})
	}
	return jobs, nil
}

// sameFlags refuses to continue an experiment folder whose runs were
// started with other arguments: their results would not be comparable.
func (g *grid) sameFlags(jobs []job) error {
	for _, j := range jobs {
		var rec record
		if err := runlog.ReadJSON(j.dir+".json", &rec); err != nil {
			continue
		}
		if now := append(slices.Clone(j.args), "--out", j.dir); !sameRun(rec.Args, now) {
			return badSpec("%s in %s was started with other flags:\n  then: %s\n  now:  %s\n(use another --out, or delete %s and %s.json)",
				j.name, g.dir, strings.Join(rec.Args, " "), strings.Join(now, " "), j.dir, j.dir)
		}
	}
	return nil
}

// runAll runs every job not yet done; a failed SFT run stops the grid, a
// failed cell does not.
func (g *grid) runAll(ctx context.Context, jobs []job) error {
	failed, cells := 0, 0
	for _, j := range jobs {
		err := g.runOne(ctx, j.name, j.tag, j.args, j.dir)
		if j.name == "sft" {
			if err != nil {
				return fmt.Errorf("sft: %w", err)
			}
			continue
		}
		cells++
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			if !errors.Is(err, errCellFailed) {
				fmt.Fprintf(g.out, "%s %-24s FAILED: %v\n", j.tag, j.name, err)
			}
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d of %d", errCellsFailed, failed, cells)
	}
	return nil
}

// runOne runs cmd/train into runDir unless it is done: fresh, or resumed
// when an earlier attempt left a state.json. It prints one line when it
// starts and one when it ends.
func (g *grid) runOne(ctx context.Context, name, tag string, args []string, runDir string) error {
	recPath := runDir + ".json"
	args = append(args, "--out", runDir)
	var rec record
	if err := runlog.ReadJSON(recPath, &rec); err == nil && sameRun(rec.Args, args) {
		if rec.Status == "done" && fileExists(filepath.Join(runDir, "summary.json")) {
			fmt.Fprintf(g.out, "%s %-24s done already (%s)\n", tag, name, line(runDir))
			return nil
		}
	}
	cmdArgs := args
	how := "start"
	switch {
	case fileExists(filepath.Join(runDir, "state.json")):
		cmdArgs, how = []string{"--resume", runDir}, "resume"
	case fileExists(runDir):
		// cmd/train failed before its first checkpoint: nothing to keep,
		// and it only starts in an empty folder.
		if err := os.RemoveAll(runDir); err != nil {
			return err
		}
		how = "restart"
	}
	if g.threads > 0 {
		cmdArgs = append(slices.Clone(cmdArgs), "--threads", fmt.Sprint(g.threads))
	}
	for _, d := range []string{filepath.Join(g.dir, "logs"), filepath.Dir(runDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	logPath := filepath.Join(g.dir, "logs", name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n$ %s %s\n", g.bin, strings.Join(cmdArgs, " "))
	fmt.Fprintf(g.out, "%s %-24s %s (log: %s)\n", tag, name, how, logPath)

	rec.Args, rec.Status = args, "running"
	rec.Attempts++
	if err := runlog.WriteJSON(recPath, rec); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, g.bin, cmdArgs...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Ctrl-C: let cmd/train save its checkpoint and exit by itself.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 2 * time.Minute
	t0 := time.Now()
	err = cmd.Run()
	rec.WallS += time.Since(t0).Seconds()
	rec.Exit = cmd.ProcessState.ExitCode()
	switch {
	case err == nil:
		rec.Status = "done"
	case ctx.Err() != nil:
		rec.Status = "interrupted"
	default:
		rec.Status = "failed"
	}
	if werr := runlog.WriteJSON(recPath, rec); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(g.out, "%s %-24s interrupted (exit %d); rerun the same command to resume\n", tag, name, rec.Exit)
			return ctx.Err()
		}
		fmt.Fprintf(g.out, "%s %-24s FAILED (exit %d; see %s)\n", tag, name, rec.Exit, logPath)
		return fmt.Errorf("%s: %w: exit %d (see %s)", name, errCellFailed, rec.Exit, logPath)
	}
	fmt.Fprintf(g.out, "%s %-24s done in %.1fs (%s)\n", tag, name, rec.WallS, line(runDir))
	return nil
}

// line summarises a finished run folder in a few numbers.
func line(runDir string) string {
	r, err := readRun(runDir)
	if err != nil {
		return "no summary: " + err.Error()
	}
	return fmt.Sprintf("test acc %.3f, train tool calls %d (trajectory-level %d)", r.TestAcc, r.TrainCalls, r.TrainCallsFlat)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
