// Package load is the one place that turns what a user passes as --model
// into a model: a cmd/train run folder, a training checkpoint file, a
// Hugging Face folder, or a sharded Hugging Face folder
// (model.safetensors.index.json). Load returns the model with its
// tokenizer, chat template and end-of-turn ids, and says what it found;
// every command (cmd/train, cmd/eval, cmd/generate, cmd/experiment,
// cmd/export) calls it, so that they all accept the same paths.
//
// A bad folder (no config.json, a config that does not match the weights'
// shapes, absurd sizes, a truncated safetensors file, a missing tokenizer
// where one is required) gives one error line naming the file; sizes are
// checked against the safetensors headers before the model is allocated.
//
// It is not the checkpoint format (package nn) nor the safetensors reader
// (nn/safetensors), and it does not write anything (see nn/export).
package load
