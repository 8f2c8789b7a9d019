package toolworld

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/goarpo/arpo/tasks"
)

// Config sizes a ToolWorld. The zero value is not useful; start from
// DefaultConfig.
type Config struct {
	Seed           uint64
	TrainEntities  int      // e.g. 10000: entity diversity is what teaches a small model to copy names
	TestEntities   int      // e.g. 1000, disjoint from the train entities
	TrainQuestions int      // e.g. 20000
	TestQuestions  int      // e.g. 1000, spread evenly over the families
	Distractors    float64  // share of facts with a similarly named distractor passage, e.g. 0.5
	Families       []string // families to generate; nil means all of Families
	Novel          []string // families without demonstrations; nil means the level-3 ones
	NovelDemoRate  float64  // share of novel-family train examples that keep their demonstration, e.g. 0
	// TrainWeights weighs the families of the train split by name; missing
	// families weigh 1.
	TrainWeights map[string]float64
}

// DefaultConfig is the size that a quick experiment
// (../shared/docs/toolworld-notes.md) found a 0.8M-parameter model learns
// tool use from: 10,000 train entities, short passages, top-2 search.
func DefaultConfig() Config {
	return Config{
		Seed: 1, TrainEntities: 10_000, TestEntities: 1_000,
		TrainQuestions: 20_000, TestQuestions: 1_000, Distractors: 0.5,
		TrainWeights: map[string]float64{"lookup": 3, "two_hop": 2, "arith": 2, "compare_python": 2, "lookup_python": 1.5},
	}
}

// Dataset is a generated ToolWorld: questions of both splits and the corpus
// the search tool must index (both worlds' passages and the distractors).
type Dataset struct {
	Train  []tasks.Example
	Test   []tasks.Example
	Corpus []tasks.Passage

	corpus *corpus
	plans  map[string]*item // by Example.ID, to re-render golds with other tools
	worlds [2]*world        // train, test
}

// Generate builds the world, the corpus and the questions for cfg, with gold
// trajectories from the Fallback tools (call FillGold to use real ones).
func Generate(cfg Config) (*Dataset, error) { return GenerateContext(context.Background(), cfg) }

// GenerateContext is Generate that stops with ctx's error when ctx is
// cancelled: a world of millions of entities takes minutes to build, and
// Ctrl-C or SIGTERM must not wait for it.
func GenerateContext(ctx context.Context, cfg Config) (*Dataset, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fams, novel, err := cfg.families()
	if err != nil {
		return nil, err
	}
	if cfg.TrainQuestions < 0 || cfg.TestQuestions < 0 || cfg.Distractors < 0 || cfg.Distractors > 1 {
		return nil, fmt.Errorf("toolworld: bad sizes in config %+v", cfg)
	}
	// Separate streams, so that asking for more questions leaves the world
	// and the corpus as they were.
	stream := func(i uint64) *rand.Rand { return rand.New(rand.NewPCG(cfg.Seed, i)) }
	wrng := stream(1)
	nm := newNamer(wrng)
	train, err := newWorld(ctx, "train", cfg.TrainEntities, wrng, nm)
	if err != nil {
		return nil, err
	}
	test, err := newWorld(ctx, "test", cfg.TestEntities, wrng, nm)
	if err != nil {
		return nil, err
	}
	c := &corpus{byQuery: map[string][]int{}}
	if err := c.addWorld(ctx, train, cfg.Distractors, wrng, nm); err != nil {
		return nil, err
	}
	if err := c.addWorld(ctx, test, cfg.Distractors, wrng, nm); err != nil {
		return nil, err
	}
	d := &Dataset{Corpus: c.passages, corpus: c, plans: map[string]*item{}, worlds: [2]*world{train, test}}

	trainW := make([]float64, len(fams))
	for i, f := range fams {
		trainW[i] = 1
		if w, ok := cfg.TrainWeights[f.Name]; ok {
			trainW[i] = w
		}
	}
	qrng := stream(2)
	if d.Train, err = d.questions(ctx, train, fams, trainW, novel, cfg.TrainQuestions, cfg.NovelDemoRate, qrng); err != nil {
		return nil, err
	}
	if d.Test, err = d.questions(ctx, test, fams, nil, novel, cfg.TestQuestions, 0, stream(3)); err != nil {
		return nil, err
	}
	if _, err := d.FillGoldContext(ctx, d.Fallback()); err != nil {
		return nil, err
	}
	return d, nil
}

func (cfg Config) families() ([]Family, map[string]bool, error) {
	var fams []Family
	if cfg.Families == nil {
		fams = Families
	}
	for _, n := range cfg.Families {
		f, ok := familyByName(n)
		if !ok {
			return nil, nil, fmt.Errorf("toolworld: unknown family %q", n)
		}
		fams = append(fams, f)
	}
	if len(fams) == 0 {
		return nil, nil, fmt.Errorf("toolworld: no families")
	}
	novel := map[string]bool{}
	if cfg.Novel == nil {
		for _, f := range Families {
			novel[f.Name] = f.Level == 3
		}
	}
	for _, n := range cfg.Novel {
		if _, ok := familyByName(n); !ok {
			return nil, nil, fmt.Errorf("toolworld: unknown novel family %q", n)
		}
		novel[n] = true
	}
	return fams, novel, nil
}

// questions draws n questions of w: by weight, or evenly over the families
// (round robin) when weights is nil. A repeated question is redrawn a few
// times, since a split of small worlds cannot always avoid repeats.
func (d *Dataset) questions(ctx context.Context, w *world, fams []Family, weights []float64, novel map[string]bool, n int, demoRate float64, rng *rand.Rand) ([]tasks.Example, error) {
	var total float64
	for _, x := range weights {
		total += x
	}
	seen := map[string]bool{}
	out := make([]tasks.Example, 0, n)
	for i := range n {
		if err := poll(ctx, i); err != nil {
			return nil, err
		}
		f := fams[i%len(fams)]
		if weights != nil {
			f = fams[weighted(rng, weights, total)]
		}
		var it item
		for try := 0; try < 20; try++ {
			if it = f.gen(w, rng); !seen[it.question] {
				break
			}
		}
		seen[it.question] = true
		id := fmt.Sprintf("tw-%s-%06d", w.split, i)
		e := tasks.Example{
			ID: id, Source: "toolworld", Question: it.question, Answer: it.answer, Metric: it.metric,
			Family: f.Name, Level: f.Level, Split: w.split, Novel: novel[f.Name],
			Calls: len(it.steps),
		}
		// Demo is a draw for every example, so that the stream does not
		// depend on the rate.
		e.Demo = !e.Novel || rng.Float64() < demoRate
		it.demo = e.Demo
		d.plans[id] = &it
		out = append(out, e)
	}
	return out, nil
}

// poll returns ctx's error every 1024th call of a loop, cheaply enough for
// the inner loops of the generator.
func poll(ctx context.Context, i int) error {
	if i%1024 != 0 {
		return nil
	}
	return ctx.Err()
}

func weighted(rng *rand.Rand, w []float64, total float64) int {
	x := rng.Float64() * total
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

// GoldStats counts demonstrations whose tool results did not check out.
type GoldStats struct {
	Examples int
	Misses   int            // results without the expected value; those examples lose Demo
	ByFamily map[string]int // misses by family
}

// FillGold renders every example's gold trajectory with tool results from
// fn (for instance the real search index and interpreter), and clears Demo
// where a result lacks the value the plan needs.
func (d *Dataset) FillGold(fn ToolFunc) GoldStats {
	st, _ := d.FillGoldContext(context.Background(), fn)
	return st
}

// FillGoldContext is FillGold that stops with ctx's error when ctx is
// cancelled, leaving the examples not yet reached as they were.
func (d *Dataset) FillGoldContext(ctx context.Context, fn ToolFunc) (GoldStats, error) {
	st := GoldStats{ByFamily: map[string]int{}}
	for _, set := range [][]tasks.Example{d.Train, d.Test} {
		for i := range set {
			if err := poll(ctx, i); err != nil {
				return st, err
			}
			e := &set[i]
			it := d.plans[e.ID]
			gold, ok := render(it, fn)
			e.Gold, e.Demo = gold, it.demo && ok
			st.Examples++
			if !ok {
				st.Misses++
				st.ByFamily[e.Family]++
			}
		}
	}
	return st, nil
}

// Demos returns the train examples whose gold trajectories are fit for SFT.
func (d *Dataset) Demos() []tasks.Example {
	return slices.DeleteFunc(slices.Clone(d.Train), func(e tasks.Example) bool { return !e.Demo })
}
