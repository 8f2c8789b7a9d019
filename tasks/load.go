package tasks

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/goarpo/arpo/internal/shareddata"
)

// Load reads a dataset file by its extension: .parquet with LoadParquet,
// .jsonl/.json with LoadJSONL.
func Load(path string, opt Options) ([]Example, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet":
		return LoadParquet(path, opt)
	case ".jsonl", ".json":
		return LoadJSONL(path, opt)
	}
	return nil, fmt.Errorf("%s: unknown dataset format (want .jsonl, .json or .parquet)", path)
}

// SharedEval names the evaluation sets of ../shared/data/eval by the name
// users type, e.g. "gsm8k" or "hotpotqa-local".
var SharedEval = map[string]string{
	"gsm8k":          "eval/gsm8k.jsonl",
	"math500":        "eval/math500.jsonl",
	"aime24":         "eval/aime24.jsonl",
	"aime25":         "eval/aime25.jsonl",
	"hotpotqa":       "eval/hotpotqa.jsonl",
	"2wiki":          "eval/2wiki.jsonl",
	"musique":        "eval/musique.jsonl",
	"bamboogle":      "eval/bamboogle.jsonl",
	"hotpotqa-local": "eval/hotpotqa_distractor_600.jsonl",
	"gsm8k-train":    "train/gsm8k_train.jsonl",
	"arpo-train":     "train/arpo_train_10k.parquet",
}

// LoadShared loads a named set of the shared data folder; the corpus is
// non-nil only for tasks that bring their own (hotpotqa-local).
func LoadShared(name string) ([]Example, []Passage, error) {
	rel, ok := SharedEval[name]
	if !ok {
		return nil, nil, fmt.Errorf("unknown shared dataset %q", name)
	}
	dir, err := shareddata.Dir()
	if err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, rel)
	if name == "hotpotqa-local" {
		return LoadHotpotLocal(path)
	}
	ex, err := Load(path, Options{Source: name})
	return ex, nil, err
}
