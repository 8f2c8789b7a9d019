package run

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/goarpo/arpo/internal/atomicfile"
	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/internal/faultinject"
	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/safetensors"
	"github.com/goarpo/arpo/rl"
)

// A run folder's checkpoint and its state are one unit (docs/DESIGN.md,
// "Crash consistency"): checkpoints/latest.safetensors carries its own
// position in its metadata, and state.json, written after it, names that
// position, the checkpoint's SHA-256 and the tokenizer's. Resume trusts
// the pair when the hash matches, rolls state.json forward when the
// checkpoint is newer (the process died between the two writes), and
// refuses anything else.

// position is where a run stands: the phase, the steps done in it and
// what the trainer carries from step to step besides the model and the
// optimizer. It is saved inside the checkpoint, so it must hold everything
// a resumed run needs to continue bit for bit.
type position struct {
	Phase   string `json:"phase"` // "sft", "rl" or "done"
	SFTStep int    `json:"sft_step"`
	RLStep  int    `json:"rl_step"`
	// DeltaH is the trainer's running spread of entropy rises, which
	// calibrated branching reads: restored so a resumed run branches alike.
	DeltaH rl.DeltaHStats `json:"delta_h"`
	// Config is configIdentity of the run's config: a checkpoint of another
	// run, or a config.json edited since, does not match it.
	Config string `json:"config_sha256"`
}

// configIdentity is the SHA-256 of what in c decides the run's numbers:
// the config without the flags a resume may change (see resumable) and
// without --out, so that runs of one config in two folders agree bit for
// bit, checkpoints included.
func configIdentity(c Config) string {
	// The config's JSON keys are its flag names, so resumable itself says
	// what to leave out: a flag added there cannot be forgotten here.
	raw, err := json.Marshal(c)
	if err != nil {
		panic(err) // a Config always marshals
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		panic(err)
	}
	for name := range resumable {
		delete(fields, name)
	}
	delete(fields, "out")
	b, err := json.Marshal(fields) // map keys marshal sorted: a stable identity
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// state is state.json: the position of checkpoints/latest.safetensors and
// the hashes that tie the folder's files to it.
type state struct {
	position
	// Checkpoint is the SHA-256 of checkpoints/latest.safetensors as it
	// was written at this position.
	Checkpoint string `json:"checkpoint_sha256"`
	// Tokenizer is the SHA-256 of tokenizer.json, fixed when the run
	// starts.
	Tokenizer string `json:"tokenizer_sha256"`
	// SFT is the SHA-256 of checkpoints/sft.safetensors, the KL reference,
	// once SFT has ended; empty before and in runs from --model.
	SFT string `json:"sft_sha256,omitempty"`
}

// phaseOrder ranks the phases in the order a run goes through them.
var phaseOrder = map[string]int{"sft": 0, "rl": 1, "done": 2}

// at is the step of the current phase, for messages.
func (p position) at() string {
	if p.Phase == "sft" {
		return fmt.Sprintf("sft step %d", p.SFTStep)
	}
	return fmt.Sprintf("%s step %d", p.Phase, p.RLStep)
}

// after reports whether p comes later in a run than q.
func (p position) after(q position) bool {
	if p.Phase != q.Phase {
		return phaseOrder[p.Phase] > phaseOrder[q.Phase]
	}
	if p.SFTStep != q.SFTStep {
		return p.SFTStep > q.SFTStep
	}
	return p.RLStep > q.RLStep
}

// check refuses a position no run of c can be at. The identity is checked
// apart, for its own message.
func (p position) check(c Config) error {
	if _, ok := phaseOrder[p.Phase]; !ok {
		return fmt.Errorf("phase %q (want sft, rl or done)", p.Phase)
	}
	if p.SFTStep < 0 || p.RLStep < 0 {
		return fmt.Errorf("negative step (sft_step %d, rl_step %d)", p.SFTStep, p.RLStep)
	}
	if p.SFTStep > c.SFTSteps && c.Model == "" {
		return fmt.Errorf("sft_step %d is beyond the run's --sft-steps %d", p.SFTStep, c.SFTSteps)
	}
	if p.Phase == "sft" && p.RLStep != 0 {
		return fmt.Errorf("rl_step %d in phase sft", p.RLStep)
	}
	if p.Phase != "sft" && c.Model == "" && p.SFTStep != c.SFTSteps {
		return fmt.Errorf("phase %s after only %d of %d SFT steps", p.Phase, p.SFTStep, c.SFTSteps)
	}
	return nil
}

// readState reads state.json strictly: unknown or missing fields are a
// damaged file, not a fresh run.
func readState(path string) (state, error) {
	var st state
	data, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	if st.Checkpoint == "" || st.Tokenizer == "" {
		return st, fmt.Errorf("%s: no checkpoint_sha256 or tokenizer_sha256 (written by an older version, or damaged)", path)
	}
	return st, nil
}

// fileSHA256 is the hex SHA-256 of a file's contents.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkpointPosition reads the position a checkpoint recorded when it was
// written.
func checkpointPosition(path string) (position, error) {
	var p position
	meta, err := safetensors.ReadMetadata(path)
	if err != nil {
		return p, err
	}
	raw, ok := meta["run"]
	if !ok {
		return p, fmt.Errorf("%s records no run position (not written by this version of train)", path)
	}
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return p, fmt.Errorf("%s: run position: %w", path, err)
	}
	return p, nil
}

// save writes the unit: the logs made durable up to now, then the latest
// checkpoint with its position inside, then state.json naming the
// checkpoint's hash. A crash before the checkpoint's rename leaves the old
// unit; one after it leaves a checkpoint newer than state.json, which
// reconcile rolls forward.
func (j *job) save() error {
	if j.log != nil {
		if err := j.log.Sync(); err != nil {
			return err
		}
	}
	run, err := json.Marshal(j.st.position)
	if err != nil {
		return err
	}
	path := j.ckpt("latest")
	if err := (nn.Checkpoint{Model: j.model, Opt: j.opt, Run: string(run), Base: j.loraBase()}).Save(path); err != nil {
		return err
	}
	faultinject.At("state-write")
	if j.st.Checkpoint, err = fileSHA256(path); err != nil {
		return err
	}
	return runlog.WriteJSON(filepath.Join(j.dir, "state.json"), j.st)
}

// startState records the tokenizer's hash and the run's first unit, so that
// a run killed at any later moment can be resumed.
func (j *job) startState() error {
	j.st.Config = configIdentity(j.c)
	var err error
	if j.st.Tokenizer, err = fileSHA256(filepath.Join(j.dir, "tokenizer.json")); err != nil {
		return err
	}
	return j.save()
}

// openState locks the run folder and brings it to a consistent unit: it
// removes temporary files of interrupted writes, checks state.json against
// the checkpoint and the tokenizer, and cuts the logs back to the
// checkpoint's steps. Every refusal is one line naming the file.
func (j *job) openState(c Config) error {
	lock, err := runlog.LockDir(j.dir)
	if err != nil {
		return exitcode.Usagef("--resume: %v", err)
	}
	j.lock = lock
	for _, d := range []string{j.dir, filepath.Join(j.dir, "checkpoints"), filepath.Join(j.dir, "samples")} {
		if _, err := atomicfile.RemoveStale(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	statePath := filepath.Join(j.dir, "state.json")
	if !fileExists(statePath) {
		return exitcode.Usagef("--resume: %s has no state.json: it was stopped while being set up, before its first checkpoint; nothing is lost, so remove it and start again", j.dir)
	}
	st, err := readState(statePath)
	if err != nil {
		return exitcode.Usagef("--resume: %v", err)
	}
	if err := st.check(c); err != nil {
		return exitcode.Usagef("--resume: %s: %v", statePath, err)
	}
	if st.Config != configIdentity(c) {
		return exitcode.Usagef("--resume: %s changed since the run started (beyond the flags a resume may change), or state.json belongs to another run",
			filepath.Join(j.dir, "config.json"))
	}
	tok, err := fileSHA256(filepath.Join(j.dir, "tokenizer.json"))
	if err != nil {
		return exitcode.Usagef("--resume: %v", err)
	}
	if tok != st.Tokenizer {
		return exitcode.Usagef("--resume: %s changed since the run started (sha256 %.12s, state.json says %.12s): the checkpoints were trained with another one",
			filepath.Join(j.dir, "tokenizer.json"), tok, st.Tokenizer)
	}
	ckPath := j.ckpt("latest")
	if !fileExists(ckPath) {
		return exitcode.Usagef("--resume: %s is missing (state.json is at %s)", ckPath, st.at())
	}
	ck, err := fileSHA256(ckPath)
	if err != nil {
		return exitcode.Usagef("--resume: %v", err)
	}
	ckPos, err := checkpointPosition(ckPath)
	if err != nil {
		return exitcode.Usagef("--resume: %v", err)
	}
	switch {
	case ck == st.Checkpoint && ckPos == st.position:
	case ckPos.Config != st.Config:
		return exitcode.Usagef("--resume: %s is a checkpoint of another run (its config differs)", ckPath)
	case ck != st.Checkpoint && ckPos.after(st.position):
		// Killed after the checkpoint's rename, before state.json's: the
		// checkpoint is complete (it was renamed into place whole) and
		// says where it stands, so the run continues from it.
		if err := ckPos.check(c); err != nil {
			return exitcode.Usagef("--resume: %s: %v", ckPath, err)
		}
		j.printf("%-10s %s is at %s, state.json at %s: the run stopped between the two writes; continuing from the checkpoint\n",
			"resume", ckPath, ckPos.at(), st.at())
		st.position, st.Checkpoint = ckPos, ck
		if ckPos.Phase != "sft" && c.Model == "" && st.SFT == "" {
			// SFT ended in the killed process: sft.safetensors was
			// complete before the checkpoint that follows it was written.
			if st.SFT, err = fileSHA256(j.ckpt("sft")); err != nil {
				return exitcode.Usagef("--resume: %v", err)
			}
		}
		if err := runlog.WriteJSON(statePath, st); err != nil {
			return err
		}
	case ck == st.Checkpoint:
		return exitcode.Usagef("--resume: %s records %s but state.json says %s (damaged)", ckPath, ckPos.at(), st.at())
	default:
		return exitcode.Usagef("--resume: %s (at %s) is not the checkpoint state.json names (at %s): sha256 %.12s, want %.12s; it was replaced or damaged",
			ckPath, ckPos.at(), st.at(), ck, st.Checkpoint)
	}
	j.st = st
	// Steps after the checkpoint ran in the killed process and will run
	// again; a half-written line is dropped with them.
	for _, l := range []struct {
		name string
		last int
	}{{"sft.jsonl", st.SFTStep}, {"metrics.jsonl", st.RLStep}, {"evals.jsonl", st.RLStep}} {
		if _, err := runlog.TruncateJSONL(filepath.Join(j.dir, l.name), runlog.StepsUpTo(l.last)); err != nil {
			return err
		}
	}
	return nil
}

// checkSFT checks checkpoints/sft.safetensors against the hash
// state.json recorded when SFT ended, before it is loaded as the KL term's
// reference.
func (j *job) checkSFT() error {
	got, err := fileSHA256(j.ckpt("sft"))
	if err != nil {
		return err
	}
	if got != j.st.SFT {
		return exitcode.Usagef("%s is not the SFT model this run trained (sha256 %.12s, state.json says %.12s): it was replaced or damaged",
			j.ckpt("sft"), got, j.st.SFT)
	}
	return nil
}

// logEval appends rec to evals.jsonl unless the log has its tag already: a
// resumed run reads an earlier evaluation back and must log it once.
func (j *job) logEval(rec evalRecord) error {
	path := filepath.Join(j.dir, "evals.jsonl")
	have, err := runlog.ReadJSONL[evalRecord](path)
	if err != nil {
		return err
	}
	for _, e := range have {
		if e.Tag == rec.Tag {
			return nil
		}
	}
	log, err := runlog.OpenJSONL(path)
	if err != nil {
		return err
	}
	if err := log.Add(rec); err != nil {
		log.Close()
		return err
	}
	return log.Close()
}
