package main

import (
	"slices"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/load"
)

// loadModel opens the backend and loads --model (any kind package nn/load
// resolves: a run folder, a checkpoint, a Hugging Face folder) with
// --tokenizer, if given, in place of the model's own. With --precision
// bf16 a Hugging Face folder loads as a packed bf16 base
// (load.Options.BF16Base and Packed): its linear weights go straight into
// bf16 in the backend's packed layout, with no float32 or unpacked copy,
// and the engine decodes with them in place, computing the bits the
// engine's bf16 copy of a float32 load did.
func loadModel(o options) (*load.Loaded, error) {
	b, err := backend.Open(o.backend, backend.Options{Threads: o.threads, Device: o.device})
	if err != nil {
		return nil, badInput("--backend: %v", err)
	}
	l, err := load.Load(o.model, load.Options{Backend: b, Tokenizer: o.tokenizer, BF16Base: o.precision == nn.BF16, Packed: true})
	if err != nil {
		return nil, badInput("%v", err)
	}
	return l, nil
}

// appendNew appends the ids not already in dst.
func appendNew(dst []int32, ids ...int32) []int32 {
	for _, id := range ids {
		if !slices.Contains(dst, id) {
			dst = append(dst, id)
		}
	}
	return dst
}
