package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"unicode/utf8"

	"github.com/goarpo/arpo/nn/load"
	"github.com/goarpo/arpo/nn/tokenizer"
)

// codec turns text into token ids and back; a byte-level BPE tokenizer or
// the character tokenizer of verl's test models.
type codec interface {
	encode(text string) []int32
	// tokenText is the bytes of one token (for stop strings and --score).
	tokenText(id int32) string
	newDecoder() decoder
	eos() []int32
	vocabSize() int
	// bpe is the BPE tokenizer behind the codec, or nil (no ChatML).
	bpe() *tokenizer.Tokenizer
}

// decoder decodes generated ids one at a time.
type decoder interface {
	// add returns the text that the id completes; a character split across
	// tokens comes out whole with its last token.
	add(id int32) string
	// flush returns the bytes still held back at the end.
	flush() string
}

// loadCodec is the loaded model's tokenizer (--tokenizer, or the one found
// with the model), else the character tokenizer its tokenizer_config.json
// describes; nil when there is none.
func loadCodec(l *load.Loaded) (codec, error) {
	if l.Tokenizer != nil {
		return bpeCodec{l.Tokenizer}, nil // nn/load checked it against the model
	}
	if l.Found.TokenizerConfig == "" {
		return nil, nil
	}
	cc, err := loadCharCodec(l.Found.TokenizerConfig)
	if err != nil {
		return nil, badInput("tokenizer of %s: %v", l.Found.Path, err)
	}
	if cc == nil {
		return nil, nil
	}
	if cc.vocabSize() > l.Model.Cfg.VocabSize {
		return nil, badInput("the tokenizer has %d tokens but the model only %d: they do not belong together", cc.vocabSize(), l.Model.Cfg.VocabSize)
	}
	return cc, nil
}

// bpeCodec is a tokenizer of package nn/tokenizer.
type bpeCodec struct{ t *tokenizer.Tokenizer }

func (c bpeCodec) encode(text string) []int32 { return toInt32(c.t.Encode(text)) }

func (c bpeCodec) tokenText(id int32) string {
	s, _ := c.t.DecodeToken(int(id))
	return s
}

func (c bpeCodec) newDecoder() decoder { return bpeDecoder{c.t.NewStreamDecoder()} }

func (c bpeCodec) eos() []int32 {
	var ids []int32
	if id := c.t.EOS(); id >= 0 {
		ids = append(ids, int32(id))
	}
	return ids
}

func (c bpeCodec) vocabSize() int            { return c.t.VocabSize() }
func (c bpeCodec) bpe() *tokenizer.Tokenizer { return c.t }

type bpeDecoder struct{ d *tokenizer.StreamDecoder }

func (d bpeDecoder) add(id int32) string { return d.d.Add(int(id)) }
func (d bpeDecoder) flush() string       { return d.d.Flush() }

func toInt32(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

// charCodec is verl's CharTokenizer (tests/e2e/envs/digit_completion), the
// tokenizer of models/llama-arith-random: one token per character, ids 0-3
// for the special tokens "S" (separator), "E" (end of sequence), "P"
// (padding) and "U" (unknown), then the characters of char_ords from id 4.
// As in the reference, the letters S, E, P and U in text are those tokens
// and any other character not in the list is "U".
type charCodec struct {
	texts []string       // by id
	ids   map[rune]int32 // by character
}

// charSpecials are the special tokens' texts in id order.
var charSpecials = []string{"S", "E", "P", "U"}

const charUnknown, charEOS = 3, 1

// loadCharCodec reads a tokenizer_config.json with "char_ords"; it returns
// nil, nil when the file does not exist or has no char_ords.
func loadCharCodec(path string) (*charCodec, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cfg struct {
		CharOrds []int32 `json:"char_ords"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(cfg.CharOrds) == 0 {
		return nil, nil
	}
	c := &charCodec{ids: map[rune]int32{}}
	for _, s := range charSpecials {
		c.ids[rune(s[0])] = int32(len(c.texts))
		c.texts = append(c.texts, s)
	}
	for _, o := range cfg.CharOrds {
		r := rune(o)
		if !utf8.ValidRune(r) {
			return nil, fmt.Errorf("%s: char_ords holds %d, not a character", path, o)
		}
		c.ids[r] = int32(len(c.texts)) // a repeated character keeps its last id, as the Python dict does
		c.texts = append(c.texts, string(r))
	}
	return c, nil
}

func (c *charCodec) encode(text string) []int32 {
	out := make([]int32, 0, len(text))
	for _, r := range text {
		id, ok := c.ids[r]
		if !ok {
			id = charUnknown
		}
		out = append(out, id)
	}
	return out
}

func (c *charCodec) tokenText(id int32) string {
	if id < 0 || int(id) >= len(c.texts) {
		return ""
	}
	return c.texts[id]
}

func (c *charCodec) newDecoder() decoder       { return charDecoder{c} }
func (c *charCodec) eos() []int32              { return []int32{charEOS} }
func (c *charCodec) vocabSize() int            { return len(c.texts) }
func (c *charCodec) bpe() *tokenizer.Tokenizer { return nil }

// charDecoder needs no state: every token is a whole character.
type charDecoder struct{ c *charCodec }

func (d charDecoder) add(id int32) string { return d.c.tokenText(id) }
func (d charDecoder) flush() string       { return "" }
