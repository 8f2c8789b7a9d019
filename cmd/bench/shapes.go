package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/nn"
)

// shapesJSON holds, for each real shape, the published config.json of that
// model (Qwen/Qwen2.5-0.5B, Qwen/Qwen3-0.6B, meta-llama/Llama-3.2-1B) as
// Hugging Face serves it. scripts/torch_bench_*.py read the same file, so
// both sides build the same model. Nothing is downloaded: the weights are
// random (nn.Init).
//
//go:embed shapes.json
var shapesJSON []byte

// realShapes are the models of shapes.json, parsed by nn.ParseConfig as a
// downloaded folder's config.json would be.
var realShapes = mustParseShapes(shapesJSON)

func mustParseShapes(data []byte) map[string]nn.Config {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		panic("bench: shapes.json: " + err.Error())
	}
	out := make(map[string]nn.Config, len(raw))
	for name, body := range raw {
		c, err := nn.ParseConfig(body)
		if err != nil {
			panic(fmt.Sprintf("bench: shapes.json: %s: %v", name, err))
		}
		out[name] = c
	}
	return out
}

// modelConfig looks a model up by name: a small config of trainConfigs (a,
// b) or a real shape.
func modelConfig(name string) (nn.Config, bool) {
	if c, ok := trainConfigs[name]; ok {
		return c, true
	}
	c, ok := realShapes[name]
	return c, ok
}

// modelNames lists every name modelConfig knows, for error messages.
func modelNames() string {
	return strings.Join(append(sortedKeys(trainConfigs), sortedKeys(realShapes)...), ", ")
}

// checkConfigs rejects unknown model names before anything runs.
func checkConfigs(names []string) error {
	for _, name := range names {
		if _, ok := modelConfig(name); !ok {
			return badInput("unknown config %q (known: %s)", name, modelNames())
		}
	}
	return nil
}

// addShapeFlag defines --shape on fs: one real model shape, run instead of
// --configs.
func addShapeFlag(fs *pflag.FlagSet) *string {
	names := strings.Join(sortedKeys(realShapes), ", ")
	return fs.String("shape", "", "a real model's shape with random weights ("+names+"), instead of --configs")
}

// pickConfigs returns the models a suite runs: --shape's, or --configs'.
func pickConfigs(fs *pflag.FlagSet, configs []string, shape string) ([]string, error) {
	if shape == "" {
		return configs, checkConfigs(configs)
	}
	if _, ok := realShapes[shape]; !ok {
		return nil, badInput("unknown --shape %q (known: %s)", shape, strings.Join(sortedKeys(realShapes), ", "))
	}
	if fs.Changed("configs") {
		return nil, badInput("--shape and --configs are exclusive")
	}
	return []string{shape}, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
