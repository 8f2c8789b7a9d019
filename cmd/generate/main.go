// Command generate runs a model with the inference engine (package
// nn/engine): it samples a continuation of a prompt, streaming the text as it
// is generated, or, with --score, prints the log-probability and entropy the
// model gives to each token of a text, so that outside tools (a PyTorch or
// Hugging Face script) can check our numerics token by token.
//
//	go run ./cmd/generate --model DIR --prompt "12+34="
//	echo '[4,5,14,6]' | go run ./cmd/generate --model DIR --ids
//	go run ./cmd/generate --model DIR --score < text.txt
//
// --model is anything package nn/load resolves: a cmd/train run folder, a
// training checkpoint written by nn.Checkpoint.Save (a .safetensors file, or
// a folder that holds exactly one), or a Hugging Face model folder
// (config.json and safetensors, sharded or not; RUN/hf is one). The
// tokenizer comes from --tokenizer, else from the model (tokenizer.json,
// encoder.json + vocab.bpe, or the character tokenizer of verl's test
// models: a tokenizer_config.json with "char_ords"). Without a tokenizer,
// --ids is required: prompts are JSON arrays of token ids and the output is
// one too. Generation stops at the ids of load.EOSIDs (the tokenizer's end
// of sequence, ChatML's <|im_end|>, the configs' eos_token_id).
//
// Generation prints the sampled tokens (not the end-of-sequence token; a
// matched stop string is printed) on stdout and one stats line on stderr.
// Scoring prints JSON lines {"i","id","token","logprob","entropy"}; token i's
// log-probability and the entropy are those of the distribution the model
// predicts after tokens 0..i-1, so line 0 has null for both.
//
// Exit status: 0 on success, 2 for bad input (flags, model or tokenizer
// files, prompt), 1 when something fails while running.
//
// What this command is not for: serving, batching many prompts, or RL
// rollouts (package rl drives the engine directly).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	_ "github.com/goarpo/arpo/backend/cpu"    // registers backend "cpu"
	_ "github.com/goarpo/arpo/backend/vulkan" // registers backend "vulkan" (usable with -tags vulkan)
	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/internal/sysmem"
)

func main() {
	defer exitcode.OnPanic("generate")
	sysmem.LimitHeap()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// badInput is a failure caused by what the user gave us (exit 2), as
// opposed to one that happened while running (exit 1).
func badInput(format string, args ...any) error { return exitcode.Usagef(format, args...) }

// run is the whole command with its streams as arguments, so tests can call
// it; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseFlags(args)
	if errors.Is(err, errHelp) {
		fmt.Fprint(stdout, usageText())
		return 0
	}
	if err == nil {
		err = execute(o, stdin, stdout, stderr)
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "generate: %v\n", err)
	if exitcode.IsUsage(err) {
		return exitcode.BadInput
	}
	return exitcode.Failure
}

// execute loads the model and tokenizer and runs the chosen mode.
func execute(o options, stdin io.Reader, stdout, stderr io.Writer) error {
	l, err := loadModel(o)
	if err != nil {
		return err
	}
	defer l.Free()
	m := l.Model
	if o.backend != "cpu" {
		// A GPU run says which device it got, with its limits.
		fmt.Fprintf(stderr, "backend: %s\n", m.B.Name())
	}
	cd, err := loadCodec(l)
	if err != nil {
		return err
	}
	if cd == nil && !o.ids {
		return badInput("no tokenizer found for %s: pass --tokenizer FILE, or give token ids with --ids", o.model)
	}
	input, err := readInput(o, stdin)
	if err != nil {
		return err
	}
	tokens, err := promptTokens(o, cd, input, m.Cfg.VocabSize)
	if err != nil {
		return err
	}
	if o.score {
		return score(m, cd, tokens, o.precision, o.kvCache, stdout)
	}
	return generate(m, cd, l.EOS, o, tokens, stdout, stderr)
}
