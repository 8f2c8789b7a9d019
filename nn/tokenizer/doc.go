// Package tokenizer turns text into token ids and back with byte-level BPE,
// the scheme of GPT-2, Qwen2/Qwen3 and most open LLMs.
//
// It is for:
//   - loading Hugging Face tokenizer.json files (BPE model, byte-level
//     pre-tokenizer with the GPT-2 or the Qwen2 split pattern, NFC
//     normalizer, added tokens) and the GPT-2 encoder.json + vocab.bpe pair;
//   - training a small byte-level BPE tokenizer on our own corpus, with
//     special tokens that are never split, and saving it as tokenizer.json so
//     that it is an ordinary Hugging Face tokenizer;
//   - rendering ChatML prompts and decoding generated ids incrementally.
//
// It is not a general Hugging Face tokenizers port: WordPiece, Unigram,
// arbitrary split regexes, BPE dropout and post-processors that add tokens
// (BOS/EOS templates) are rejected with an error rather than half-supported.
//
// Encoding works on bytes: any byte string, including invalid UTF-8,
// encodes and decodes back to itself (unless the tokenizer asks for NFC
// normalization, which changes non-NFC text the way the reference does).
// The split patterns need lookahead, which Go's regexp lacks, so they are
// hand-written scanners in pretokenize.go. For the split, an invalid UTF-8
// byte counts as one character of its own that is neither letter, number nor
// space (as U+FFFD would be); the reference implementations only accept
// valid Unicode strings, so this is our definition, kept consistent with it.
package tokenizer
