package main

import (
	"errors"
	"slices"

	"github.com/goarpo/arpo/nn/chat"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/goarpo/arpo/tasks"
)

// promptFormat sets how the run renders prompts. A model trained here (or
// a checkpoint of one) learnt ChatML and the turn format from the
// demonstrations: no template, no system prompt. A Hugging Face --model is
// asked in its own chat template (tokenizer_config.json's chat_template,
// ChatML when the folder has none), with the paper's system prompt, which
// teaches the tag protocol (<think>, <search>, <python>, <result>,
// <answer> with \boxed{}).
func (j *job) promptFormat() error {
	j.td.system, j.td.tmpl = "", nil
	if j.c.Model == "" || !isHF(j.c.Model) {
		return nil
	}
	j.td.system = tasks.SystemPrompt
	t, err := chat.Load(j.c.Model)
	switch {
	case errors.Is(err, chat.ErrNoTemplate):
		j.printf("%-10s %s has no chat template: prompts are ChatML\n", "prompt", j.c.Model)
		return nil
	case err != nil:
		return badInput("--model: %v", err)
	}
	j.td.tmpl = t
	j.printf("%-10s the model's chat template, the paper's system prompt\n", "prompt")
	return nil
}

// withEndOfTurn adds to eos the tokens that end an assistant turn in tmpl
// (Llama 3's <|eot_id|>, ...), so that a rollout stops where the model's
// own format ends a reply.
func withEndOfTurn(eos []int32, tok *tokenizer.Tokenizer, tmpl *chat.Template) []int32 {
	if tmpl == nil {
		return eos
	}
	for _, id := range tmpl.EndOfTurnIDs(tok.TokenID) {
		if !slices.Contains(eos, int32(id)) {
			eos = append(eos, int32(id))
		}
	}
	return eos
}
