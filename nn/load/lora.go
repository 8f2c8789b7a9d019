package load

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn"
)

// A LoRA checkpoint (nn.Checkpoint.Save of a model with adapters) holds the
// adapters and names its base (a checkpoint or Hugging Face folder) with the
// base's weight hash. Load loads the base, checks the hash, and returns the
// model with the adapters merged into its weights (nn.Model.MergeLoRA), so
// that evaluation, generation and export run it as any other model;
// LoadAdapters keeps them apart (PEFT export).

// loraBase returns what the LoRA checkpoint at path names as its base, or
// ok false for any other checkpoint.
func loraBase(path string) (base Found, info nn.LoRACheckpointInfo, ok bool, err error) {
	info, ok, err = nn.ReadLoRACheckpointInfo(path)
	if err != nil || !ok {
		return Found{}, info, ok, err
	}
	if info.Base == "" {
		return Found{}, info, true, fmt.Errorf("%s is a LoRA checkpoint that does not name its base model", path)
	}
	if base, err = Resolve(info.Base); err != nil {
		return Found{}, info, true, fmt.Errorf("the base model of LoRA checkpoint %s: %w", path, describe(err))
	}
	if base.Kind != HF {
		if _, _, nested, _ := loraBase(base.Weights[0]); nested {
			return Found{}, info, true, fmt.Errorf("the base model of LoRA checkpoint %s is itself a LoRA checkpoint (%s)", path, info.Base)
		}
	}
	return base, info, true, nil
}

// loadLoRA loads the base of the LoRA checkpoint at path (as a bf16 base
// when bf16Base) and the adapters onto it.
func loadLoRA(path string, base Found, b backend.Backend, bf16Base bool) (*nn.Model, error) {
	m, err := loadWeights(base, b, bf16Base, false)
	if err != nil {
		return nil, fmt.Errorf("the base model of LoRA checkpoint %s: %w", path, err)
	}
	ck, err := nn.LoadLoRACheckpoint(path, m)
	if err != nil {
		m.Free()
		return nil, err
	}
	ck.Opt.Free()
	return m, nil
}

// LoadAdapters loads a LoRA run folder or checkpoint (see Resolve) with its
// adapters attached, not merged, and says what its checkpoint records of
// the base.
func LoadAdapters(path string, b backend.Backend) (*nn.Model, nn.LoRACheckpointInfo, error) {
	fail := func(err error) (*nn.Model, nn.LoRACheckpointInfo, error) {
		return nil, nn.LoRACheckpointInfo{}, oneLine(fmt.Errorf("--model %s: %w", path, describe(err)))
	}
	f, err := Resolve(path)
	if err != nil {
		return fail(err)
	}
	if f.IsHF() {
		return fail(fmt.Errorf("a Hugging Face folder, not a LoRA checkpoint"))
	}
	base, info, ok, err := loraBase(f.Weights[0])
	if err == nil && !ok {
		err = fmt.Errorf("%s is not a LoRA checkpoint", f.Weights[0])
	}
	if err == nil {
		err = check(base, false)
	}
	if err != nil {
		return fail(err)
	}
	m, err := loadLoRA(f.Weights[0], base, b, false)
	if err != nil {
		return fail(err)
	}
	return m, info, nil
}

// TrainedOnBF16Base reports whether path (see Resolve) is a LoRA run or
// checkpoint whose adapters were trained on a bf16 base
// (nn.LoRACheckpointInfo.BaseBF16) stored losslessly as BF16: loaded with
// Options.BF16Base, its merge is then the bf16 one it rolled out with.
func TrainedOnBF16Base(path string) (bool, error) {
	f, err := Resolve(path)
	if err != nil || f.IsHF() {
		return false, err
	}
	base, info, ok, err := loraBase(f.Weights[0])
	if err != nil || !ok || !info.BaseBF16 {
		return false, err
	}
	return LosslessBF16(base)
}
