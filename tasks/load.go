package tasks

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Load reads a dataset file. A "jsonl:" or "parquet:" prefix names the
// format (the --task syntax: jsonl:questions.txt reads JSONL whatever the
// extension); without one, the extension decides: .parquet with
// LoadParquet, .jsonl/.json with LoadJSONL. A file without a single example
// is an error.
func Load(path string, opt Options) ([]Example, error) {
	format := strings.ToLower(filepath.Ext(path))
	for _, f := range []string{"jsonl", "parquet"} {
		if p, ok := strings.CutPrefix(path, f+":"); ok {
			format, path = "."+f, p
		}
	}
	var ex []Example
	var err error
	switch format {
	case ".parquet":
		ex, err = LoadParquet(path, opt)
	case ".jsonl", ".json":
		ex, err = LoadJSONL(path, opt)
	default:
		return nil, fmt.Errorf("%s: unknown dataset format (want .jsonl, .json or .parquet, or a jsonl: or parquet: prefix)", path)
	}
	if err == nil && len(ex) == 0 {
		return nil, fmt.Errorf("%s: no examples (the file is empty or only blank lines)", path)
	}
	return ex, err
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

// DataDirEnv names the environment variable that overrides DefaultDataDir.
const DataDirEnv = "ARPO_SHARED_DATA"

// DefaultDataDir is the shared data folder when a command is not given
// one (--data): $ARPO_SHARED_DATA when set, else ../shared/data relative to
// the working directory (the layout of this project's checkouts: the
// repository beside shared/).
func DefaultDataDir() string {
	if d := os.Getenv(DataDirEnv); d != "" {
		return d
	}
	return filepath.Join("..", "shared", "data")
}

// LoadShared loads a named set of the shared data folder dir (see
// DefaultDataDir); the corpus is non-nil only for tasks that bring their own
// (hotpotqa-local).
func LoadShared(dir, name string) ([]Example, []Passage, error) {
	rel, ok := SharedEval[name]
	if !ok {
		return nil, nil, fmt.Errorf("unknown shared dataset %q", name)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("shared data folder: %w (give --data DIR or set %s)", err, DataDirEnv)
	}
	path := filepath.Join(dir, rel)
	if name == "hotpotqa-local" {
		return LoadHotpotLocal(path)
	}
	ex, err := Load(path, Options{Source: name})
	return ex, nil, err
}
