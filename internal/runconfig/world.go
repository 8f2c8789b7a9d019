// Package runconfig holds the part of a cmd/train run's config.json that
// other commands (cmd/eval, cmd/experiment) read back to rebuild the run's
// ToolWorld, and the tools its rollouts call, so that the mapping from flags
// to a world and its tools lives in one place.
package runconfig

import (
	"strings"

	"github.com/goarpo/arpo/tasks/toolworld"
)

// World is the ToolWorld part of a run's configuration; its JSON keys are
// cmd/train's flag names.
type World struct {
	Seed uint64 `json:"seed"`
	// DataSeed picks the world (and the RL prompt order); 0 means Seed.
	DataSeed       uint64  `json:"data-seed"`
	TrainEntities  int     `json:"tw-train-entities"`
	TestEntities   int     `json:"tw-test-entities"`
	TrainQuestions int     `json:"tw-train"`
	TestQuestions  int     `json:"tw-test"`
	Families       string  `json:"tw-families"` // comma-separated; empty: all
	Novel          string  `json:"tw-novel"`    // comma-separated; empty: the default
	NovelDemoRate  float64 `json:"tw-novel-demo-rate"`
}

// WorldSeed is the seed of the data: DataSeed, or Seed when it is 0.
func (w World) WorldSeed() uint64 {
	if w.DataSeed != 0 {
		return w.DataSeed
	}
	return w.Seed
}

// Config returns the generator's configuration for this world.
func (w World) Config() toolworld.Config {
	wc := toolworld.DefaultConfig()
	wc.Seed = w.WorldSeed()
	wc.TrainEntities, wc.TestEntities = w.TrainEntities, w.TestEntities
	wc.TrainQuestions, wc.TestQuestions = w.TrainQuestions, w.TestQuestions
	wc.NovelDemoRate = w.NovelDemoRate
	if w.Families != "" {
		wc.Families = SplitList(w.Families)
	}
	if w.Novel != "" {
		wc.Novel = SplitList(w.Novel)
	}
	return wc
}

// SplitList splits a comma-separated flag value, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
