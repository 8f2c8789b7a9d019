package tokenizer

import "strings"

// Message is one turn of a conversation.
type Message struct {
	Role    string // "system", "user", "assistant" or "tool"
	Content string
}

// ChatOptions says how to end a ChatML prompt.
type ChatOptions struct {
	// AddGenerationPrompt opens an assistant turn for the model to complete.
	AddGenerationPrompt bool
	// NoThinking appends an empty "<think>\n\n</think>\n\n" block after the
	// generation prompt: Qwen3's switch for answering without reasoning.
	NoThinking bool
}

// ChatML renders messages in the ChatML format of Qwen-style models:
//
//	<|im_start|>system
//	You are helpful.<|im_end|>
//	<|im_start|>user
//	Hi<|im_end|>
//	<|im_start|>assistant
//
// It is the core of Qwen's chat template (and exactly the template Save
// writes for our tokenizers); Qwen3's own template also moves tool
// messages into user turns and strips reasoning from earlier assistant
// turns, which callers that need it do themselves. Encode the result with
// Encode, which turns the markers into their special tokens; contents that
// hold such markers are not escaped, as in the reference.
func ChatML(messages []Message, opts ChatOptions) string {
	var b strings.Builder
	for _, m := range messages {
		b.WriteString("<|im_start|>")
		b.WriteString(m.Role)
		b.WriteByte('\n')
		b.WriteString(m.Content)
		b.WriteString("<|im_end|>\n")
	}
	if opts.AddGenerationPrompt {
		b.WriteString("<|im_start|>assistant\n")
		if opts.NoThinking {
			b.WriteString("<think>\n\n</think>\n\n")
		}
	}
	return b.String()
}

// EncodeChat returns the token ids of the ChatML rendering of messages.
func (t *Tokenizer) EncodeChat(messages []Message, opts ChatOptions) []int {
	return t.Encode(ChatML(messages, opts))
}
