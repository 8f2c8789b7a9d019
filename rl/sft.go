package rl

import (
	"fmt"
	"math/rand/v2"

	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/tasks"
)

// RenderPrompt returns the tokens of a ChatML prompt that ends where the
// assistant's reply begins:
//
//	<|im_start|>system\n{system}<|im_end|>\n   (when system is not empty)
//	<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n
func RenderPrompt(tok Tokenizer, system, question string) []int32 {
	s := ""
	if system != "" {
		s = "<|im_start|>system\n" + system + "<|im_end|>\n"
	}
	s += "<|im_start|>user\n" + question + "<|im_end|>\n<|im_start|>assistant\n"
	return tok.Encode(s)
}

// SFTExample is one supervised sequence: Tokens (T) and Mask (T), 1 for
// the tokens the policy must learn to write.
type SFTExample struct {
	Tokens []int32
	Mask   []float32
}

// NewSFTExample joins a prompt and a gold response. The response's own text
// is in the loss; its tool results are observations and are not, and they
// are tokenised exactly as a rollout inserts them.
func NewSFTExample(tok Tokenizer, prompt []int32, gold string) SFTExample {
	ex := SFTExample{Tokens: append([]int32(nil), prompt...), Mask: make([]float32, len(prompt))}
	for _, seg := range tasks.SplitResults(gold) {
		var ids []int32
		var m float32
		if seg.Result {
			ids = tok.EncodeResult(seg.Text)
		} else {
			ids, m = tok.Encode(seg.Text), 1
		}
		ex.Tokens = append(ex.Tokens, ids...)
		for range ids {
			ex.Mask = append(ex.Mask, m)
		}
	}
	return ex
}

// SFTConfig sets up supervised fine-tuning.
type SFTConfig struct {
	BatchSeqs   int // sequences per optimizer step, e.g. 32
	MicroTokens int // most tokens per forward (gradient accumulation), e.g. 4096
	Seed        uint64
}

// SFT runs supervised steps over a fixed set of examples in seeded shuffled
// epochs. Epoch e's order is a permutation drawn from (Seed, e), and the
// position in the data is a function of the optimizer's step count, so a run
// resumed from a checkpoint sees exactly the batches it would have seen.
type SFT struct {
	Model *nn.Model
	Opt   *nn.AdamW
	Data  []SFTExample
	Cfg   SFTConfig
	epoch int
	order []int
}

// NewSFT returns a trainer; the data order comes from cfg.Seed.
func NewSFT(m *nn.Model, opt *nn.AdamW, data []SFTExample, cfg SFTConfig) (*SFT, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("sft: no training examples")
	}
	if cfg.BatchSeqs < 1 || cfg.MicroTokens < 1 {
		return nil, fmt.Errorf("sft: batch of %d sequences and %d tokens per micro-batch", cfg.BatchSeqs, cfg.MicroTokens)
	}
	for i, ex := range data {
		if len(ex.Tokens) != len(ex.Mask) || len(ex.Tokens) < 2 {
			return nil, fmt.Errorf("sft: example %d has %d tokens and %d mask values", i, len(ex.Tokens), len(ex.Mask))
		}
		if m.Cfg.MaxPositionEmbeddings > 0 && len(ex.Tokens) > m.Cfg.MaxPositionEmbeddings {
			return nil, fmt.Errorf("sft: example %d has %d tokens, more than the model's %d positions", i, len(ex.Tokens), m.Cfg.MaxPositionEmbeddings)
		}
	}
	return &SFT{Model: m, Opt: opt, Data: data, Cfg: cfg, epoch: -1}, nil
}

// batch returns the indices of the examples of the step that follows
// optimizer step `done`.
func (s *SFT) batch(done int) []int {
	out := make([]int, 0, s.Cfg.BatchSeqs)
	for k := done * s.Cfg.BatchSeqs; len(out) < s.Cfg.BatchSeqs; k++ {
		if e := k / len(s.Data); e != s.epoch {
			s.epoch = e
			s.order = rand.New(rand.NewPCG(s.Cfg.Seed, uint64(e))).Perm(len(s.Data))
		}
		out = append(out, s.order[k%len(s.Data)])
	}
	return out
}

// Step takes one optimizer step and returns the token-mean loss and the
// number of tokens it trained on.
func (s *SFT) Step() (float32, nn.StepInfo, int, error) {
	var micro []nn.Batch
	var cur nn.Batch
	tokens := 0
	for _, i := range s.batch(s.Opt.Step) {
		ex := s.Data[i]
		if len(cur.Tokens) > 0 && len(cur.Tokens)+len(ex.Tokens) > s.Cfg.MicroTokens {
			micro = append(micro, cur)
			cur = nn.Batch{}
		}
		cur.Tokens = append(cur.Tokens, ex.Tokens...)
		cur.Lens = append(cur.Lens, len(ex.Tokens))
		// nn.Batch's mask weights the prediction of token r+1 from row r.
		cur.Mask = append(cur.Mask, ex.Mask[1:]...)
		cur.Mask = append(cur.Mask, 0)
		tokens += len(ex.Tokens)
	}
	micro = append(micro, cur)
	loss, info, err := nn.TrainStep(s.Model, s.Opt, micro)
	return loss, info, tokens, err
}
