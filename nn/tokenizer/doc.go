// Package tokenizer turns text into token ids and back with byte-level BPE,
// the scheme of GPT-2, Qwen2/Qwen3 and most open LLMs.
//
// It is for:
//   - loading Hugging Face tokenizer.json files (BPE model, byte-level
//     pre-tokenizer with any Split regex and an optional Digits step
//     (StarCoder, SmolLM), NFC normalizer, added tokens, a
//     TemplateProcessing post-processor such as Llama 3's BOS) and the GPT-2
//     encoder.json + vocab.bpe pair;
//   - training a small byte-level BPE tokenizer on our own corpus, with
//     special tokens that are never split, and saving it as tokenizer.json so
//     that it is an ordinary Hugging Face tokenizer;
//   - rendering ChatML prompts and decoding generated ids incrementally.
//
// It is not a general Hugging Face tokenizers port: WordPiece, Unigram,
// BPE dropout, Split behaviors other than Isolated and post-processors other
// than ByteLevel and TemplateProcessing are rejected with an error rather
// than half-supported. Encode is encode(add_special_tokens=False), what a
// rendered chat template needs; EncodeWithSpecial adds the post-processor's
// tokens.
//
// Encoding works on bytes: any byte string, including invalid UTF-8,
// encodes and decodes back to itself (unless the tokenizer asks for NFC
// normalization, which changes non-NFC text the way the reference does).
// The split patterns need lookahead, which Go's regexp lacks. The GPT-2,
// Qwen2 and Llama 3 patterns are hand-written scanners in pretokenize.go
// (26x faster than the general engine on GSM8K text, BenchmarkSplitLlama3);
// any other runs through github.com/dlclark/regexp2 (regex.go), and tests
// check that both split alike. For the split, an invalid UTF-8
// byte counts as one character of its own that is neither letter, number nor
// space (as U+FFFD would be); the reference implementations only accept
// valid Unicode strings, so this is our definition, kept consistent with it.
package tokenizer
