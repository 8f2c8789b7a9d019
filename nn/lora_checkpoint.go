package nn

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn/safetensors"
)

// loraCheckpointFormat marks LoRA training checkpoints: the adapters, their
// AdamW moments, and the identity of the frozen base they were trained on,
// which is not in the file.
const loraCheckpointFormat = "arpo-lora-checkpoint-v1"

// BaseHash is the SHA-256 (hex) of the base model's weights: every base
// parameter's name, shape and float32 bits, in Params order. The same
// weights give the same hash whatever file (or dtype that widens to them)
// they came from. A bf16 base (NewBF16Base) hashes its bf16 weights widened
// to float32, exactly what a float32 model holds of the same values: loaded
// from a bf16 checkpoint, a bf16 base and a float32 one hash the same (a
// bf16 denormal, which the bf16 base holds as zero, is the one exception),
// so a LoRA checkpoint resumes on either. From an F32 or F16 checkpoint the
// bf16 base holds rounded weights, which hash differently: they are a
// different base. With LoRA attached the base is frozen, so the hash is
// computed once.
func (m *Model) BaseHash() (string, error) {
	if m.LoRA != nil && m.LoRA.baseHash != "" {
		return m.LoRA.baseHash, nil
	}
	h := sha256.New()
	buf := make([]byte, 0, 1<<18)
	for _, p := range m.Params {
		buf = append(buf[:0], p.Name...)
		buf = append(buf, 0)
		for _, d := range p.W.Shape() {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(d))
		}
		h.Write(buf)
		d, err := m.paramData(p.W)
		if err != nil {
			return "", err
		}
		for lo := 0; lo < len(d); lo += cap(buf) / 4 {
			buf = buf[:0]
			for _, v := range d[lo:min(lo+cap(buf)/4, len(d))] {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			h.Write(buf)
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if m.LoRA != nil {
		m.LoRA.baseHash = sum
	}
	return sum, nil
}

// LoRACheckpointInfo is what a LoRA checkpoint says about itself before its
// base is loaded.
type LoRACheckpointInfo struct {
	LoRA LoRAConfig
	// Base names the checkpoint or folder the base was loaded from, as the
	// run gave it (Checkpoint.Base); BaseSHA256 is its BaseHash.
	Base, BaseSHA256 string
	// BaseBF16 says the adapters were trained on a bf16 base (NewBF16Base;
	// metadata "base_storage": "bf16"): their merge is best kept in bf16.
	BaseBF16 bool
}

// ReadLoRACheckpointInfo reads a LoRA checkpoint's header; ok is false (and
// err nil) for a file that is some other checkpoint.
func ReadLoRACheckpointInfo(path string) (info LoRACheckpointInfo, ok bool, err error) {
	meta, err := safetensors.ReadMetadata(path)
	if err != nil {
		return info, false, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	if meta["format"] != loraCheckpointFormat {
		return info, false, nil
	}
	if err := json.Unmarshal([]byte(meta["lora"]), &info.LoRA); err != nil {
		return info, true, fmt.Errorf("read checkpoint %s: lora config: %w", path, err)
	}
	if err := info.LoRA.Validate(); err != nil {
		return info, true, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	info.Base, info.BaseSHA256 = meta["base"], meta["base_sha256"]
	info.BaseBF16 = meta["base_storage"] == "bf16"
	if len(info.BaseSHA256) != 64 {
		return info, true, fmt.Errorf("read checkpoint %s: bad base_sha256 %q", path, info.BaseSHA256)
	}
	return info, true, nil
}

// saveLoRA is Save for a model with LoRA attached: the adapters under their
// names, their moments under "optim.m.NAME" and "optim.v.NAME", and in the
// metadata the LoRA config, the base's name (c.Base) and hash, the
// optimizer's hyper-parameters and step, the RNG state and the run record.
func (c Checkpoint) saveLoRA(path string) error {
	m := c.Model
	hash, err := m.BaseHash()
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	ts := map[string]safetensors.Tensor{}
	for _, p := range m.LoRA.Params {
		d, err := p.W.Data()
		if err != nil {
			return fmt.Errorf("save checkpoint: %w", err)
		}
		ts[p.Name] = safetensors.Tensor{Shape: slices.Clone(p.W.Shape()), Data: d}
	}
	if err := c.addMoments(ts); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	lc, err := json.Marshal(m.LoRA.Cfg)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	meta, err := c.meta(loraCheckpointFormat)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	meta["lora"], meta["base"], meta["base_sha256"] = string(lc), c.Base, hash
	if m.BF16Base() {
		meta["base_storage"] = "bf16"
	}
	if err := safetensors.WriteFile(path, ts, meta); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// LoadLoRACheckpoint reads a LoRA checkpoint written by Save onto base, the
// model it was trained on: it refuses a base whose BaseHash differs from
// the one recorded, then attaches the adapters to base (freezing it) and
// restores them with the optimizer and RNG states. On an error after the
// hash check base has no adapters again but stays frozen (no gradients).
func LoadLoRACheckpoint(path string, base *Model) (Checkpoint, error) {
	fail := func(err error) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("load checkpoint %s: %w", path, err)
	}
	info, ok, err := ReadLoRACheckpointInfo(path)
	if err != nil {
		return Checkpoint{}, err
	}
	if !ok {
		return fail(fmt.Errorf("not a LoRA checkpoint (want format %q)", loraCheckpointFormat))
	}
	if base.LoRA != nil {
		return fail(fmt.Errorf("the base model already has adapters"))
	}
	hash, err := base.BaseHash()
	if err != nil {
		return fail(err)
	}
	if hash != info.BaseSHA256 {
		return fail(fmt.Errorf("the base model's weights (sha256 %.12s) are not the ones the adapters were trained on (%s, sha256 %.12s)", hash, info.Base, info.BaseSHA256))
	}
	meta, err := safetensors.ReadMetadata(path)
	if err != nil {
		return fail(err)
	}
	hp, step, ts, err := readTrainingState(path, meta)
	if err != nil {
		return fail(err)
	}
	if err := base.AttachLoRA(info.LoRA, 0); err != nil {
		return fail(err)
	}
	ck := Checkpoint{Model: base, Base: info.Base, Run: meta["run"]}
	// From here a failure detaches the adapters again.
	detach := func(err error) (Checkpoint, error) {
		if ck.Opt != nil {
			ck.Opt.Free()
		}
		base.DetachLoRA()
		return fail(err)
	}
	base.LoRA.baseHash = hash
	for _, p := range base.LoRA.Params {
		t, ok := ts[p.Name]
		if !ok || !slices.Equal(t.Shape, p.W.Shape()) {
			return detach(fmt.Errorf("missing or misshapen adapter %s (want shape %v)", p.Name, p.W.Shape()))
		}
		p.W.Set(t.Data)
	}
	if n := len(ts) - 3*len(base.LoRA.Params); n != 0 {
		return detach(fmt.Errorf("%d tensors besides the adapters and their moments", n))
	}
	if ck.Opt, err = NewAdamW(base, hp); err != nil {
		return detach(err)
	}
	ck.Opt.Step = step
	err = ck.restoreMoments(ts, base.B)
	if err == nil {
		ck.RNG, err = parseRNG(meta)
	}
	if err != nil {
		return detach(err)
	}
	return ck, nil
}

// addMoments adds the optimizer's moments of every trainable parameter to
// ts, as "optim.m.NAME" and "optim.v.NAME".
func (c Checkpoint) addMoments(ts map[string]safetensors.Tensor) error {
	params, w, _ := c.Model.Trainable()
	var mv [2][]float32
	var err error
	if mv[0], err = c.Opt.M.Data(); err != nil {
		return err
	}
	if mv[1], err = c.Opt.V.Data(); err != nil {
		return err
	}
	for _, p := range params {
		off := p.W.View().Off - w.View().Off
		ts["optim.m."+p.Name] = safetensors.Tensor{Shape: slices.Clone(p.W.Shape()), Data: mv[0][off : off+p.W.Len()]}
		ts["optim.v."+p.Name] = safetensors.Tensor{Shape: slices.Clone(p.W.Shape()), Data: mv[1][off : off+p.W.Len()]}
	}
	return nil
}

// restoreMoments writes the moments addMoments saved into c.Opt.
func (c Checkpoint) restoreMoments(ts map[string]safetensors.Tensor, b backend.Backend) error {
	params, w, _ := c.Model.Trainable()
	for _, p := range params {
		off := p.W.View().Off - w.View().Off
		for _, kv := range []struct {
			prefix string
			dst    backend.View
		}{{"optim.m.", c.Opt.M.View().At(off)}, {"optim.v.", c.Opt.V.View().At(off)}} {
			t, ok := ts[kv.prefix+p.Name]
			if !ok || len(t.Data) != p.W.Len() {
				return fmt.Errorf("missing or misshapen %s%s", kv.prefix, p.Name)
			}
			if kv.prefix == "optim.v." && slices.ContainsFunc(t.Data, func(v float32) bool { return v < 0 }) {
				return fmt.Errorf("tensor %s%s holds a negative second moment (corrupt optimizer state)", kv.prefix, p.Name)
			}
			b.Write(kv.dst, t.Data)
		}
	}
	return nil
}

// meta is the metadata every checkpoint has: format, config, optimizer
// hyper-parameters and step, run record and RNG state.
func (c Checkpoint) meta(format string) (map[string]string, error) {
	hp, err := json.Marshal(c.Opt.Cfg)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{
		"format": format,
		"config": string(c.Model.Cfg.HFJSON()),
		"adamw":  string(hp),
		"step":   strconv.Itoa(c.Opt.Step),
	}
	if c.Run != "" {
		meta["run"] = c.Run
	}
	if c.RNG != nil {
		st, err := c.RNG.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("rng: %w", err)
		}
		meta["rng"] = base64.StdEncoding.EncodeToString(st)
	}
	return meta, nil
}

// parseRNG restores the RNG state meta holds, or returns nil without one.
func parseRNG(meta map[string]string) (*rand.PCG, error) {
	s, ok := meta["rng"]
	if !ok {
		return nil, nil
	}
	st, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("rng state: %w", err)
	}
	r := new(rand.PCG)
	if err := r.UnmarshalBinary(st); err != nil {
		return nil, fmt.Errorf("rng state: %w", err)
	}
	return r, nil
}
