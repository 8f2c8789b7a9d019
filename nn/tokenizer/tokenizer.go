package tokenizer

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// AddedToken is a token matched in the raw text before pre-tokenization and
// never split: special tokens such as "<|im_end|>" and tags such as
// "<think>".
type AddedToken struct {
	ID      int
	Content string
	Special bool // a control token (end of sequence, padding, chat markers)
}

// Tokenizer is a byte-level BPE tokenizer. Once set up (SetEOS, SetPad), it
// is safe for concurrent use: encoders share a locked word cache.
type Tokenizer struct {
	model   bpe
	pattern Pattern
	regex   *Regex // the split regex when pattern is PatternRegex
	// stages are the split steps in order when there is more than the one
	// pattern (a Digits pre-tokenizer beside it), with the pre_tokenizer
	// JSON to save them; nil otherwise.
	stages  []splitter
	preJSON json.RawMessage
	nfc     bool // normalize text segments to NFC before splitting

	tokens  [][]byte       // raw bytes of each id; nil for unused ids
	byBytes map[string]int // raw bytes -> id, for TokenID

	added      []AddedToken
	addedByID  map[int]int // id -> index in added
	addedFirst [256]bool   // first bytes of added tokens, to skip text fast
	addedByLen []AddedToken

	eos, pad int // -1 when unknown

	// The special tokens the post-processor adds around a sequence when
	// encoding with special tokens (Llama 3's <|begin_of_text|>).
	specialPrefix, specialSuffix []int
}

// finish builds the lookup tables of a Tokenizer whose model, tokens,
// pattern and added tokens are set, and clears EOS and padding.
func (t *Tokenizer) finish() {
	t.byBytes = make(map[string]int, len(t.tokens))
	// Model tokens first, so that an added token with the same text as a
	// model token (trained vocabularies hold both) keeps the added id.
	for id, b := range t.tokens {
		if b != nil {
			if _, dup := t.byBytes[string(b)]; !dup {
				t.byBytes[string(b)] = id
			}
		}
	}
	t.addedByID = make(map[int]int, len(t.added))
	for i, a := range t.added {
		t.addedByID[a.ID] = i
		t.byBytes[a.Content] = a.ID
		if a.Content != "" {
			t.addedFirst[a.Content[0]] = true
		}
	}
	// Longest first: the reference matches added tokens leftmost-longest.
	t.addedByLen = append([]AddedToken(nil), t.added...)
	sort.SliceStable(t.addedByLen, func(i, j int) bool {
		return len(t.addedByLen[i].Content) > len(t.addedByLen[j].Content)
	})
	t.eos, t.pad = -1, -1
}

// Pattern returns the pre-tokenizer split pattern.
func (t *Tokenizer) Pattern() Pattern { return t.pattern }

// SplitRegex returns the split regex as tokenizer.json writes it (a Digits
// step beside it, if any, is not part of it).
func (t *Tokenizer) SplitRegex() string {
	switch t.pattern {
	case PatternGPT2:
		return regexGPT2
	case PatternQwen2:
		return regexQwen2
	case PatternLlama3:
		return regexLlama3
	}
	return t.regex.String()
}

// VocabSize returns one more than the largest token id, added tokens
// included (a model's embedding table may be padded beyond it).
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// AddedTokens returns the added tokens in id order.
func (t *Tokenizer) AddedTokens() []AddedToken { return append([]AddedToken(nil), t.added...) }

// TokenID returns the id of the token whose decoded text is s ("<think>",
// " the"; not the byte-level form "Ġthe").
func (t *Tokenizer) TokenID(s string) (int, bool) {
	id, ok := t.byBytes[s]
	return id, ok
}

// MustTokenID is TokenID for tokens the caller knows exist; it panics
// otherwise (a programming error, such as a tag missing from a vocabulary).
func (t *Tokenizer) MustTokenID(s string) int {
	id, ok := t.byBytes[s]
	if !ok {
		panic(fmt.Sprintf("tokenizer: no token %q", s))
	}
	return id
}

// IsSpecial reports whether id is an added token marked special.
func (t *Tokenizer) IsSpecial(id int) bool {
	i, ok := t.addedByID[id]
	return ok && t.added[i].Special
}

// EOS returns the end-of-sequence id, or -1 when the tokenizer has none.
func (t *Tokenizer) EOS() int { return t.eos }

// Pad returns the padding id, or -1 when the tokenizer has none.
func (t *Tokenizer) Pad() int { return t.pad }

// SetEOS sets the end-of-sequence token by its text.
func (t *Tokenizer) SetEOS(s string) error {
	id, ok := t.TokenID(s)
	if !ok {
		return fmt.Errorf("tokenizer: end-of-sequence token %q not in vocabulary", s)
	}
	t.eos = id
	return nil
}

// SetPad sets the padding token by its text.
func (t *Tokenizer) SetPad(s string) error {
	id, ok := t.TokenID(s)
	if !ok {
		return fmt.Errorf("tokenizer: padding token %q not in vocabulary", s)
	}
	t.pad = id
	return nil
}

// Encode returns the token ids of s. Added tokens in s are recognised.
func (t *Tokenizer) Encode(s string) []int { return t.AppendEncode(nil, s) }

// EncodeWithSpecial is Encode plus the special tokens the tokenizer's
// post-processor adds around a sequence: Hugging Face's encode with
// add_special_tokens=True (Llama 3 prepends <|begin_of_text|>). Prompts
// rendered by a chat template already hold them; use Encode for those.
func (t *Tokenizer) EncodeWithSpecial(s string) []int {
	dst := append([]int(nil), t.specialPrefix...)
	dst = t.AppendEncode(dst, s)
	return append(dst, t.specialSuffix...)
}

// EncodeBytes returns the token ids of b, which may be any bytes.
func (t *Tokenizer) EncodeBytes(b []byte) []int { return t.AppendEncode(nil, string(b)) }

// EncodeOrdinary encodes s as plain text: added tokens in it are split like
// any other text. Use it for untrusted text (tool output, user data) that
// must not be able to inject control tokens.
func (t *Tokenizer) EncodeOrdinary(s string) []int { return t.appendText(nil, s) }

// AppendEncode appends the token ids of s to dst.
func (t *Tokenizer) AppendEncode(dst []int, s string) []int {
	if len(t.added) == 0 {
		return t.appendText(dst, s)
	}
	start := 0
	for i := 0; i < len(s); i++ {
		if !t.addedFirst[s[i]] {
			continue
		}
		a, ok := t.addedAt(s, i)
		if !ok {
			continue
		}
		dst = t.appendText(dst, s[start:i])
		dst = append(dst, a.ID)
		i += len(a.Content) - 1
		start = i + 1
	}
	return t.appendText(dst, s[start:])
}

// addedAt returns the longest added token that starts at s[i].
func (t *Tokenizer) addedAt(s string, i int) (AddedToken, bool) {
	for _, a := range t.addedByLen {
		if a.Content != "" && strings.HasPrefix(s[i:], a.Content) {
			return a, true
		}
	}
	return AddedToken{}, false
}

// appendText encodes text that holds no added tokens.
func (t *Tokenizer) appendText(dst []int, s string) []int {
	if t.nfc && !isASCII(s) {
		s = norm.NFC.String(s)
	}
	if t.stages != nil {
		eachStage(t.stages, s, func(piece string) { dst = t.model.appendWordCached(dst, piece) })
		return dst
	}
	if t.regex != nil {
		t.regex.each(s, func(piece string) { dst = t.model.appendWordCached(dst, piece) })
		return dst
	}
	for i := 0; i < len(s); {
		j := t.pattern.next(s, i)
		dst = t.model.appendWordCached(dst, s[i:j])
		i = j
	}
	return dst
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Decode returns the text of ids: the concatenation of their bytes, which
// need not be valid UTF-8 when ids end inside a character. Ids outside the
// vocabulary decode to nothing.
func (t *Tokenizer) Decode(ids []int) string {
	return string(t.AppendDecode(nil, ids))
}

// AppendDecode appends the bytes of ids to dst.
func (t *Tokenizer) AppendDecode(dst []byte, ids []int) []byte {
	for _, id := range ids {
		if id >= 0 && id < len(t.tokens) {
			dst = append(dst, t.tokens[id]...)
		}
	}
	return dst
}

// DecodeToken returns the bytes of one token and whether id is in the
// vocabulary.
func (t *Tokenizer) DecodeToken(id int) (string, bool) {
	if id < 0 || id >= len(t.tokens) || t.tokens[id] == nil {
		return "", false
	}
	return string(t.tokens[id]), true
}
