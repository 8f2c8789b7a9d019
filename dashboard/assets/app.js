// app.js: the dashboard's pages. It reads only the /api/ endpoints
// (docs/DASHBOARD.md) and builds the page with DOM calls: text from a run
// (model output, tool results, questions) is always set as text, never as
// HTML.
"use strict";

const main = document.getElementById("main");
let runs = [];
let routeToken = 0; // a page started by an older route stops drawing
let pollTimer = null;

// h builds an element: h("a", {href: "#/", class: "x", onclick: fn}, "text", child).
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

async function api(path) {
  const r = await fetch(path, { cache: "no-store" });
  let body;
  try { body = await r.json(); } catch (e) { body = { error: `${r.status} ${r.statusText}` }; }
  if (!r.ok) throw new Error(body.error || `${r.status} ${r.statusText}`);
  return body;
}

const enc = encodeURIComponent;
const runAPI = (run, rest) => `/api/run/${enc(run.id)}/${rest}`;

function showError(e) {
  main.replaceChildren(h("p", { class: "error" }, String(e.message || e)));
}

function poll(fn, ms) {
  const tok = routeToken;
  clearTimeout(pollTimer);
  const tick = async () => {
    if (tok !== routeToken) return;
    try { await fn(); } catch (e) { /* a file mid-write: try again next time */ }
    if (tok === routeToken) pollTimer = setTimeout(tick, ms);
  };
  pollTimer = setTimeout(tick, ms);
}

function fmtDuration(s) {
  if (!(s >= 0)) return "–";
  s = Math.round(s);
  const hh = Math.floor(s / 3600), mm = Math.floor(s / 60) % 60, ss = s % 60;
  return hh ? `${hh}h${String(mm).padStart(2, "0")}m` : mm ? `${mm}m${String(ss).padStart(2, "0")}s` : `${ss}s`;
}

// ---------------------------------------------------------------- routing

async function route() {
  const tok = ++routeToken;
  clearTimeout(pollTimer);
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  try {
    runs = await api("/api/runs");
    if (tok !== routeToken) return;
    const run = parts[0] === "run" ? runs.find(r => r.id === parts[1]) : null;
    nav(parts, run);
    document.getElementById("live").hidden = !runs.some(r => r.live);
    if (parts[0] === "compare") return await comparePage(tok);
    if (parts[0] === "run") {
      if (!run) throw new Error(`no run "${parts[1]}" is served`);
      if (run.error) throw new Error(run.error);
      if (parts[2] === "trees") return await treesPage(tok, run, parts[3], parts[4]);
      if (parts[2] === "samples") return await samplesPage(tok, run);
      return await overviewPage(tok, run);
    }
    if (runs.length === 1) { location.replace("#/run/" + enc(runs[0].id)); return; }
    return runsPage(tok);
  } catch (e) {
    if (tok === routeToken) showError(e);
  }
}

function nav(parts, run) {
  const items = [];
  if (runs.length > 1) items.push(["#/", "Runs", parts.length === 0]);
  if (run) {
    const base = "#/run/" + enc(run.id);
    items.push([base, "Overview", !parts[2]], [base + "/trees", "Rollout trees", parts[2] === "trees"],
      [base + "/samples", "Samples", parts[2] === "samples"]);
  }
  if (runs.length > 1) items.push(["#/compare", "Compare", parts[0] === "compare"]);
  document.getElementById("nav").replaceChildren(...items.map(([href, text, on]) => h("a", { href, class: on ? "active" : "" }, text)));
}

// ---------------------------------------------------------------- runs

function runsPage(tok) {
  const rows = runs.map(r => h("tr", {},
    h("td", {}, h("a", { href: "#/run/" + enc(r.id) }, r.name)),
    h("td", {}, r.error ? h("span", { class: "error" }, r.error) : h("span", { class: "badge " + r.phase }, r.phase)),
    h("td", {}, r.algo || ""), h("td", {}, r.preset || ""),
    h("td", { class: "num" }, r.total ? `${r.step}/${r.total}` : ""),
    h("td", { class: "num" }, r.elapsed_s ? fmtDuration(r.elapsed_s) : "")));
  main.replaceChildren(h("h1", {}, `${runs.length} runs`),
    h("div", { class: "card" }, h("table", {},
      h("tr", {}, ["run", "phase", "algorithm", "preset", "step", "time"].map(t => h("th", {}, t))), rows)),
    runs.length > 1 ? h("p", {}, h("a", { href: "#/compare" }, "Compare their curves →")) : null);
  poll(async () => {
    const now = await api("/api/runs");
    if (JSON.stringify(now.map(r => r.version)) !== JSON.stringify(runs.map(r => r.version)) && tok === routeToken) route();
  }, 3000);
}

// ---------------------------------------------------------------- overview

// The latest step's numbers; each cell carries its metrics.jsonl key.
const LATEST = [
  ["step", "step"], ["reward_mean", "reward"], ["accuracy", "accuracy"], ["format_error_rate", "format errors"],
  ["tool_calls", "tool calls"], ["tool_calls_flat", "trajectory-level calls"], ["branches", "branches"],
  ["delta_h_mean", "mean ΔH"], ["approx_kl", "approx. KL"], ["kl", "KL to ref"], ["clip_frac", "clip fraction"],
  ["response_len", "response tokens"], ["time_gen_s", "generation s"], ["time_tool_wait_s", "tool wait s"],
  ["time_update_s", "update s"],
];

const col = (rows, key) => rows.map(r => [r.step, typeof r[key] === "number" ? r[key] : NaN]);

function overviewCharts(met, sft, evals, st) {
  const C = (id, title, series, o) => chart({ id, title, xLabel: "RL step", integerX: true, ...o }, series);
  const figs = [
    C("reward", "Reward and accuracy (training trajectories)", [
      { name: "reward_mean", points: col(met, "reward_mean") }, { name: "accuracy", points: col(met, "accuracy") }]),
    C("tool_calls", "Tool calls per step: executed vs trajectory-level", [
      { name: "tool_calls", points: col(met, "tool_calls") },
      { name: "tool_calls_flat", points: col(met, "tool_calls_flat"), dashed: true }], { yMin: 0 }),
    C("delta_h", "Entropy rise after tool results (mean ΔH)", [{ name: "delta_h_mean", points: col(met, "delta_h_mean") },
      { name: "delta_h_branched", points: col(met, "delta_h_branched"), dashed: true },
      { name: "delta_h_unbranched", points: col(met, "delta_h_unbranched"), dashed: true }]),
    C("branch_prob", "Branch probability at branch points", [{ name: "branch_prob_mean", points: col(met, "branch_prob_mean") },
      { name: "share above 0.6", points: col(met, "branch_prob_above_0.6") }, { name: "share below 0.4", points: col(met, "branch_prob_below_0.4") }],
      { yMin: 0, empty: "no branch points (not ARPO, or a run from before they were logged)" }),
    C("groups", "Groups with a learning signal (unequal rewards), pass@M", [{ name: "groups_with_signal", points: col(met, "groups_with_signal") },
      { name: "pass_at_m", points: col(met, "pass_at_m") }], { yMin: 0, empty: "not logged by this run" }),
    C("branches", "Branches per step", [{ name: "branches", points: col(met, "branches") }], { yMin: 0 }),
    C("format", "Format error rate", [{ name: "format_error_rate", points: col(met, "format_error_rate") }], { yMin: 0 }),
    C("kl", "KL", [{ name: "approx_kl", points: col(met, "approx_kl") },
      ...(met.some(r => r.kl) ? [{ name: "kl", points: col(met, "kl") }] : [])]),
    C("clip", "Clip fraction", [{ name: "clip_frac", points: col(met, "clip_frac") }], { yMin: 0 }),
    C("time", "Step time split (seconds)", [
      { name: "generation", points: col(met, "time_gen_s") },
      { name: "tool wait", points: col(met, "time_tool_wait_s") },
      { name: "other rollout", points: met.map(r => [r.step, Math.max(0, (r.time_rollout_s || 0) - (r.time_gen_s || 0) - (r.time_tool_wait_s || 0))]) },
      { name: "update", points: col(met, "time_update_s") }], { kind: "stacked" }),
  ];
  // A run from a pretrained model (--model) has no SFT phase to show.
  if (st.sft_steps > 0 || sft.length > 0) {
    figs.push(chart({ id: "sft_loss", title: "SFT loss", xLabel: "SFT step", integerX: true, empty: "no SFT step yet" }, [{ name: "loss", points: col(sft, "loss") }]));
  }
  const fams = [...new Set(evals.flatMap(e => (e.families || []).map(f => f.family)))].sort();
  figs.push(chart({ id: "pass1", title: "Test pass@1 per family after each evaluation", xLabel: "RL step", integerX: true, legend: true, yMin: 0 },
    [{ name: "all", points: evals.map(e => [e.step, e.overall ? e.overall.pass1 : NaN]), color: "#111827" },
      ...fams.map(f => ({ name: f, points: evals.map(e => [e.step, ((e.families || []).find(x => x.family === f) || {}).pass1]).filter(p => p[1] !== undefined) }))]));
  return figs;
}

function latestTable(met) {
  if (met.length === 0) return h("p", { class: "empty" }, "no RL step yet");
  const last = met[met.length - 1];
  return h("table", { id: "latest" },
    h("tr", {}, LATEST.map(([, label]) => h("th", { class: "num" }, label))),
    h("tr", {}, LATEST.map(([key]) => h("td", { class: "num", "data-key": key, "data-step": String(last.step) }, fmtNum(last[key])))));
}

function evalTable(evals) {
  if (evals.length === 0) return h("p", { class: "empty" }, "no evaluation yet");
  const fams = [...new Set(evals.flatMap(e => (e.families || []).map(f => f.family)))].sort();
  const cell = (r, tag) => r ? h("td", { class: "num", "data-eval": tag }, fmtNum(r.pass1)) : h("td", {}, "");
  return h("table", { id: "evals" },
    h("tr", {}, h("th", {}, "family"), evals.map(e => h("th", { class: "num" }, e.tag))),
    fams.map(f => h("tr", {}, h("td", {}, f), evals.map(e => cell((e.families || []).find(x => x.family === f), e.tag)))),
    h("tr", {}, h("td", {}, h("b", {}, "all")), evals.map(e => cell(e.overall, e.tag))),
    h("tr", {}, h("td", { class: "muted" }, "tool calls / question"), evals.map(e => h("td", { class: "num muted" }, fmtNum(e.overall && e.overall.tool_calls)))),
    h("tr", {}, h("td", { class: "muted" }, "format errors"), evals.map(e => h("td", { class: "num muted" }, fmtNum(e.overall && e.overall.format_errors)))));
}

function statusHead(st) {
  const pct = st.total ? Math.min(100, 100 * st.step / st.total) : st.phase === "done" ? 100 : 0;
  const kv = (k, v) => h("span", { class: "kv" }, h("span", {}, k), h("span", {}, v));
  return h("div", { class: "card row", id: "status" },
    kv("phase", h("span", { class: "badge " + st.phase, id: "phase" }, st.phase)),
    kv("algorithm", st.algo || "–"), kv("preset", st.preset || "–"),
    kv("progress", h("span", { class: "row" }, h("span", { class: "bar" }, h("div", { style: `width:${pct}%` })),
      st.total ? `${st.step}/${st.total}` : "")),
    kv("phase ETA", st.eta_s >= 0 && st.phase !== "done" ? fmtDuration(st.eta_s) : "–"),
    kv("elapsed", st.elapsed_s ? fmtDuration(st.elapsed_s) : "–"),
    kv("updated", st.updated && !st.updated.startsWith("0001") ? new Date(st.updated).toLocaleTimeString() : "–"),
    st.skipped_lines ? h("span", { class: "chip warn" }, `${st.skipped_lines} malformed lines skipped`) : null,
    st.exists ? null : h("span", { class: "chip warn" }, "waiting for the run folder"));
}

async function overviewPage(tok, run) {
  const head = h("div"), latest = h("div", { class: "card" }), charts = h("div", { class: "grid2", id: "charts" }),
    evals = h("div", { class: "card" }), cfg = h("div");
  main.replaceChildren(h("h1", {}, run.name), head, h("h2", {}, "Latest RL step"), latest, h("h2", {}, "Curves"), charts,
    h("h2", {}, "Test pass@1 by family"), evals, cfg);
  let version = null;
  const refresh = async () => {
    const st = await api(runAPI(run, "status"));
    if (tok !== routeToken) return;
    head.replaceChildren(statusHead(st));
    if (st.version === version) return st;
    const [met, sft, ev] = await Promise.all([api(runAPI(run, "metrics")), api(runAPI(run, "sft")), api(runAPI(run, "evals"))]);
    if (tok !== routeToken) return st;
    version = st.version;
    latest.replaceChildren(latestTable(met.rows));
    charts.replaceChildren(...overviewCharts(met.rows, sft.rows, ev.rows, st));
    evals.replaceChildren(evalTable(ev.rows));
    if (!cfg.firstChild && st.exists) {
      try {
        const c = await api(runAPI(run, "config"));
        cfg.replaceChildren(h("details", { class: "card" }, h("summary", {}, "config.json"), h("pre", { class: "cfg" }, JSON.stringify(c, null, 2))));
      } catch (e) { /* not written yet */ }
    }
    return st;
  };
  const st = await refresh();
  if (run.live || (st && st.phase !== "done")) poll(refresh, 2000);
}

// ---------------------------------------------------------------- trees

// entropyColour maps entropy / ln V in [0, 1] to white .. yellow .. red; the
// square root spreads the low values where most tokens are.
function entropyColour(x) {
  const t = Math.min(1, Math.sqrt(Math.max(0, x)));
  return `hsl(${50 - 50 * t}, 100%, ${100 - 48 * t}%)`;
}

function leafClass(l) { return !l.format_ok ? "bad" : l.score >= 1 ? "good" : "warn"; }
const leafColour = { good: "#16a34a", warn: "#d97706", bad: "#dc2626" };
const signed = v => (v >= 0 ? "+" : "") + fmtNum(v);

function treeShape(rec) {
  const kids = rec.nodes.map(() => []);
  rec.nodes.forEach((n, i) => { if (n.parent >= 0) kids[n.parent].push(i); });
  const depth = [], y = [];
  let row = 0;
  const walk = (i, d) => {
    depth[i] = d;
    if (kids[i].length === 0) { y[i] = row++; return; }
    kids[i].forEach(k => walk(k, d + 1));
    y[i] = (y[kids[i][0]] + y[kids[i][kids[i].length - 1]]) / 2;
  };
  walk(0, 0);
  return { kids, depth, y, rows: row };
}

function treeSVG(rec, shape, leaves) {
  const colW = 110, rowH = 26, L = 14, T = 18, labelW = 150;
  const maxD = Math.max(...shape.depth);
  const W = L + maxD * colW + labelW, H = T * 2 + Math.max(0, shape.rows - 1) * rowH;
  const X = i => L + shape.depth[i] * colW, Y = i => T + shape.y[i] * rowH;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "tree-svg", id: "tree-svg", style: `max-width:${W * 1.3}px` });
  rec.nodes.forEach((n, i) => {
    if (n.parent < 0) return;
    const p = n.parent, mx = (X(p) + X(i)) / 2;
    const ntok = n.spans.reduce((a, s) => a + s.tokens.length, 0);
    root.append(svg("path", { class: "edge", d: `M${X(p)} ${Y(p)} C${mx} ${Y(p)} ${mx} ${Y(i)} ${X(i)} ${Y(i)}` },
      svg("title", {}, `node ${i}: ${ntok} tokens`)));
  });
  rec.nodes.forEach((n, i) => {
    const leaf = leaves.get(i);
    let fill = "#6b7280", r = 5;
    if (i === 0) { fill = "#111827"; r = 6; }
    if (n.branch) { fill = n.branch.branched ? "#ea580c" : "#fdba74"; r = 6; }
    if (leaf) fill = leafColour[leafClass(leaf)];
    const c = svg("circle", { cx: X(i), cy: Y(i), r, fill, "data-node": String(i) });
    c.append(svg("title", {}, i === 0 ? "prompt" : `node ${i}`));
    c.addEventListener("click", () => document.getElementById("node-" + i).scrollIntoView({ behavior: "smooth", block: "start" }));
    root.append(c);
    if (leaf) root.append(svg("text", { x: X(i) + 9, y: Y(i) + 3.5 }, `r ${fmtNum(leaf.reward)}  A ${signed(leaf.adv)}`));
    else if (n.branch) root.append(svg("text", { x: X(i) + 8, y: Y(i) - 6 }, `ΔH ${signed(n.branch.delta_h)}`));
  });
  return root;
}

function spanEl(sp) {
  if (sp.kind === "result") return h("span", { class: "result" }, sp.tokens.join(""));
  if (sp.kind === "prompt") return h("span", { class: "prompt" }, sp.tokens.join(""));
  return h("span", { class: "policy" }, sp.tokens.map((t, k) => {
    const e = sp.entropy ? sp.entropy[k] : 0;
    return h("span", { class: "tok", style: `background:${entropyColour(e)}`, title: `entropy/ln V ${e}`, "data-h": String(e) }, t);
  }));
}

function nodeEl(rec, i, shape, leaves) {
  const n = rec.nodes[i], leaf = leaves.get(i);
  const ntok = n.spans.reduce((a, s) => a + s.tokens.length, 0);
  const b = n.branch;
  const headBits = [h("b", {}, i === 0 ? "prompt" : `node ${i}`), `${ntok} tokens`];
  if (n.tool_calls) headBits.push(h("span", { class: "chip" }, `${n.tool_calls} tool call${n.tool_calls > 1 ? "s" : ""}`));
  if (b) headBits.push(h("span", { class: "chip warn", "data-branch": String(i) },
    `branch point: ΔH ${signed(b.delta_h)}, p ${fmtNum(b.prob)}, ${!b.branched ? "no branch" : b.children ? `branched ×${b.children}` : "would branch, but the prompt's trajectories were all started"}`));
  const text = i === 0
    ? h("details", {}, h("summary", {}, "prompt text"), h("div", { class: "text" }, n.spans.map(spanEl)))
    : h("div", { class: "text" }, n.spans.map(spanEl));
  const el = h("div", { class: "node" + (b ? " branchpt" : ""), id: "node-" + i }, h("div", { class: "node-head" }, headBits), text);
  if (leaf) {
    const cls = leafClass(leaf);
    el.append(h("div", { class: "leaf", "data-leaf": String(i) },
      h("span", { class: "chip " + cls }, `reward ${fmtNum(leaf.reward)}`),
      h("span", { class: "chip" }, `score ${fmtNum(leaf.score)}`),
      h("span", { class: "chip" }, `advantage ${signed(leaf.adv)}`),
      h("span", { class: "chip" }, leaf.format_ok ? `answer: ${leaf.answer}` : "format error"),
      h("span", { class: "chip" }, `stop: ${leaf.stop}`),
      leaf.branched ? h("span", { class: "chip" }, "began as a branch") : null));
  }
  if (shape.kids[i].length) el.append(h("div", { class: "kids" }, shape.kids[i].map(k => nodeEl(rec, k, shape, leaves))));
  return el;
}

async function treesPage(tok, run, stepArg, promptArg) {
  const { steps } = await api(runAPI(run, "trees"));
  if (tok !== routeToken) return;
  if (steps.length === 0) {
    main.replaceChildren(h("h1", {}, run.name + ": rollout trees"), h("p", { class: "empty", id: "no-trees" },
      "This run saved no rollout trees yet. cmd/train --save-trees N saves the trees of N prompts per RL step in samples/trees-stepNNNN.jsonl."));
    if (run.live || run.phase !== "done") poll(async () => { const s = await api(runAPI(run, "trees")); if (s.steps.length) route(); }, 3000);
    return;
  }
  const step = stepArg !== undefined ? Number(stepArg) : steps[steps.length - 1];
  const list = await api(runAPI(run, `trees/${step}`));
  if (!list.prompts.length) throw new Error(`step ${step} has no saved trees`);
  const prompt = promptArg !== undefined ? Number(promptArg) : list.prompts[0].prompt;
  const rec = await api(runAPI(run, `trees/${step}/${prompt}`));
  if (tok !== routeToken) return;
  const base = `#/run/${enc(run.id)}/trees`;
  const stepSel = h("select", { id: "step", onchange: e => { location.hash = `${base}/${e.target.value}`; } },
    steps.map(s => h("option", { value: s, selected: s === step }, `step ${s}`)));
  const plist = h("div", { class: "plist card" }, list.prompts.map(p => h("a", { href: `${base}/${step}/${p.prompt}`, class: p.prompt === prompt ? "active" : "" },
    p.question, h("small", {}, `${p.family || ""} · ${p.leaves} leaves · ${p.branches} branches · ${p.correct}/${p.leaves} right · reward ${fmtNum(p.reward_mean)}`))));
  const shape = treeShape(rec);
  const leaves = new Map(rec.leaves.map(l => [l.node, l]));
  const ramp = h("span", { class: "ramp", style: `background:linear-gradient(to right, ${[0, .05, .15, .3, .5, .75, 1].map(entropyColour).join(",")})` });
  const right = h("div", {},
    h("div", { class: "card" },
      h("div", { class: "row" }, h("b", {}, rec.question)),
      h("div", { class: "row muted" }, `gold: ${rec.gold}`, rec.family ? `· family ${rec.family}` : "", `· ${rec.nodes.length} nodes, ${rec.leaves.length} trajectories`,
        `· ${rec.leaves.filter(l => l.score >= 1).length} right`),
      h("div", { class: "row" }, h("span", { class: "scale" }, "token entropy / ln V: 0", ramp, "1"),
        h("span", { class: "chip warn" }, "branch point"), h("span", { class: "chip good" }, "right"),
        h("span", { class: "chip warn" }, "wrong"), h("span", { class: "chip bad" }, "format error")),
      treeSVG(rec, shape, leaves)),
    h("div", { id: "tree" }, nodeEl(rec, 0, shape, leaves)));
  main.replaceChildren(h("h1", {}, run.name + ": rollout trees"),
    h("div", { class: "layout" }, h("div", {}, h("div", { class: "row", style: "margin-bottom:8px" }, stepSel, h("span", { class: "muted" }, `${list.prompts.length} prompts saved`)), plist), right));
}

// ---------------------------------------------------------------- samples

// wordDiff marks the words of b not in a (ins) and of a not in b (del), by
// a longest common subsequence; very long texts are shown without marks.
function wordDiff(a, b) {
  const split = s => s.split(/(\s+|[<>\/=(),.:;"'|])/).filter(x => x !== "");
  const x = split(a), y = split(b);
  if (x.length * y.length > 4e6) return [[h("span", {}, a)], [h("span", {}, b)]];
  const L = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
  for (let i = x.length - 1; i >= 0; i--) for (let j = y.length - 1; j >= 0; j--)
    L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const A = [], B = [];
  let i = 0, j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) { A.push(x[i]); B.push(y[j]); i++; j++; }
    else if (j < y.length && (i === x.length || L[i][j + 1] >= L[i + 1][j])) B.push(h("ins", {}, y[j++]));
    else A.push(h("del", {}, x[i++]));
  }
  return [A, B];
}

async function samplesPage(tok, run) {
  const { evals } = await api(runAPI(run, "samples"));
  if (tok !== routeToken) return;
  if (evals.length === 0) {
    main.replaceChildren(h("h1", {}, run.name + ": samples"), h("p", { class: "empty" }, "no evaluation yet"));
    return;
  }
  const st = { tag: evals[evals.length - 1].tag, family: "", correct: "", format: "", q: "", offset: 0 };
  const tableBox = h("div", { class: "card" }), diffBox = h("div", { class: "card" });
  const sel = (id, opts, value, on) => h("select", { id, onchange: e => on(e.target.value) },
    opts.map(([v, t]) => h("option", { value: v, selected: v === value }, t)));
  const filters = h("div", { class: "filters" });
  const LIMIT = 25;
  const load = async () => {
    const qs = new URLSearchParams({ offset: st.offset, limit: LIMIT });
    for (const k of ["family", "correct", "format", "q"]) if (st[k]) qs.set(k, st[k]);
    const page = await api(runAPI(run, `samples/${enc(st.tag)}?${qs}`));
    if (tok !== routeToken) return;
    filters.replaceChildren(
      sel("tag", evals.map(e => [e.tag, e.tag]), st.tag, v => { st.tag = v; st.offset = 0; load(); }),
      sel("family", [["", "all families"], ...page.families.map(f => [f, f])], st.family, v => { st.family = v; st.offset = 0; load(); }),
      sel("correct", [["", "right and wrong"], ["yes", "right"], ["no", "wrong"]], st.correct, v => { st.correct = v; st.offset = 0; load(); }),
      sel("format", [["", "any format"], ["ok", "well-formed"], ["error", "format error"]], st.format, v => { st.format = v; st.offset = 0; load(); }),
      h("input", { placeholder: "search question or id", value: st.q, onchange: e => { st.q = e.target.value; st.offset = 0; load(); } }),
      h("span", { class: "muted" }, `${page.total} of ${page.all} trajectories`));
    const rows = page.rows.map(p => {
      const resp = h("tr", { hidden: true }, h("td", { colspan: 9 }, h("div", { class: "text" }, p.response),
        p.format_error ? h("p", { class: "error" }, p.format_error) : null));
      const cls = !p.format_ok ? "bad" : p.score >= 1 ? "good" : "warn";
      return [h("tr", { style: "cursor:pointer", onclick: () => { resp.hidden = !resp.hidden; } },
        h("td", {}, p.id || ""), h("td", {}, p.family || ""), h("td", {}, p.question), h("td", {}, p.answer), h("td", {}, p.gold),
        h("td", { class: "num" }, h("span", { class: "chip " + cls }, fmtNum(p.score))), h("td", { class: "num" }, fmtNum(p.reward)),
        h("td", {}, Object.entries(p.calls || {}).map(([k, v]) => `${k}×${v}`).join(" ")), h("td", {}, p.stop)), resp];
    });
    tableBox.replaceChildren(filters,
      h("table", { id: "samples" }, h("tr", {}, ["id", "family", "question", "answer", "gold", "score", "reward", "calls", "stop"].map(t => h("th", {}, t))), rows.flat()),
      h("div", { class: "pager" },
        h("button", { disabled: st.offset === 0, onclick: () => { st.offset = Math.max(0, st.offset - LIMIT); load(); } }, "← previous"),
        h("span", { class: "muted" }, page.total ? `${st.offset + 1}–${Math.min(st.offset + LIMIT, page.total)} of ${page.total}` : "none"),
        h("button", { disabled: st.offset + LIMIT >= page.total, onclick: () => { st.offset += LIMIT; load(); } }, "next →")));
  };
  main.replaceChildren(h("h1", {}, run.name + ": samples"), h("h2", {}, "Evaluation trajectories"), tableBox,
    h("h2", {}, "Before and after"), diffBox);
  await load();
  if (evals.length >= 2) await diffView(tok, run, evals, diffBox);
  else diffBox.replaceChildren(h("p", { class: "empty" }, "one evaluation so far: the comparison needs two"));
}

async function diffView(tok, run, evals, box) {
  const st = { a: evals[0].tag, b: evals[evals.length - 1].tag, change: "changed", offset: 0 };
  const pair = h("div");
  const load = async () => {
    const qs = new URLSearchParams({ a: st.a, b: st.b, offset: st.offset, limit: 25 });
    if (st.change) qs.set("change", st.change);
    const d = await api(runAPI(run, `diff?${qs}`));
    if (tok !== routeToken) return;
    const sel = (opts, v, on) => h("select", { onchange: e => on(e.target.value) }, opts.map(([x, t]) => h("option", { value: x, selected: x === v }, t)));
    const tags = evals.map(e => [e.tag, e.tag]);
    box.replaceChildren(
      h("div", { class: "filters" }, sel(tags, st.a, v => { st.a = v; st.offset = 0; load(); }), "→", sel(tags, st.b, v => { st.b = v; st.offset = 0; load(); }),
        sel([["changed", "changed"], ["gained", "gained"], ["lost", "lost"], ["", "all"]], st.change, v => { st.change = v; st.offset = 0; load(); }),
        h("span", { class: "muted" }, `${d.gained} gained, ${d.lost} lost; ${d.total} shown`)),
      h("table", {}, h("tr", {}, ["id", "family", "question", st.a, st.b].map(t => h("th", {}, t))),
        d.rows.map(r => h("tr", { style: "cursor:pointer", onclick: () => showPair(r) },
          h("td", {}, r.id), h("td", {}, r.family), h("td", {}, r.question), h("td", { class: "num" }, fmtNum(r.score_a)), h("td", { class: "num" }, fmtNum(r.score_b))))),
      h("div", { class: "pager" },
        h("button", { disabled: st.offset === 0, onclick: () => { st.offset = Math.max(0, st.offset - 25); load(); } }, "← previous"),
        h("button", { disabled: st.offset + 25 >= d.total, onclick: () => { st.offset += 25; load(); } }, "next →")),
      pair);
  };
  const showPair = async r => {
    const p = await api(runAPI(run, `diff/${enc(r.id)}?${new URLSearchParams({ a: st.a, b: st.b })}`));
    const [A, B] = wordDiff(p.a.response, p.b.response);
    pair.replaceChildren(h("p", {}, h("b", {}, r.question), ` gold: ${p.a.gold}`),
      h("div", { class: "diff" },
        h("div", {}, h("div", { class: "muted" }, `${st.a}: answer ${p.a.answer || "–"}, score ${fmtNum(p.a.score)}`), h("div", { class: "text" }, A)),
        h("div", {}, h("div", { class: "muted" }, `${st.b}: answer ${p.b.answer || "–"}, score ${fmtNum(p.b.score)}`), h("div", { class: "text" }, B))));
  };
  await load();
}

// ---------------------------------------------------------------- compare

const COMPARE = ["reward_mean", "accuracy", "tool_calls", "tool_calls_flat", "format_error_rate", "delta_h_mean", "branches",
  "branch_prob_mean", "groups_with_signal", "pass_at_m",
  "approx_kl", "kl", "clip_frac", "response_len", "loss", "grad_norm", "time_rollout_s", "time_update_s"];

async function comparePage(tok) {
  const st = { metric: "reward_mean", smooth: 1, chosen: new Set(runs.filter(r => !r.error).slice(0, 12).map(r => r.id)) };
  const data = new Map();
  const box = h("div"), table = h("div", { class: "card" });
  const draw = async () => {
    for (const id of st.chosen) {
      if (data.has(id)) continue;
      const run = runs.find(r => r.id === id);
      const [m, e] = await Promise.all([api(runAPI(run, "metrics")), api(runAPI(run, "evals"))]);
      data.set(id, { met: m.rows, evals: e.rows });
    }
    if (tok !== routeToken) return;
    const smooth = pts => pts.map((p, i) => {
      const w = pts.slice(Math.max(0, i - st.smooth + 1), i + 1).filter(q => Number.isFinite(q[1]));
      return [p[0], w.length ? w.reduce((a, q) => a + q[1], 0) / w.length : NaN];
    });
    const chosen = runs.filter(r => st.chosen.has(r.id));
    box.replaceChildren(chart({ id: "compare", title: `${st.metric}${st.smooth > 1 ? ` (mean of ${st.smooth} steps)` : ""}`, xLabel: "RL step", integerX: true, legend: true, width: 1100, height: 380 },
      chosen.map(r => ({ name: r.name, points: smooth(col(data.get(r.id).met, st.metric)) }))));
    table.replaceChildren(h("table", { id: "compare-table" },
      h("tr", {}, ["run", "algorithm", "first pass@1", "last pass@1", "last eval", "tool calls (last step)", "trajectory-level"].map(t => h("th", {}, t))),
      chosen.map(r => {
        const d = data.get(r.id), ev = d.evals, m = d.met[d.met.length - 1] || {};
        return h("tr", {}, h("td", {}, h("a", { href: "#/run/" + enc(r.id) }, r.name)), h("td", {}, r.algo || ""),
          h("td", { class: "num" }, ev.length ? fmtNum(ev[0].overall.pass1) : "–"), h("td", { class: "num" }, ev.length ? fmtNum(ev[ev.length - 1].overall.pass1) : "–"),
          h("td", {}, ev.length ? ev[ev.length - 1].tag : ""), h("td", { class: "num" }, fmtNum(m.tool_calls)), h("td", { class: "num" }, fmtNum(m.tool_calls_flat)));
      })));
  };
  const picks = h("div", { class: "card filters" },
    h("select", { id: "metric", onchange: e => { st.metric = e.target.value; draw(); } }, COMPARE.map(k => h("option", { value: k, selected: k === st.metric }, k))),
    h("select", { onchange: e => { st.smooth = Number(e.target.value); draw(); } }, [1, 3, 5, 10].map(n => h("option", { value: n }, n === 1 ? "no smoothing" : `mean of ${n} steps`))),
    runs.filter(r => !r.error).map(r => h("label", {}, h("input", { type: "checkbox", checked: st.chosen.has(r.id), onchange: e => {
      if (e.target.checked) st.chosen.add(r.id); else st.chosen.delete(r.id);
      draw();
    } }), " " + r.name)));
  main.replaceChildren(h("h1", {}, "Compare runs"), picks, box, h("h2", {}, "Evaluations"), table);
  await draw();
}

window.addEventListener("hashchange", route);
route();
