package rl

import (
	"github.com/goarpo/arpo/nn/chat"
)

// PromptMessages returns the conversation that asks a question: a system
// turn when system is not empty (tasks.SystemPrompt teaches a pretrained
// model the tag protocol), then the question as the user's turn.
func PromptMessages(system, question string) []chat.Message {
	var msgs []chat.Message
	if system != "" {
		msgs = append(msgs, chat.Message{Role: "system", Content: system})
	}
	return append(msgs, chat.Message{Role: "user", Content: question})
}

// RenderChatPrompt returns the tokens of a question's prompt, ending where
// the assistant's reply begins. With a model's chat template (tmpl not nil)
// the conversation of PromptMessages is rendered by it with a generation
// prompt, thinking setting Qwen3's enable_thinking; the text is encoded
// with special tokens recognised, as apply_chat_template(tokenize=True)
// does. With tmpl nil it is RenderPrompt's ChatML, the format models
// trained here learnt, and thinking is ignored.
func RenderChatPrompt(tok Tokenizer, tmpl *chat.Template, thinking chat.Thinking, system, question string) ([]int32, error) {
	if tmpl == nil {
		return RenderPrompt(tok, system, question), nil
	}
	text, err := tmpl.Render(chat.Conversation{
		Messages:            PromptMessages(system, question),
		AddGenerationPrompt: true,
		EnableThinking:      thinking.Enable(),
	})
	if err != nil {
		return nil, err
	}
	return tok.Encode(text), nil
}
