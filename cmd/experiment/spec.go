package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/goarpo/arpo/run"
)

// Spec is an experiment: one SFT phase shared by every cell, then a grid of
// RL runs (arms x seeds), each a run.Config given as cmd/train's command
// line. Keys of Flags maps are the flag names of run.Config (run.FlagSet).
type Spec struct {
	Name string `json:"name"`
	// Preset and Config are cmd/train's --preset and --config for every run.
	Preset string `json:"preset"`
	Config string `json:"config"`
	// Flags are cmd/train flags for every run, e.g. {"rl-steps": 20, "m": 8}.
	Flags map[string]any `json:"flags"`
	SFT   SFTSpec        `json:"sft"`
	// Algorithms are arms run with the common flags only.
	Algorithms []string `json:"algorithms"`
	// Variants are further arms, e.g. ablations of ARPO.
	Variants []Variant `json:"variants"`
	// Seeds: every arm runs once per seed (cmd/train's --seed).
	Seeds []uint64 `json:"seeds"`
	// DataSeed fixes the task data and prompts of every cell while Seeds
	// vary; default the SFT seed.
	DataSeed *uint64 `json:"data-seed"`
	// Entropy, when set, runs the entropy analysis on the SFT checkpoint
	// and every cell's final checkpoint.
	Entropy *EntropySpec `json:"entropy"`
	// Baseline is the arm every other arm is compared with, question by
	// question (paired.go); default the first arm.
	Baseline string `json:"baseline"`
}

// SFTSpec is the shared cold start: an existing checkpoint, or one
// cmd/train run with --rl-steps 0.
type SFTSpec struct {
	Model string         `json:"model"` // a cmd/train checkpoint; empty: run SFT
	Seed  *uint64        `json:"seed"`  // default the first of Seeds
	Flags map[string]any `json:"flags"` // extra flags for the SFT run only
}

// Variant is an arm: an algorithm with extra flags, e.g. ARPO with beta 0
// (branching that ignores entropy) or hard attribution.
type Variant struct {
	Name  string         `json:"name"`
	Algo  string         `json:"algo"`
	Flags map[string]any `json:"flags"`
}

// EntropySpec sizes the entropy analysis of each checkpoint.
type EntropySpec struct {
	Questions   int     `json:"questions"`   // test questions, e.g. 50
	M           int     `json:"m"`           // sampled trajectories per question, e.g. 4
	K           int     `json:"k"`           // window in tokens, e.g. 20
	Boot        int     `json:"boot"`        // bootstrap resamples, e.g. 1000
	Temperature float64 `json:"temperature"` // e.g. 1
}

func (e *EntropySpec) defaults() {
	if e.Questions == 0 {
		e.Questions = 50
	}
	if e.M == 0 {
		e.M = 4
	}
	if e.K == 0 {
		e.K = 20
	}
	if e.Boot == 0 {
		e.Boot = 1000
	}
	if e.Temperature == 0 {
		e.Temperature = 1
	}
}

// Arm is one row of the results: an algorithm or a variant.
type Arm struct {
	Name  string
	Algo  string
	Flags map[string]any
}

// Cell is one cmd/train run of the grid.
type Cell struct {
	Name string // <arm>-s<seed>, its folder under cells/
	Arm  string
	Algo string
	Seed uint64
	Args []string // cmd/train arguments without --model and --out
	// Config is what Args run (run.ParseArgs), filled by grid.check.
	Config run.Config
}

var (
	algos    = map[string]bool{"arpo": true, "grpo": true, "dapo": true, "reinforce++": true}
	nameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9._+-]*$`)
	reserved = map[string]string{
		"algo": "use algorithms or a variant's algo", "seed": "use seeds", "model": "use sft.model",
		"out": "use --out of cmd/experiment", "resume": "cmd/experiment resumes cells itself",
		"config": "use the spec's config", "preset": "use the spec's preset", "print-config": "not a run flag",
		"data-seed": "use the spec's data-seed",
	}
)

// readSpec reads a JSON or YAML spec strictly: unknown keys are errors.
func readSpec(path string) (Spec, error) {
	var s Spec
	data, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	var m map[string]any
	if strings.EqualFold(filepath.Ext(path), ".json") {
		err = json.Unmarshal(data, &m)
	} else {
		err = yaml.Unmarshal(data, &m)
	}
	if err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	if m == nil {
		return s, fmt.Errorf("%s: empty spec", path)
	}
	// A JSON round trip gives YAML the same strict names and types.
	js, err := json.Marshal(m)
	if err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	if err := s.validate(); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// validate checks the spec's own structure; the flag values of every run
// are checked as a run.Config by grid.check before any run starts.
func (s *Spec) validate() error {
	if s.Name != "" && !nameRE.MatchString(s.Name) {
		return fmt.Errorf("name %q: use lower-case letters, digits and . _ + -", s.Name)
	}
	if len(s.Algorithms)+len(s.Variants) == 0 {
		return fmt.Errorf("no arms: give algorithms (arpo, grpo, dapo, reinforce++) or variants")
	}
	if len(s.Seeds) == 0 {
		return fmt.Errorf("no seeds: give seeds, e.g. [1, 2, 3]")
	}
	if s.Baseline != "" {
		found := false
		for _, a := range s.arms() {
			found = found || a.Name == s.Baseline
		}
		if !found {
			return fmt.Errorf("baseline %q is not one of the arms", s.Baseline)
		}
	}
	seen := map[uint64]bool{}
	for _, sd := range s.Seeds {
		if seen[sd] {
			return fmt.Errorf("seed %d appears twice", sd)
		}
		seen[sd] = true
	}
	if s.Config != "" {
		if _, err := os.Stat(s.Config); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	if s.SFT.Model != "" {
		if _, err := os.Stat(s.SFT.Model); err != nil {
			return fmt.Errorf("sft.model: %w", err)
		}
		if len(s.SFT.Flags) > 0 {
			return fmt.Errorf("sft.flags are for an SFT run; with sft.model there is none")
		}
	}
	if err := checkFlags("flags", s.Flags); err != nil {
		return err
	}
	if err := checkFlags("sft.flags", s.SFT.Flags); err != nil {
		return err
	}
	names := map[string]bool{}
	for _, a := range s.Algorithms {
		if !algos[a] {
			return fmt.Errorf("algorithms: unknown algorithm %q (want arpo, grpo, dapo or reinforce++)", a)
		}
		if names[a] {
			return fmt.Errorf("algorithms: %q appears twice", a)
		}
		names[a] = true
	}
	for i, v := range s.Variants {
		switch {
		case !nameRE.MatchString(v.Name):
			return fmt.Errorf("variants[%d]: name %q: use lower-case letters, digits and . _ + -", i, v.Name)
		case names[v.Name]:
			return fmt.Errorf("variants[%d]: name %q is already an arm", i, v.Name)
		case !algos[v.Algo]:
			return fmt.Errorf("variants[%d] (%s): unknown algo %q (want arpo, grpo, dapo or reinforce++)", i, v.Name, v.Algo)
		}
		names[v.Name] = true
		if err := checkFlags(fmt.Sprintf("variants[%d].flags", i), v.Flags); err != nil {
			return err
		}
	}
	if e := s.Entropy; e != nil {
		e.defaults()
		if e.Questions < 1 || e.M < 1 || e.K < 1 || e.Boot < 1 || !(e.Temperature > 0) {
			return fmt.Errorf("entropy: questions, m, k, boot and temperature must be positive, got %+v", *e)
		}
	}
	return nil
}

func checkFlags(where string, flags map[string]any) error {
	for k, v := range flags {
		if why, ok := reserved[k]; ok {
			return fmt.Errorf("%s: %q is set by cmd/experiment (%s)", where, k, why)
		}
		if _, err := flagValue(v); err != nil {
			return fmt.Errorf("%s: %s: %w", where, k, err)
		}
	}
	return nil
}

// flagValue formats a spec value as a command-line value.
func flagValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	}
	return "", fmt.Errorf("want a string, number or boolean, got %T", v)
}

// flagArgs turns maps (later ones override earlier ones) into sorted
// --name value arguments.
func flagArgs(maps ...map[string]any) []string {
	merged := map[string]any{}
	for _, m := range maps {
		for k, v := range m {
			merged[k] = v
		}
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		v, _ := flagValue(merged[k]) // checked by validate
		out = append(out, "--"+k, v)
	}
	return out
}

// commonArgs are the preset and config arguments of every run.
func (s *Spec) commonArgs() []string {
	var a []string
	if s.Preset != "" {
		a = append(a, "--preset", s.Preset)
	}
	if s.Config != "" {
		a = append(a, "--config", s.Config)
	}
	return a
}

func (s *Spec) sftSeed() uint64 {
	if s.SFT.Seed != nil {
		return *s.SFT.Seed
	}
	return s.Seeds[0]
}

func (s *Spec) dataSeed() uint64 {
	if s.DataSeed != nil {
		return *s.DataSeed
	}
	return s.sftSeed()
}

// sftArgs are the arguments of the SFT run (without --out).
func (s *Spec) sftArgs() []string {
	a := append(s.commonArgs(), flagArgs(s.Flags, s.SFT.Flags, map[string]any{"rl-steps": 0})...)
	return append(a, "--seed", strconv.FormatUint(s.sftSeed(), 10), "--data-seed", strconv.FormatUint(s.dataSeed(), 10))
}

// arms lists the algorithms, then the variants.
func (s *Spec) arms() []Arm {
	var out []Arm
	for _, a := range s.Algorithms {
		out = append(out, Arm{Name: a, Algo: a})
	}
	for _, v := range s.Variants {
		out = append(out, Arm{Name: v.Name, Algo: v.Algo, Flags: v.Flags})
	}
	return out
}

// cells expands the grid, arm by arm, seed by seed. Every cell has the
// same --data-seed, so that seeds differ in initialisation and sampling
// only, not in the task data and prompts.
func (s *Spec) cells() []Cell {
	var out []Cell
	for _, arm := range s.arms() {
		for _, sd := range s.Seeds {
			a := append(s.commonArgs(), flagArgs(s.Flags, arm.Flags)...)
			a = append(a, "--algo", arm.Algo, "--seed", strconv.FormatUint(sd, 10), "--data-seed", strconv.FormatUint(s.dataSeed(), 10))
			out = append(out, Cell{Name: fmt.Sprintf("%s-s%d", arm.Name, sd), Arm: arm.Name, Algo: arm.Algo, Seed: sd, Args: a})
		}
	}
	return out
}
