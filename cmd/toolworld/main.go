// Command toolworld writes a ToolWorld dataset for inspection or training:
// train.jsonl and test.jsonl (one tasks.Example per line: question, answer,
// family, level, novel, demo, gold trajectory) and corpus.jsonl
// ({"id","title","text"}, the passages the search index must serve).
//
//	go run ./cmd/toolworld --out /tmp/tw
//	go run ./cmd/toolworld --out /tmp/tw --seed 7 --train 5000 --families lookup,two_hop
//
// Gold trajectories here use toolworld's built-in fallback tools; a trainer
// that serves the corpus with the real search tool re-renders them with
// Dataset.FillGold so that demonstrations show the real tool output.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/goarpo/arpo/tasks"
	"github.com/goarpo/arpo/tasks/toolworld"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "toolworld:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	cfg := toolworld.DefaultConfig()
	fs := flag.NewFlagSet("toolworld", flag.ContinueOnError)
	out := fs.String("out", "", "output folder (created if absent); required")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed; the same seed gives the same files")
	fs.IntVar(&cfg.TrainEntities, "train-entities", cfg.TrainEntities, "entities of the train world")
	fs.IntVar(&cfg.TestEntities, "test-entities", cfg.TestEntities, "entities of the test world (disjoint from train)")
	fs.IntVar(&cfg.TrainQuestions, "train", cfg.TrainQuestions, "train questions")
	fs.IntVar(&cfg.TestQuestions, "test", cfg.TestQuestions, "test questions, spread evenly over the families")
	fs.Float64Var(&cfg.Distractors, "distractors", cfg.Distractors, "share of facts with a similarly named distractor passage")
	fs.Float64Var(&cfg.NovelDemoRate, "novel-demo-rate", cfg.NovelDemoRate, "share of novel-family train examples that keep a demonstration")
	families := fs.String("families", "", "comma-separated families to generate (default all): "+familyNames())
	novel := fs.String("novel", "", "comma-separated families without demonstrations (default the level-3 ones)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("--out is required")
	}
	if *families != "" {
		cfg.Families = strings.Split(*families, ",")
	}
	if *novel != "" {
		cfg.Novel = strings.Split(*novel, ",")
	}
	start := time.Now()
	d, err := toolworld.Generate(cfg)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for name, write := range map[string]func(string) error{
		"train.jsonl":  func(p string) error { return tasks.WriteJSONL(p, d.Train) },
		"test.jsonl":   func(p string) error { return tasks.WriteJSONL(p, d.Test) },
		"corpus.jsonl": func(p string) error { return tasks.WriteJSONL(p, d.Corpus) },
	} {
		if err := write(filepath.Join(*out, name)); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "generated in %v: %d train, %d test, %d passages, %d demonstrations -> %s\n",
		elapsed.Round(time.Millisecond), len(d.Train), len(d.Test), len(d.Corpus), len(d.Demos()), *out)
	summarize(stdout, d)
	return nil
}

func familyNames() string {
	var names []string
	for _, f := range toolworld.Families {
		names = append(names, f.Name)
	}
	return strings.Join(names, ",")
}

// summarize prints, per family, the level, novelty, counts and the mean gold
// trajectory length in characters.
func summarize(w io.Writer, d *toolworld.Dataset) {
	type agg struct {
		level, train, test, demos, chars, calls int
		novel                                   bool
	}
	by := map[string]*agg{}
	get := func(e *tasks.Example) *agg {
		a := by[e.Family]
		if a == nil {
			a = &agg{level: e.Level, novel: e.Novel}
			by[e.Family] = a
		}
		return a
	}
	for i := range d.Train {
		a := get(&d.Train[i])
		a.train++
		a.chars += len(d.Train[i].Gold)
		a.calls += d.Train[i].Calls
		if d.Train[i].Demo {
			a.demos++
		}
	}
	for i := range d.Test {
		get(&d.Test[i]).test++
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := by[names[i]], by[names[j]]
		return a.level < b.level || a.level == b.level && names[i] < names[j]
	})
	fmt.Fprintf(w, "%-16s %5s %5s %6s %5s %6s %10s %6s\n", "family", "level", "novel", "train", "test", "demos", "gold_chars", "calls")
	for _, n := range names {
		a := by[n]
		fmt.Fprintf(w, "%-16s %5d %5v %6d %5d %6d %10.0f %6.1f\n", n, a.level, a.novel, a.train, a.test, a.demos,
			float64(a.chars)/float64(max(1, a.train)), float64(a.calls)/float64(max(1, a.train)))
	}
}
