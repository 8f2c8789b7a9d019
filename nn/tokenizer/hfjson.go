package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlclark/regexp2/v2"
)

// Load reads a tokenizer from path: a Hugging Face tokenizer.json file, a
// GPT-2 encoder.json file (with vocab.bpe beside it), or a folder holding
// either. A tokenizer_config.json beside the file, when present, gives the
// end-of-sequence and padding tokens.
func Load(path string) (*Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if st.IsDir() {
		for _, name := range []string{"tokenizer.json", "encoder.json"} {
			if _, err := os.Stat(filepath.Join(path, name)); err == nil {
				return Load(filepath.Join(path, name))
			}
		}
		return nil, fmt.Errorf("tokenizer: %s holds neither tokenizer.json nor encoder.json", path)
	}
	var t *Tokenizer
	if filepath.Base(path) == "encoder.json" {
		t, err = LoadGPT2(path, filepath.Join(filepath.Dir(path), "vocab.bpe"))
	} else {
		t, err = LoadHF(path)
	}
	if err != nil {
		return nil, err
	}
	if err := t.readConfig(filepath.Join(filepath.Dir(path), "tokenizer_config.json")); err != nil {
		return nil, err
	}
	return t, nil
}

// LoadHF reads a Hugging Face tokenizer.json file.
func LoadHF(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := ParseHF(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return t, nil
}

type hfFile struct {
	AddedTokens   []hfAdded       `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         hfModel         `json:"model"`
}

type hfAdded struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type hfModel struct {
	Type                    string         `json:"type"`
	Dropout                 *float64       `json:"dropout"`
	ContinuingSubwordPrefix string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         string         `json:"end_of_word_suffix"`
	ByteFallback            bool           `json:"byte_fallback"`
	IgnoreMerges            bool           `json:"ignore_merges"`
	Vocab                   map[string]int `json:"vocab"`
	Merges                  []hfMerge      `json:"merges"`
}

// hfMerge is one merge, written "a b" in older files and ["a", "b"] in
// newer ones (which allows spaces inside tokens).
type hfMerge [2]string

func (m *hfMerge) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		a, c, ok := strings.Cut(s, " ")
		if !ok || strings.Contains(c, " ") {
			return fmt.Errorf("merge %q is not two tokens separated by a space", s)
		}
		*m = hfMerge{a, c}
		return nil
	}
	var p []string
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if len(p) != 2 {
		return fmt.Errorf("merge %s does not have two tokens", b)
	}
	*m = hfMerge{p[0], p[1]}
	return nil
}

// hfComponent is any normalizer, pre-tokenizer, post-processor or decoder.
type hfComponent struct {
	Type           string            `json:"type"`
	Normalizers    []json.RawMessage `json:"normalizers"`
	Pretokenizers  []json.RawMessage `json:"pretokenizers"`
	Pattern        struct{ Regex, String *string }
	Behavior       string `json:"behavior"`
	Invert         bool   `json:"invert"`
	AddPrefixSpace bool   `json:"add_prefix_space"`
	UseRegex       *bool  `json:"use_regex"`
	// IndividualDigits is the option of the Digits pre-tokenizer.
	IndividualDigits bool `json:"individual_digits"`
}

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// ParseHF parses the contents of a Hugging Face tokenizer.json file. Only
// byte-level BPE with one of the two known split patterns is accepted;
// anything else is an error rather than a silently different tokenizer.
func ParseHF(data []byte) (*Tokenizer, error) {
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	t := &Tokenizer{}
	var err error
	if t.nfc, err = parseNormalizer(f.Normalizer); err != nil {
		return nil, err
	}
	pt, err := parsePreTokenizer(f.PreTokenizer)
	if err != nil {
		return nil, err
	}
	t.pattern, t.regex, t.stages, t.preJSON = pt.pattern, pt.regex, pt.stages, pt.raw
	if !isNull(f.Decoder) {
		var comp hfComponent
		if err := json.Unmarshal(f.Decoder, &comp); err != nil {
			return nil, fmt.Errorf("decoder: %w", err)
		}
		if comp.Type != "ByteLevel" {
			return nil, fmt.Errorf("unsupported decoder %q (want ByteLevel)", comp.Type)
		}
	}
	prefix, suffix, err := parsePostProcessor(f.PostProcessor)
	if err != nil {
		return nil, err
	}
	m := f.Model
	switch {
	case len(m.Vocab) == 0:
		// Without a model every text encodes to [] (issue 20).
		return nil, errors.New(`no "model" with a vocabulary: not a tokenizer.json of a BPE tokenizer`)
	case m.Type != "" && m.Type != "BPE":
		return nil, fmt.Errorf("unsupported model type %q (want BPE)", m.Type)
	case m.Dropout != nil && *m.Dropout != 0:
		return nil, errors.New("BPE dropout is not supported")
	case m.ContinuingSubwordPrefix != "" || m.EndOfWordSuffix != "":
		return nil, errors.New("BPE subword prefixes and suffixes are not supported")
	case m.ByteFallback:
		return nil, errors.New("BPE byte fallback is not supported (byte-level BPE needs none)")
	}
	added := make([]AddedToken, 0, len(f.AddedTokens))
	for _, a := range f.AddedTokens {
		if a.SingleWord || a.LStrip || a.RStrip {
			return nil, fmt.Errorf("added token %q: single_word, lstrip and rstrip are not supported", a.Content)
		}
		added = append(added, AddedToken{ID: a.ID, Content: a.Content, Special: a.Special})
	}
	merges := make([][2]string, len(m.Merges))
	for i, mg := range m.Merges {
		merges[i] = mg
	}
	if err := t.build(m.Vocab, merges, added); err != nil {
		return nil, err
	}
	for _, list := range []struct {
		names []string
		ids   *[]int
	}{{prefix, &t.specialPrefix}, {suffix, &t.specialSuffix}} {
		for _, name := range list.names {
			id, ok := t.TokenID(name)
			if !ok {
				return nil, fmt.Errorf("post_processor: special token %q not in vocabulary", name)
			}
			*list.ids = append(*list.ids, id)
		}
	}
	if m.IgnoreMerges {
		t.model.ignoreMerges = true
		t.model.whole = make(map[string]int32, len(m.Vocab))
		for s, id := range m.Vocab {
			t.model.whole[string(byteLevelDecode(s))] = int32(id)
		}
	}
	return t, nil
}

func parseNormalizer(raw json.RawMessage) (bool, error) {
	if isNull(raw) {
		return false, nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return false, fmt.Errorf("normalizer: %w", err)
	}
	switch c.Type {
	case "NFC":
		return true, nil
	case "Sequence":
		nfc := false
		for _, n := range c.Normalizers {
			ok, err := parseNormalizer(n)
			if err != nil {
				return false, err
			}
			nfc = nfc || ok
		}
		return nfc, nil
	}
	return false, fmt.Errorf("unsupported normalizer %q (only NFC)", c.Type)
}

// preTokenizer is a parsed pre_tokenizer: its one split pattern (a
// scanner, or a regex for the general engine) and, when it also splits
// digits apart (the Digits pre-tokenizer of StarCoder and SmolLM), every
// split stage in order with the JSON to write back.
type preTokenizer struct {
	pattern Pattern
	regex   *Regex
	stages  []splitter
	raw     json.RawMessage
}

// parsePreTokenizer accepts ByteLevel with its built-in GPT-2 regex, or a
// Sequence of one Split (behavior Isolated, any regex or string), an
// optional Digits, and a ByteLevel. Known regexes get their hand-written
// scanner; any other runs through the general engine (regex.go).
func parsePreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	var pt preTokenizer
	if isNull(raw) {
		return pt, errors.New("pre_tokenizer is missing (want byte-level)")
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return pt, fmt.Errorf("pre_tokenizer: %w", err)
	}
	parts := []hfComponent{c}
	if c.Type == "Sequence" {
		parts = parts[:0]
		for _, p := range c.Pretokenizers {
			var pc hfComponent
			if err := json.Unmarshal(p, &pc); err != nil {
				return pt, fmt.Errorf("pre_tokenizer: %w", err)
			}
			parts = append(parts, pc)
		}
	}
	byteLevel, digits := false, false
	setPattern := func(p Pattern, re *Regex) error {
		if pt.pattern != 0 {
			return errors.New("pre_tokenizer splits twice; only one split pattern is supported")
		}
		pt.pattern, pt.regex = p, re
		if re != nil {
			pt.stages = append(pt.stages, re)
		} else {
			pt.stages = append(pt.stages, p)
		}
		return nil
	}
	for _, p := range parts {
		switch p.Type {
		case "ByteLevel":
			if p.AddPrefixSpace {
				return pt, errors.New("pre_tokenizer: ByteLevel add_prefix_space is not supported")
			}
			byteLevel = true
			if p.UseRegex == nil || *p.UseRegex {
				if err := setPattern(PatternGPT2, nil); err != nil {
					return pt, err
				}
			}
		case "Digits":
			if digits {
				return pt, errors.New("pre_tokenizer: two Digits pre-tokenizers")
			}
			digits = true
			// Rust's char::is_numeric is \p{N}; individual digits are
			// isolated one by one, otherwise runs of them are kept together.
			src := `\p{N}+`
			if p.IndividualDigits {
				src = `\p{N}`
			}
			re, err := CompileRegex(src)
			if err != nil {
				return pt, fmt.Errorf("pre_tokenizer: %w", err)
			}
			pt.stages = append(pt.stages, re)
		case "Split":
			if p.Behavior != "Isolated" || p.Invert {
				return pt, fmt.Errorf("pre_tokenizer: Split behavior %q invert %v is not supported", p.Behavior, p.Invert)
			}
			var src string
			switch {
			case p.Pattern.Regex != nil:
				src = *p.Pattern.Regex
			case p.Pattern.String != nil && *p.Pattern.String != "":
				src = regexp2.Escape(*p.Pattern.String)
			default:
				return pt, errors.New("pre_tokenizer: Split has no pattern")
			}
			var err error
			switch src {
			case regexGPT2:
				err = setPattern(PatternGPT2, nil)
			case regexQwen2:
				err = setPattern(PatternQwen2, nil)
			case regexLlama3:
				err = setPattern(PatternLlama3, nil)
			default:
				var re *Regex
				if re, err = CompileRegex(src); err != nil {
					return pt, fmt.Errorf("pre_tokenizer: %w", err)
				}
				err = setPattern(PatternRegex, re)
			}
			if err != nil {
				return pt, err
			}
		default:
			return pt, fmt.Errorf("unsupported pre_tokenizer %q", p.Type)
		}
	}
	if !byteLevel || pt.pattern == 0 {
		return pt, errors.New("pre_tokenizer is not byte-level with a split pattern")
	}
	if !digits {
		pt.stages = nil // one stage: the pattern or regex alone
	} else {
		pt.raw = append(json.RawMessage(nil), raw...)
	}
	return pt, nil
}

// build fills t from a byte-level vocabulary, merges in rank order and the
// added tokens; t.pattern and t.nfc are already set.
func (t *Tokenizer) build(vocab map[string]int, merges [][2]string, added []AddedToken) error {
	size := 0
	for s, id := range vocab {
		if id < 0 {
			return fmt.Errorf("vocab: token %q has negative id %d", s, id)
		}
		size = max(size, id+1)
	}
	for _, a := range added {
		if a.ID < 0 || a.Content == "" {
			return fmt.Errorf("added token %q with id %d is invalid", a.Content, a.ID)
		}
		size = max(size, a.ID+1)
	}
	if size > 1<<31-1 {
		return fmt.Errorf("vocab: size %d too large", size)
	}
	t.tokens = make([][]byte, size)
	for s, id := range vocab {
		if t.tokens[id] != nil {
			return fmt.Errorf("vocab: id %d used twice", id)
		}
		t.tokens[id] = byteLevelDecode(s)
	}
	for _, a := range added {
		t.tokens[a.ID] = []byte(a.Content)
	}
	t.added = append([]AddedToken(nil), added...)
	sortAdded(t.added)

	for b := range t.model.byteID {
		t.model.byteID[b] = -1
		if id, ok := vocab[string(byteToRune[b])]; ok {
			t.model.byteID[b] = int32(id)
		}
	}
	t.model.merges = make(map[uint64]uint64, len(merges))
	t.model.list = make([][2]int32, 0, len(merges))
	for rank, m := range merges {
		a, okA := vocab[m[0]]
		b, okB := vocab[m[1]]
		c, okC := vocab[m[0]+m[1]]
		if !okA || !okB || !okC {
			return fmt.Errorf("merge %d (%q %q): token not in vocab", rank, m[0], m[1])
		}
		t.model.merges[pairKey(int32(a), int32(b))] = uint64(rank)<<32 | uint64(c)
		t.model.list = append(t.model.list, [2]int32{int32(a), int32(b)})
	}
	t.finish()
	return nil
}

func sortAdded(a []AddedToken) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].ID < a[j-1].ID; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// hfPostProcessor is a post_processor: ByteLevel (which changes no ids),
// TemplateProcessing, or a Sequence of them.
type hfPostProcessor struct {
	Type       string            `json:"type"`
	Processors []json.RawMessage `json:"processors"`
	Single     []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
		Sequence *struct {
			ID string `json:"id"`
		} `json:"Sequence"`
	} `json:"single"`
}

// parsePostProcessor returns the special tokens a TemplateProcessing adds
// before and after a single sequence when encoding with special tokens
// (Llama 3's <|begin_of_text|>). Pair templates are not used here.
func parsePostProcessor(raw json.RawMessage) (prefix, suffix []string, err error) {
	if isNull(raw) {
		return nil, nil, nil
	}
	var p hfPostProcessor
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, nil, fmt.Errorf("post_processor: %w", err)
	}
	switch p.Type {
	case "ByteLevel":
		return nil, nil, nil
	case "Sequence":
		for _, sub := range p.Processors {
			pre, suf, err := parsePostProcessor(sub)
			if err != nil {
				return nil, nil, err
			}
			if len(pre)+len(suf) > 0 {
				if len(prefix)+len(suffix) > 0 {
					return nil, nil, errors.New("post_processor: two templates")
				}
				prefix, suffix = pre, suf
			}
		}
		return prefix, suffix, nil
	case "TemplateProcessing":
		seen := false
		for _, piece := range p.Single {
			switch {
			case piece.Sequence != nil:
				if seen {
					return nil, nil, errors.New("post_processor: single template holds two sequences")
				}
				seen = true
			case piece.SpecialToken != nil && !seen:
				prefix = append(prefix, piece.SpecialToken.ID)
			case piece.SpecialToken != nil:
				suffix = append(suffix, piece.SpecialToken.ID)
			default:
				return nil, nil, errors.New("post_processor: unknown piece in single template")
			}
		}
		if !seen {
			return nil, nil, errors.New("post_processor: single template has no sequence")
		}
		return prefix, suffix, nil
	}
	return nil, nil, fmt.Errorf("unsupported post_processor %q (want ByteLevel or TemplateProcessing)", p.Type)
}
