// Command tokenize prints the token ids of its standard input as a JSON
// array, with --decode turns a JSON array of ids back into text, and with
// --render prints a conversation rendered by the tokenizer's chat template.
// It is a tool for checking tokenizers by hand and from scripts, not a
// library. Input over --max-input (64 MiB) is refused; a word longer than
// tokenizer.MaxPiece is merged in chunks (see there).
//
//	echo -n 'Hello <think>' | go run ./cmd/tokenize --tokenizer ../shared/data/tokenizers/qwen3
//	echo '[9707, 220, 151667]' | go run ./cmd/tokenize --tokenizer tok.json --decode
//	go run ./cmd/tokenize --tokenizer ../shared/data/tokenizers/qwen3 --render < conversation.json
//
// conversation.json holds the keyword arguments of Hugging Face's
// apply_chat_template: {"messages": [{"role": "user", "content": "Hi"}],
// "add_generation_prompt": true, "enable_thinking": false}; other keys
// (date_string, ...) are passed to the template too.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/goarpo/arpo/nn/chat"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/spf13/pflag"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main with its streams passed in; it returns the exit status: 0 on
// success, 2 on bad flags or bad input.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("tokenize", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("tokenizer", "", "tokenizer.json, encoder.json (GPT-2, with vocab.bpe beside it) or a folder holding one")
	decode := fs.Bool("decode", false, "read a JSON array of token ids and print their text")
	ordinary := fs.Bool("ordinary", false, "encode special-token text such as <|im_end|> as plain text")
	render := fs.Bool("render", false, "read apply_chat_template's keyword arguments as JSON and print the text the folder's chat template renders")
	maxInput := fs.Int64("max-input", 64<<20, "largest input in bytes; more is refused")
	fail := func(err error) int {
		fmt.Fprintln(stderr, "tokenize:", err)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return fail(err)
	}
	if *path == "" {
		return fail(errors.New("--tokenizer is required"))
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected arguments %q (input is read from stdin)", fs.Args()))
	}
	if *render && (*decode || *ordinary) {
		return fail(errors.New("--render cannot be combined with --decode or --ordinary"))
	}
	if *render {
		return renderChat(*path, stdin, stdout, fail)
	}
	tok, err := tokenizer.Load(*path)
	if err != nil {
		return fail(err)
	}
	if *maxInput < 0 {
		return fail(fmt.Errorf("--max-input must be >= 0, got %d", *maxInput))
	}
	in, err := io.ReadAll(io.LimitReader(stdin, *maxInput+1))
	if err != nil {
		return fail(fmt.Errorf("reading stdin: %w", err))
	}
	if int64(len(in)) > *maxInput {
		return fail(fmt.Errorf("the input is over --max-input %d bytes", *maxInput))
	}
	if *decode {
		var ids []int
		if err := json.Unmarshal(in, &ids); err != nil {
			return fail(fmt.Errorf("stdin is not a JSON array of token ids: %w", err))
		}
		for i, id := range ids {
			if _, ok := tok.DecodeToken(id); !ok {
				return fail(fmt.Errorf("id %d (at index %d) is not in the vocabulary of %d tokens", id, i, tok.VocabSize()))
			}
		}
		if _, err := stdout.Write([]byte(tok.Decode(ids))); err != nil {
			return fail(err)
		}
		return 0
	}
	var ids []int
	if *ordinary {
		ids = tok.EncodeOrdinary(string(in))
	} else {
		ids = tok.EncodeBytes(in)
	}
	if ids == nil {
		ids = []int{} // print [] rather than null
	}
	out, err := json.Marshal(ids)
	if err != nil {
		return fail(err)
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", out); err != nil {
		return fail(err)
	}
	return 0
}

// maxConversation bounds the conversation read from stdin.
const maxConversation = 64 << 20

// renderChat prints the conversation on stdin rendered by the chat template
// of the folder of path (a folder, or a file in it).
func renderChat(path string, stdin io.Reader, stdout io.Writer, fail func(error) int) int {
	dir := path
	if st, err := os.Stat(path); err != nil {
		return fail(err)
	} else if !st.IsDir() {
		dir = filepath.Dir(path)
	}
	tmpl, err := chat.Load(dir)
	if err != nil {
		return fail(err)
	}
	in, err := io.ReadAll(io.LimitReader(stdin, maxConversation+1))
	if err != nil {
		return fail(fmt.Errorf("reading stdin: %w", err))
	}
	if len(in) > maxConversation {
		return fail(fmt.Errorf("conversation on stdin is larger than %d bytes", maxConversation))
	}
	conv, err := chat.ParseConversation(in)
	if err != nil {
		return fail(fmt.Errorf("stdin: %w", err))
	}
	text, err := tmpl.Render(conv)
	if err != nil {
		return fail(err)
	}
	if _, err := io.WriteString(stdout, text); err != nil {
		return fail(err)
	}
	return 0
}
