// Produces nn/chat/testdata/reference.json: each conversation of
// nn/chat/testdata/conversations.json (the keyword arguments of Hugging
// Face's apply_chat_template) rendered with each template named in
// nn/chat/testdata/templates/index.json by @huggingface/jinja, the Jinja
// engine of transformers.js, called the way transformers.js's
// apply_chat_template calls it: the context holds messages,
// add_generation_prompt (false unless given), tools and documents (null),
// the tokenizer's special tokens (bos_token, eos_token, ... when set), then
// every other keyword argument.
//
// strftime_now reads a pinned clock (2026-12-04 12:00 UTC, see CLOCK) so
// that templates that print today's date (Llama 3.2) render the same every
// run; the Go test pins the same clock.
//
// Run by hand, never by tests, from a folder OUTSIDE the repository:
//
//   mkdir /tmp/tokref && cd /tmp/tokref && npm init -y
//   npm install --ignore-scripts @huggingface/jinja@0.5.13
//   node /path/to/repo/scripts/chat_template_reference.mjs /path/to/repo
import fs from "fs";
import path from "path";
import { createRequire } from "module";

const repo = process.argv[2] ?? ".";
const testdata = path.join(repo, "nn", "chat", "testdata");
const require = createRequire(path.join(process.cwd(), "index.js"));
const { Template } = require("@huggingface/jinja");
const version = JSON.parse(fs.readFileSync(
  path.join(process.cwd(), "node_modules", "@huggingface", "jinja", "package.json"), "utf8")).version;

// @huggingface/jinja's strftime_now formats `new Date()` in local time with
// the default locale's month names; pin both.
process.env.TZ = "UTC";
const CLOCK = Date.UTC(2026, 11, 4, 12, 0, 0);
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...args) { if (args.length === 0) super(CLOCK); else super(...args); }
  static now() { return CLOCK; }
};

const SPECIAL = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];
function specialTokens(config) {
  const out = {};
  for (const k of SPECIAL) {
    let v = config[k];
    if (v && typeof v === "object") v = v.content;
    if (typeof v === "string" && v !== "") out[k] = v;
  }
  return out;
}

const index = JSON.parse(fs.readFileSync(path.join(testdata, "templates", "index.json"), "utf8"));
const templates = {};
for (const [name, t] of Object.entries(index)) {
  if (t.shared) {
    const config = JSON.parse(fs.readFileSync(path.join(repo, "..", "shared", "data", t.shared), "utf8"));
    templates[name] = { source: config.chat_template, special: specialTokens(config) };
  } else {
    templates[name] = { source: fs.readFileSync(path.join(testdata, "templates", t.file), "utf8"), special: t.special_tokens };
  }
}

const conversations = JSON.parse(fs.readFileSync(path.join(testdata, "conversations.json"), "utf8"));
const cases = [];
for (const [name, t] of Object.entries(templates)) {
  const tmpl = new Template(t.source);
  for (const c of conversations) {
    const { messages, add_generation_prompt = false, ...kwargs } = c.kwargs;
    const ctx = {
      messages, add_generation_prompt, tools: null, documents: null,
      ...t.special, ...kwargs
    };
    const out = { template: name, conversation: c.name };
    try {
      out.text = tmpl.render(ctx);
    } catch (e) {
      out.error = String(e.message ?? e);
    }
    cases.push(out);
  }
}
const outPath = path.join(testdata, "reference.json");
const header = JSON.stringify(`scripts/chat_template_reference.mjs with @huggingface/jinja ${version}`);
fs.writeFileSync(outPath, `{"generator": ${header},\n"cases": [\n` +
  cases.map((c) => JSON.stringify(c)).join(",\n") + "\n]}\n");
console.log(`wrote ${cases.length} cases to ${outPath}`);
