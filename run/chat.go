package run

import (
	"path/filepath"

	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/nn/load"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/goarpo/arpo/tasks"
)

// promptFormat sets how the run renders prompts. A model trained here (or
// a checkpoint of one) learnt ChatML and the turn format from the
// demonstrations: no template, no system prompt. A Hugging Face model
// (hfDir, the folder --model names) is asked in its own chat template
// (tokenizer_config.json's chat_template; ChatML when the folder has none)
// with the paper's system prompt, which teaches the tag protocol (<think>,
// <search>, <python>, <result>, <answer> with \boxed{}). The template's
// end-of-turn tokens end a rollout (load.EOSIDs, in setup). A folder
// exported from a run here (its template is our ChatML,
// tokenizer.ChatMLTemplate) holds a model trained here, prompted as it was
// trained.
func (j *job) promptFormat(hfDir string) error {
	j.td.system, j.td.tmpl = "", nil
	if hfDir == "" {
		return nil
	}
	t, err := load.ChatTemplate(filepath.Join(hfDir, "tokenizer_config.json"))
	if err != nil {
		return exitcode.Usagef("--model: %v", err)
	}
	if t != nil && t.Source == tokenizer.ChatMLTemplate {
		j.printf("%-10s ChatML without a system prompt, as the exported run was trained\n", "prompt")
		return nil
	}
	j.td.system = tasks.SystemPrompt
	if t == nil {
		j.printf("%-10s %s has no chat template: prompts are ChatML\n", "prompt", hfDir)
		return nil
	}
	j.td.tmpl = t
	j.printf("%-10s the model's chat template, the paper's system prompt\n", "prompt")
	return nil
}
