// charts.js: small SVG charts written for this dashboard (no library, no
// network). chart() draws lines or stacked bars over a numeric x axis with
// nice ticks, a legend and a hover read-out. Every point is also a <circle>
// (hidden when there are many) carrying data-series, data-x and data-y with
// the exact values, so tests and scripts can read what is drawn.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];

function svg(tag, attrs, ...kids) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const k of kids) el.append(k);
  return el;
}

// niceTicks returns about n round numbers covering [lo, hi]; with snap the
// range widens to the ticks just outside it, so the axis ends on a label.
function niceTicks(lo, hi, n, snap) {
  if (!(hi > lo)) { const d = Math.abs(lo) || 1; lo -= d / 2; hi += d / 2; }
  const raw = (hi - lo) / Math.max(1, n);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw) || 10 * mag;
  if (snap) { lo = Math.floor(lo / step + 1e-9) * step; hi = Math.ceil(hi / step - 1e-9) * step; }
  const ticks = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : +t.toPrecision(12)); // no -6.6e-24 for 0
  }
  return { ticks, lo: Math.min(lo, ticks[0]), hi: Math.max(hi, ticks[ticks.length - 1]) };
}

function fmtTick(v) {
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(+v.toPrecision(4));
}

// chart draws series [{name, points: [[x, y], ...], color?}] and returns a
// <figure>. opts: {id, title, xLabel, kind: "line" | "stacked", width,
// height (of the drawing, scaled to the page's width), yMin, legend, empty}.
function chart(opts, series) {
  const W = opts.width || 460, H = opts.height || 220, L = 52, R = 12, T = 10, B = 34;
  const fig = document.createElement("figure");
  fig.className = "chart";
  if (opts.id) fig.dataset.chart = opts.id;
  const cap = document.createElement("figcaption");
  cap.textContent = opts.title;
  fig.append(cap);
  series = series.filter(s => s.points.some(p => Number.isFinite(p[1]))); // e.g. a field older runs lack
  series.forEach((s, i) => { s.color = s.color || PALETTE[i % PALETTE.length]; });
  if (series.length === 0) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = opts.empty || "no data yet";
    fig.append(p);
    return fig;
  }
  const stacked = opts.kind === "stacked";
  const xs = [...new Set(series.flatMap(s => s.points.map(p => p[0])))].sort((a, b) => a - b);
  let ys = series.flatMap(s => s.points.map(p => p[1])).filter(Number.isFinite);
  if (stacked) ys = xs.map(x => series.reduce((acc, s) => acc + ((s.points.find(p => p[0] === x) || [0, 0])[1] || 0), 0));
  let ylo = Math.min(...ys), yhi = Math.max(...ys);
  if (stacked || opts.yMin === 0) ylo = Math.min(0, ylo);
  const yt = niceTicks(ylo, yhi, 4, true);
  // Bars need half a slot on each side so that the first and last stay
  // inside the axes.
  const pad = stacked ? Math.max(0.5, (xs[xs.length - 1] - xs[0]) / Math.max(1, xs.length - 1) / 2) : 0;
  const xt = niceTicks(xs[0] - pad, xs[xs.length - 1] + pad, 6);
  if (stacked) { xt.lo = xs[0] - pad; xt.hi = xs[xs.length - 1] + pad; xt.ticks = xt.ticks.filter(t => t >= xt.lo && t <= xt.hi); }
  const px = x => L + (x - xt.lo) / (xt.hi - xt.lo) * (W - L - R);
  const py = y => T + (1 - (y - yt.lo) / (yt.hi - yt.lo)) * (H - T - B);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", role: "img", "aria-label": opts.title });
  const grid = svg("g", { class: "grid" });
  for (const t of yt.ticks) {
    grid.append(svg("line", { x1: L, x2: W - R, y1: py(t), y2: py(t) }));
    grid.append(svg("text", { x: L - 6, y: py(t) + 4, "text-anchor": "end" }, fmtTick(t)));
  }
  for (const t of xt.ticks) {
    if (opts.integerX && !Number.isInteger(t)) continue;
    grid.append(svg("text", { x: px(t), y: H - B + 16, "text-anchor": "middle" }, fmtTick(t)));
  }
  grid.append(svg("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
  if (opts.xLabel) grid.append(svg("text", { x: (L + W - R) / 2, y: H - 3, "text-anchor": "middle", class: "label" }, opts.xLabel));
  root.append(grid);
  const many = xs.length > 60;
  if (stacked) {
    const bw = Math.max(1, Math.min(24, (W - L - R) / Math.max(xs.length, 1) * 0.7));
    const base = new Map(xs.map(x => [x, 0]));
    for (const s of series) {
      const g = svg("g", { fill: s.color });
      for (const [x, y] of s.points) {
        const b0 = base.get(x), b1 = b0 + (Number.isFinite(y) ? y : 0);
        base.set(x, b1);
        g.append(svg("rect", { x: px(x) - bw / 2, y: py(b1), width: bw, height: Math.max(0, py(b0) - py(b1)),
          "data-series": s.name, "data-x": String(x), "data-y": String(y) }));
      }
      root.append(g);
    }
  } else {
    for (const s of series) {
      let d = "";
      let pen = false;
      for (const [x, y] of s.points) {
        if (!Number.isFinite(y)) { pen = false; continue; }
        d += (pen ? "L" : "M") + px(x).toFixed(1) + " " + py(y).toFixed(1);
        pen = true;
      }
      root.append(svg("path", { d, fill: "none", stroke: s.color, "stroke-width": 2, class: s.dashed ? "dashed" : "" }));
      const g = svg("g", { fill: s.color, class: many ? "dots hidden" : "dots" });
      for (const [x, y] of s.points) {
        if (!Number.isFinite(y)) continue;
        g.append(svg("circle", { cx: px(x), cy: py(y), r: 3, "data-series": s.name, "data-x": String(x), "data-y": String(y) }));
      }
      root.append(g);
    }
  }
  // Hover: a cursor at the nearest x and the values there.
  const cursor = svg("line", { class: "cursor", y1: T, y2: H - B, visibility: "hidden" });
  root.append(cursor);
  const tip = document.createElement("div");
  tip.className = "tip";
  tip.hidden = true;
  root.addEventListener("mousemove", ev => {
    const box = root.getBoundingClientRect();
    const mx = (ev.clientX - box.left) / box.width * W;
    let best = xs[0];
    for (const x of xs) if (Math.abs(px(x) - mx) < Math.abs(px(best) - mx)) best = x;
    cursor.setAttribute("x1", px(best)); cursor.setAttribute("x2", px(best));
    cursor.setAttribute("visibility", "visible");
    tip.replaceChildren();
    const head = document.createElement("b");
    head.textContent = (opts.xLabel || "x") + " " + best;
    tip.append(head);
    for (const s of series) {
      const p = s.points.find(p => p[0] === best);
      if (!p) continue;
      const row = document.createElement("div");
      const sw = document.createElement("i");
      sw.style.background = s.color;
      row.append(sw, `${s.name}: ${fmtNum(p[1])}`);
      tip.append(row);
    }
    tip.hidden = false;
    tip.style.left = Math.min(box.width - 150, (px(best) / W) * box.width + 10) + "px";
  });
  root.addEventListener("mouseleave", () => { cursor.setAttribute("visibility", "hidden"); tip.hidden = true; });
  const wrap = document.createElement("div");
  wrap.className = "plotwrap";
  wrap.append(root, tip);
  fig.append(wrap);
  if (series.length > 1 || opts.legend) {
    const leg = document.createElement("div");
    leg.className = "legend";
    for (const s of series) {
      const item = document.createElement("span");
      const sw = document.createElement("i");
      sw.style.background = s.color;
      item.append(sw, s.name);
      leg.append(item);
    }
    fig.append(leg);
  }
  return fig;
}

// fmtNum shows a number as the pages do: integers whole, others to 4
// significant digits.
function fmtNum(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return v.toPrecision(4);
}
