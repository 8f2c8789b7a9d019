package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"time"
)

// Status is where a run stands, as the overview's header shows it.
type Status struct {
	Run
	// Exists is false until the trainer has made the run folder.
	Exists bool `json:"exists"`
	// Phase is "starting", "sft", "eval" (an evaluation is running), "rl"
	// or "done".
	Phase string `json:"phase"`
	// Step and Total are the progress of the phase's steps (0 for eval).
	Step  int `json:"step"`
	Total int `json:"total"`
	// ETASeconds estimates the rest of the phase from its step times; -1
	// when unknown.
	ETASeconds float64 `json:"eta_s"`
	// Algo, Preset, SFTSteps and RLSteps come from config.json.
	Algo     string `json:"algo"`
	Preset   string `json:"preset"`
	SFTSteps int    `json:"sft_steps"`
	RLSteps  int    `json:"rl_steps"`
	// Elapsed is the run's time so far (the last metrics line's elapsed_s,
	// or summary.json's seconds once done).
	Elapsed float64 `json:"elapsed_s"`
	// Updated is when a file of the run last changed.
	Updated time.Time `json:"updated"`
	// Version changes whenever a file the pages read changes, so a page
	// polls this and refetches only then.
	Version string `json:"version"`
	// Skipped counts malformed lines left out of metrics.jsonl and sft.jsonl.
	Skipped int `json:"skipped_lines"`
}

// watched are the files whose size and time make up Status.Version.
var watched = []string{"config.json", "state.json", "sft.jsonl", "metrics.jsonl", "evals.jsonl", "summary.json", "samples"}

type stepLine struct {
	Step         int     `json:"step"`
	Elapsed      float64 `json:"elapsed_s"`
	TimeRollout  float64 `json:"time_rollout_s"`
	TimeUpdate   float64 `json:"time_update_s"`
	Tokens       float64 `json:"tokens"`
	TokensPerSec float64 `json:"tokens_per_s"`
}

// readStatus works out a run's status from its files alone, so it is the
// same for a live run and a finished one.
func readStatus(r Run) (Status, error) {
	st := Status{Run: r, Phase: "starting", ETASeconds: -1}
	info, err := os.Stat(r.Dir)
	switch {
	case errors.Is(err, os.ErrNotExist) && r.Live:
		return st, nil // the trainer has not made it yet
	case err != nil:
		return st, err
	case !info.IsDir():
		return st, fmt.Errorf("%s is not a folder", r.Name)
	}
	st.Exists = true
	h := fnv.New64a()
	for _, f := range watched {
		if fi, err := os.Stat(filepath.Join(r.Dir, f)); err == nil {
			fmt.Fprintf(h, "%s:%d:%d;", f, fi.Size(), fi.ModTime().UnixNano())
			if fi.ModTime().After(st.Updated) {
				st.Updated = fi.ModTime()
			}
		}
	}
	st.Version = fmt.Sprintf("%016x", h.Sum64())
	if !IsRunFolder(r.Dir) {
		if r.Live {
			return st, nil
		}
		return st, fmt.Errorf("%s is not a run folder (no config.json, metrics.jsonl or sft.jsonl)", r.Name)
	}

	var cfg struct {
		Algo     string `json:"algo"`
		Preset   string `json:"preset"`
		SFTSteps int    `json:"sft-steps"`
		RLSteps  int    `json:"rl-steps"`
		Model    string `json:"model"`
	}
	if data, err := os.ReadFile(filepath.Join(r.Dir, "config.json")); err == nil {
		// A config.json that does not parse leaves the fields empty: the
		// curves are still worth showing.
		_ = json.Unmarshal(data, &cfg)
	}
	st.Algo, st.Preset, st.SFTSteps, st.RLSteps = cfg.Algo, cfg.Preset, cfg.SFTSteps, cfg.RLSteps
	if r.RLSteps > 0 {
		st.RLSteps = r.RLSteps
	}
	if cfg.Model != "" {
		st.SFTSteps = 0 // a run from a pretrained model has no SFT phase
	}

	sft, skipA, err := readSteps(filepath.Join(r.Dir, "sft.jsonl"))
	if err != nil {
		return st, err
	}
	rl, skipB, err := readSteps(filepath.Join(r.Dir, "metrics.jsonl"))
	if err != nil {
		return st, err
	}
	st.Skipped = skipA + skipB
	var saved struct {
		Phase string `json:"phase"`
	}
	_ = readJSONFile(filepath.Join(r.Dir, "state.json"), &saved)
	var summary struct {
		Seconds float64 `json:"seconds"`
	}
	// A summary older than the last metrics line is a finished run that was
	// resumed with more RL steps.
	done := readJSONFile(filepath.Join(r.Dir, "summary.json"), &summary) == nil &&
		!newer(filepath.Join(r.Dir, "metrics.jsonl"), filepath.Join(r.Dir, "summary.json"))
	lastRL := 0
	if len(rl) > 0 {
		lastRL = rl[len(rl)-1].Step
		st.Elapsed = rl[len(rl)-1].Elapsed
	}
	lastSFT := 0
	if len(sft) > 0 {
		lastSFT = sft[len(sft)-1].Step
	}
	sftEvalDone := fileExists(filepath.Join(r.Dir, "samples", "eval-sft.json"))
	switch {
	case done:
		st.Phase = "done"
		st.Elapsed = summary.Seconds
	case saved.Phase != "rl" && saved.Phase != "done" && lastSFT < st.SFTSteps && lastRL == 0:
		st.Phase, st.Step, st.Total = "sft", lastSFT, st.SFTSteps
		st.ETASeconds = sftETA(sft, st.SFTSteps)
		st.Elapsed = sinceStart(r.Dir, "sft.jsonl")
	case !sftEvalDone && lastRL == 0:
		st.Phase = "eval"
		st.Elapsed = sinceStart(r.Dir, "samples")
	case lastRL < st.RLSteps:
		st.Phase, st.Step, st.Total = "rl", lastRL, st.RLSteps
		st.ETASeconds = rlETA(rl, st.RLSteps)
	default:
		st.Phase, st.Step, st.Total = "eval", lastRL, st.RLSteps
	}
	if st.Phase == "done" {
		st.Step, st.Total = lastRL, max(st.RLSteps, lastRL)
	}
	return st, nil
}

// sinceStart is the time from the run's start (config.json) to the last
// change of file: the run's elapsed time before metrics.jsonl has any.
func sinceStart(dir, file string) float64 {
	a, errA := os.Stat(filepath.Join(dir, "config.json"))
	b, errB := os.Stat(filepath.Join(dir, file))
	if errA != nil || errB != nil {
		return 0
	}
	return max(0, b.ModTime().Sub(a.ModTime()).Seconds())
}

// newer reports whether file a changed after file b.
func newer(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && sa.ModTime().After(sb.ModTime())
}

func readSteps(path string) ([]stepLine, int, error) {
	var out []stepLine
	skipped, err := scanJSONL(path, func(line []byte) bool {
		var s stepLine
		if json.Unmarshal(line, &s) == nil {
			out = append(out, s)
		}
		return true
	})
	return out, skipped, err
}

// rlETA is the mean time of the last few RL steps (from the run's elapsed
// clock) times the steps left.
func rlETA(rl []stepLine, total int) float64 {
	if len(rl) == 0 {
		return -1
	}
	last := rl[len(rl)-1]
	per := last.TimeRollout + last.TimeUpdate
	if n := min(len(rl)-1, 5); n > 0 {
		first := rl[len(rl)-1-n]
		if d := last.Elapsed - first.Elapsed; d > 0 && last.Step > first.Step {
			per = d / float64(last.Step-first.Step)
		}
	}
	return per * float64(max(total-last.Step, 0))
}

// sftETA is the SFT phase's time per step so far (tokens over throughput,
// which the trainer logs) times the steps left.
func sftETA(sft []stepLine, total int) float64 {
	if len(sft) == 0 {
		return -1
	}
	var tokens float64
	for _, s := range sft {
		tokens += s.Tokens
	}
	last := sft[len(sft)-1]
	if last.TokensPerSec <= 0 {
		return -1
	}
	per := tokens / last.TokensPerSec / float64(len(sft))
	return per * float64(max(total-last.Step, 0))
}

func readJSONFile(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
