package nn

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn/safetensors"
)

// checkpointFormat marks training checkpoints in the safetensors metadata.
const checkpointFormat = "arpo-train-checkpoint-v1"

// Checkpoint is everything a training run needs to continue bitwise as if it
// had never stopped: the model (weights and config), the optimizer (moments,
// hyper-parameters, step) and the state of the run's random generator.
type Checkpoint struct {
	Model *Model
	Opt   *AdamW
	// RNG is the run's random source (data order, sampling); may be nil.
	RNG *rand.PCG
	// Run is the caller's record of where its run stood when it wrote the
	// checkpoint (cmd/train: a JSON state), kept in the metadata under
	// "run" so that the checkpoint and that record cannot be separated by
	// a crash; may be empty.
	Run string
	// Base names the checkpoint or folder a LoRA model's frozen base came
	// from, kept in a LoRA checkpoint beside the base's hash (the base's
	// weights are not in it); unused without LoRA.
	Base string
}

// Save writes the checkpoint to one safetensors file, atomically: weights
// under their Hugging Face names (so the file also loads as model weights),
// moments under "optim.m.NAME" and "optim.v.NAME", and in the metadata the
// config, the optimizer's hyper-parameters and step, and the RNG state.
// With LoRA attached it holds the adapters instead of the weights, and the
// base's name and hash (see LoadLoRACheckpoint).
func (c Checkpoint) Save(path string) error {
	if c.Model.LoRA != nil {
		return c.saveLoRA(path)
	}
	if err := c.Model.refuseBF16Base("a full training checkpoint"); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	ts, err := c.Model.Weights()
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := c.addMoments(ts); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	meta, err := c.meta(checkpointFormat)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := safetensors.WriteFile(path, ts, meta); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// LoadCheckpoint reads a checkpoint written by Save onto b.
func LoadCheckpoint(path string, b backend.Backend) (Checkpoint, error) {
	fail := func(err error) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("load checkpoint %s: %w", path, err)
	}
	meta, err := safetensors.ReadMetadata(path)
	if err != nil {
		return fail(err)
	}
	if meta["format"] == loraCheckpointFormat {
		return fail(fmt.Errorf("a LoRA checkpoint (adapters only): load its base %q and the adapters onto it", meta["base"]))
	}
	if meta["format"] != checkpointFormat {
		return fail(fmt.Errorf("format %q, want %q", meta["format"], checkpointFormat))
	}
	cfg, err := ParseConfig([]byte(meta["config"]))
	if err != nil {
		return fail(err)
	}
	hp, step, ts, err := readTrainingState(path, meta)
	if err != nil {
		return fail(err)
	}
	m, err := New(cfg, b)
	if err != nil {
		return fail(err)
	}
	weights := map[string]safetensors.Tensor{}
	for name, t := range ts {
		if !isOptimName(name) {
			weights[name] = t
		}
	}
	if err := m.SetWeights(weights); err != nil {
		m.Free()
		return fail(err)
	}
	opt, err := NewAdamW(m, hp)
	if err != nil {
		m.Free()
		return fail(err)
	}
	opt.Step = step
	ck := Checkpoint{Model: m, Opt: opt, Run: meta["run"]}
	err = ck.restoreMoments(ts, b)
	if err == nil {
		ck.RNG, err = parseRNG(meta)
	}
	if err != nil {
		m.Free()
		opt.Free()
		return fail(err)
	}
	return ck, nil
}

// readTrainingState reads what every checkpoint (full or LoRA) holds beyond
// its format and model: the optimizer's hyper-parameters and step from the
// metadata, and the tensors. Save writes F32 only, so any other dtype is a
// changed header; a NaN or an infinity is a corrupt file or a run that had
// diverged (checkTensor). Negative second moments are refused where the
// moments are restored (restoreMoments).
func readTrainingState(path string, meta map[string]string) (AdamWConfig, int, map[string]safetensors.Tensor, error) {
	var hp AdamWConfig
	if err := json.Unmarshal([]byte(meta["adamw"]), &hp); err != nil {
		return hp, 0, nil, fmt.Errorf("adamw: %w", err)
	}
	step, err := strconv.Atoi(meta["step"])
	if err != nil || step < 0 {
		return hp, 0, nil, fmt.Errorf("bad step %q", meta["step"])
	}
	ts, err := safetensors.ReadFile(path)
	if err != nil {
		return hp, 0, nil, err
	}
	for name, t := range ts {
		if err := checkTensor(name, t, "F32"); err != nil {
			return hp, 0, nil, err
		}
	}
	return hp, step, ts, nil
}

func isOptimName(name string) bool {
	return len(name) > 8 && (name[:8] == "optim.m." || name[:8] == "optim.v.")
}
