package load

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/internal/sysmem"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/chat"
	"github.com/goarpo/arpo/nn/safetensors"
	"github.com/goarpo/arpo/nn/tokenizer"
)

// Options say how to load a model.
type Options struct {
	// Backend receives the weights. Required.
	Backend backend.Backend
	// Tokenizer, when set, replaces the tokenizer found with the model: a
	// tokenizer.json or encoder.json file, or a folder holding one.
	Tokenizer string
	// RequireTokenizer makes a model without a byte-level BPE tokenizer an
	// error (commands that render prompts need one).
	RequireTokenizer bool
	// BF16Base loads a Hugging Face folder as a bf16 base
	// (nn.LoadHFBF16Base): its linear weights go straight from the files
	// into bf16 storage, with no float32 copy at any moment, for running
	// the model in bf16 (generation, evaluation, a frozen base for LoRA).
	// Models trained here (float32 checkpoints) load in float32 as without
	// it; so does the base of a LoRA checkpoint unless its linear weights
	// are stored as BF16 (LosslessBF16: rounding them would change the
	// base the adapters were trained on, and its hash).
	BF16Base bool
	// Packed, with BF16Base, loads a Hugging Face folder as a packed bf16
	// base (nn.LoadHFPackedBF16Base): the same memory, decoding at the
	// packed kernel's speed, but readable by the rollout engine alone (no
	// training forward, LoRA, export). For commands that only generate.
	// Other models load as BF16Base says.
	Packed bool
}

// Loaded is a model ready to run, with what goes with it.
type Loaded struct {
	Model *nn.Model
	// Tokenizer is the model's byte-level BPE tokenizer, or nil when it has
	// none (a model folder with token ids only, or verl's character
	// tokenizer, whose tokenizer_config.json is Found.TokenizerConfig).
	Tokenizer *tokenizer.Tokenizer
	// Chat is the model's chat template (nn/chat), or nil when its folder
	// has none. Models trained here carry ChatML's
	// (tokenizer.ChatMLTemplate) in their tokenizer_config.json.
	Chat *chat.Template
	// EOS are the token ids that end a reply: see EOSIDs.
	EOS []int32
	// Found says what --model was and which files were read.
	Found Found
}

// Free releases the model's storage.
func (l *Loaded) Free() { l.Model.Free() }

// Pretrained reports whether the model is asked in its own chat template
// with a system prompt that teaches the tag protocol: a Hugging Face model,
// unless its template is our ChatML (a folder exported from a run here,
// whose model learnt the protocol from demonstrations and is prompted as it
// was trained, without a system prompt).
func (l *Loaded) Pretrained() bool {
	return l.Found.IsHF() && (l.Chat == nil || l.Chat.Source != tokenizer.ChatMLTemplate)
}

// Load resolves path (see Resolve) and loads the model onto o.Backend with
// its tokenizer, chat template and end-of-turn ids. Every error is about
// the input (a bad or missing file) and is one line naming it. The cheap
// checks come first: the config (valid, fits the machine, matches the
// weights' headers), then the tokenizer, then the weights themselves.
func Load(path string, o Options) (*Loaded, error) {
	l, err := load(path, o)
	var te tokenizerFlagError
	switch {
	case errors.As(err, &te):
		return nil, oneLine(fmt.Errorf("--tokenizer %s: %w", o.Tokenizer, describe(te.err)))
	case err != nil:
		return nil, oneLine(fmt.Errorf("--model %s: %w", path, describe(err)))
	}
	return l, nil
}

// Check runs Load's checks without loading anything big: what path is,
// and whether its config is valid, fits the machine (as o.BF16Base would
// load it) and matches the weights' headers. Errors read as Load's.
// Commands call it to refuse a bad --model before they start other work;
// o.Backend is not used.
func Check(path string, o Options) (Found, error) {
	f, err := Resolve(path)
	if err == nil {
		err = check(f, o.BF16Base)
	}
	if err != nil {
		return f, oneLine(fmt.Errorf("--model %s: %w", path, describe(err)))
	}
	return f, nil
}

// lineError is an error whose message has its newlines (errors.Join's, as
// in nn.Config.Validate) turned into "; ", so that a command prints one
// line; it still unwraps to the original.
type lineError struct{ err error }

func (e lineError) Error() string { return strings.ReplaceAll(e.err.Error(), "\n", "; ") }
func (e lineError) Unwrap() error { return e.err }

func oneLine(err error) error { return lineError{err} }

// tokenizerFlagError is a problem with Options.Tokenizer rather than with
// the model.
type tokenizerFlagError struct{ err error }

func (e tokenizerFlagError) Error() string { return e.err.Error() }

func load(path string, o Options) (*Loaded, error) {
	if o.Backend == nil {
		panic("load: Options.Backend is nil")
	}
	f, err := Resolve(path)
	if err != nil {
		return nil, err
	}
	if err := check(f, o.BF16Base); err != nil {
		return nil, err
	}
	if o.Tokenizer != "" {
		f.Tokenizer, f.TokenizerConfig = o.Tokenizer, ""
		if st, err := os.Stat(o.Tokenizer); err == nil && st.IsDir() {
			f.Tokenizer = ""
			for _, n := range []string{"tokenizer.json", "encoder.json"} {
				if p := filepath.Join(o.Tokenizer, n); exists(p) {
					f.Tokenizer = p
					break
				}
			}
			if f.Tokenizer == "" {
				return nil, tokenizerFlagError{errors.New("the folder holds neither tokenizer.json nor encoder.json")}
			}
		}
		if c := filepath.Join(filepath.Dir(f.Tokenizer), "tokenizer_config.json"); exists(c) {
			f.TokenizerConfig = c
		}
	}
	l := &Loaded{Found: f}
	if f.Tokenizer != "" {
		if l.Tokenizer, err = tokenizer.Load(f.Tokenizer); err != nil && o.Tokenizer != "" {
			return nil, tokenizerFlagError{err}
		}
		if err != nil {
			return nil, err
		}
	} else if o.RequireTokenizer {
		return nil, fmt.Errorf("no tokenizer.json found with the model (looked in %s)", lookedIn(f))
	}
	if l.Chat, err = ChatTemplate(f.TokenizerConfig); err != nil {
		return nil, err
	}
	if l.Model, err = loadWeights(f, o.Backend, o.BF16Base, o.Packed); err != nil {
		return nil, err
	}
	if l.Tokenizer != nil && l.Tokenizer.VocabSize() > l.Model.Cfg.VocabSize {
		l.Model.Free()
		return nil, fmt.Errorf("the tokenizer has %d tokens but the model only %d: they do not belong together",
			l.Tokenizer.VocabSize(), l.Model.Cfg.VocabSize)
	}
	hfDir := ""
	if f.IsHF() {
		hfDir = f.Dir
	}
	if l.EOS, err = EOSIDs(l.Tokenizer, l.Chat, l.Model.Cfg, hfDir); err != nil {
		l.Model.Free()
		return nil, err
	}
	return l, nil
}

func lookedIn(f Found) string {
	switch f.Kind {
	case Run:
		return f.RunDir
	case Checkpoint:
		return f.Dir + " and " + filepath.Dir(f.Dir)
	}
	return f.Dir
}

// check reads the model's config and refuses, before anything is
// allocated, one that is invalid, larger than the machine (loaded as a bf16
// base when bf16Base), or larger than the weights' headers hold. It costs
// no more than reading the headers.
func check(f Found, bf16Base bool) error {
	var cfg nn.Config
	var infos map[string]safetensors.TensorInfo
	var err error
	if f.IsHF() {
		path := filepath.Join(f.Dir, "config.json")
		if cfg, err = nn.LoadConfig(path); err != nil {
			return err
		}
		// Weights and gradients, 8 bytes a parameter, must fit the machine;
		// a bf16 base has no gradients and 2-byte linear weights.
		need := 8 * float64(cfg.NumParams())
		if bf16Base {
			need = float64(cfg.BF16BaseBytes())
		}
		if err := sysmem.Check("the model", need); err != nil {
			return err
		}
		if infos, _, err = safetensors.DirInfo(f.Dir); err != nil {
			return err
		}
		if err := checkSize(cfg, infos); err != nil {
			return fmt.Errorf("%s and the weights do not belong together: %w", path, err)
		}
		return nil
	}
	path := f.Weights[0]
	if base, _, ok, err := loraBase(path); ok || err != nil {
		if err != nil {
			return err
		}
		return check(base, bf16Base) // the adapters are small; nn checks them on load
	}
	meta, err := safetensors.ReadMetadata(path)
	if err != nil {
		return err
	}
	if meta["config"] == "" {
		return fmt.Errorf("%s is not a training checkpoint (no config in its metadata); a Hugging Face model is a folder with config.json", path)
	}
	if cfg, err = nn.ParseConfig([]byte(meta["config"])); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// nn.LoadCheckpoint holds weights, gradients and AdamW's two moments.
	if err := sysmem.Check("the checkpoint", 16*float64(cfg.NumParams())); err != nil {
		return err
	}
	if infos, err = safetensors.FileInfo(path); err != nil {
		return err
	}
	if err := checkSize(cfg, infos); err != nil {
		return fmt.Errorf("%s: its config and its weights do not belong together: %w", path, err)
	}
	return nil
}

// loadWeights loads the model check passed: a Hugging Face folder through
// nn.LoadHF (nn.LoadHFBF16Base when bf16Base, nn.LoadHFPackedBF16Base
// when packed too), a checkpoint through
// nn.LoadCheckpoint (which check every tensor's name, shape, dtype and
// values), a LoRA checkpoint as its base with the adapters merged
// (lora.go).
func loadWeights(f Found, b backend.Backend, bf16Base, packed bool) (*nn.Model, error) {
	if f.IsHF() {
		if bf16Base && packed {
			return nn.LoadHFPackedBF16Base(f.Dir, b)
		}
		if bf16Base {
			return nn.LoadHFBF16Base(f.Dir, b)
		}
		return nn.LoadHF(f.Dir, b)
	}
	if base, _, ok, err := loraBase(f.Weights[0]); ok || err != nil {
		if err != nil {
			return nil, err
		}
		if bf16Base {
			if bf16Base, err = LosslessBF16(base); err != nil {
				return nil, err
			}
		}
		m, err := loadLoRA(f.Weights[0], base, b, bf16Base)
		if err == nil {
			if err = m.MergeLoRA(); err != nil {
				m.Free()
				return nil, err
			}
		}
		return m, err
	}
	ck, err := nn.LoadCheckpoint(f.Weights[0], b)
	if err != nil {
		return nil, err
	}
	ck.Opt.Free() // running a model needs only the weights
	return ck.Model, nil
}

// checkSize refuses a config that describes more weights than the files
// hold, before nn.New allocates them: a corrupt or hostile config.json
// (hidden_size 1e9, num_hidden_layers 1e15) must not allocate terabytes or
// overflow a shape. It counts, in float64 so that nothing overflows, the
// matrices every supported architecture has; biases and norms come on top,
// and SetWeights checks every shape exactly afterwards.
func checkSize(c nn.Config, infos map[string]safetensors.TensorInfo) error {
	C, H, KV, D := float64(c.HiddenSize), float64(c.NumHeads), float64(c.NumKVHeads), float64(c.HeadDim)
	F, V, L := float64(c.IntermediateSize), float64(c.VocabSize), float64(c.NumLayers)
	need := V*C + L*(2*C*H*D+2*C*KV*D+3*C*F)
	if !c.TieWordEmbeddings {
		need += V * C
	}
	have := 0.0
	for name, ti := range infos {
		if !strings.HasPrefix(name, "optim.") {
			have += float64(ti.Numel())
		}
	}
	if need > have {
		return fmt.Errorf("the config describes at least %s weights, the files hold %s", count(need), count(have))
	}
	return nil
}

// count formats a number of weights, e.g. "1.5M".
func count(n float64) string {
	switch {
	case n >= 1e15 || math.IsInf(n, 0):
		return fmt.Sprintf("%.3g", n)
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", n/1e6)
	}
	return fmt.Sprint(int64(n))
}

// LosslessBF16 reports whether f is a Hugging Face folder whose linear
// weights (q, k, v, o, gate, up, down) are all stored as BF16: loaded as a
// bf16 base (Options.BF16Base), it then holds exactly the values a float32
// load holds, and hashes the same (nn.Model.BaseHash).
func LosslessBF16(f Found) (bool, error) {
	if !f.IsHF() {
		return false, nil
	}
	infos, _, err := safetensors.DirInfo(f.Dir)
	if err != nil {
		return false, err
	}
	n := 0
	for name, ti := range infos {
		if nn.IsLinearWeight(name) {
			if ti.DType != "BF16" {
				return false, nil
			}
			n++
		}
	}
	return n > 0, nil
}

// storedDType is the dtype of the floating-point weights in infos, "F32"
// when they mix dtypes.
func storedDType(infos map[string]safetensors.TensorInfo) string {
	dt := ""
	for name, ti := range infos {
		if strings.HasPrefix(name, "optim.") || !isFloat(ti.DType) {
			continue
		}
		if dt != "" && dt != ti.DType {
			return "F32"
		}
		dt = ti.DType
	}
	if dt == "" || dt == "F64" {
		return "F32"
	}
	return dt
}

func isFloat(dt string) bool { return dt == "F32" || dt == "BF16" || dt == "F16" || dt == "F64" }

// ChatTemplate reads the chat template that goes with a
// tokenizer_config.json (see chat.Load: chat_template.jinja beside it, or
// its chat_template entry); nil when path is "" or there is none.
func ChatTemplate(tokenizerConfig string) (*chat.Template, error) {
	if tokenizerConfig == "" {
		return nil, nil
	}
	t, err := chat.Load(filepath.Dir(tokenizerConfig))
	if errors.Is(err, chat.ErrNoTemplate) {
		return nil, nil
	}
	return t, err
}
