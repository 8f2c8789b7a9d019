package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/goarpo/arpo/nn/tokenizer"
)

// maxInput bounds what we read from stdin, so a runaway pipe is an error
// rather than an out-of-memory crash.
const maxInput = 64 << 20

// readInput returns --prompt, or all of stdin.
func readInput(o options, stdin io.Reader) (string, error) {
	if o.promptSet {
		return o.prompt, nil
	}
	data, err := io.ReadAll(io.LimitReader(stdin, maxInput+1))
	if err != nil {
		return "", fmt.Errorf("reading stdin: %w", err)
	}
	if len(data) > maxInput {
		return "", badInput("stdin holds more than %d bytes", maxInput)
	}
	return string(data), nil
}

// promptTokens turns the input into token ids: a JSON array with --ids,
// else the tokenizer's encoding (of the ChatML rendering with --chatml).
func promptTokens(o options, cd codec, input string, vocab int) ([]int32, error) {
	var toks []int32
	switch {
	case o.ids:
		var err error
		if toks, err = parseIDs(input, vocab); err != nil {
			return nil, err
		}
	case o.chatml:
		t := cd.bpe()
		if t == nil {
			return nil, badInput("--chatml needs a BPE tokenizer (tokenizer.json)")
		}
		if _, ok := t.TokenID("<|im_start|>"); !ok {
			return nil, badInput("--chatml: the tokenizer has no <|im_start|> token")
		}
		var msgs []tokenizer.Message
		if o.system != "" {
			msgs = append(msgs, tokenizer.Message{Role: "system", Content: o.system})
		}
		msgs = append(msgs, tokenizer.Message{Role: "user", Content: input})
		toks = toInt32(t.EncodeChat(msgs, tokenizer.ChatOptions{AddGenerationPrompt: true}))
	default:
		toks = cd.encode(input)
	}
	if len(toks) == 0 {
		return nil, badInput("the prompt is empty")
	}
	return toks, nil
}

// parseIDs reads a JSON array of token ids, each in [0, vocab).
func parseIDs(input string, vocab int) ([]int32, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(input)))
	var raw []json.Number
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, badInput("--ids: the input is not a JSON array of token ids: %v", err)
	}
	if dec.More() {
		return nil, badInput("--ids: text after the JSON array")
	}
	toks := make([]int32, len(raw))
	for i, n := range raw {
		v, err := n.Int64()
		if err != nil || v < 0 || v >= int64(vocab) {
			return nil, badInput("--ids: element %d is %s, not a token id in [0, %d)", i, n, vocab)
		}
		toks[i] = int32(v)
	}
	return toks, nil
}
