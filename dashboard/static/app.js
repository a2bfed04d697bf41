// earshot's built-in dashboard: each panel runs one query of the insights
// cookbook through the API and draws it. No framework, no build step.
"use strict";

const $ = (sel, el = document) => el.querySelector(sel);
const token = () => sessionStorage.getItem("earshot.token") || "";

// The token can come in the fragment (#token=…), so a link can open the
// page signed in; it is moved to sessionStorage and off the address bar.
(function takeToken() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    sessionStorage.setItem("earshot.token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
})();

class APIError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || "HTTP " + status);
    this.status = status;
  }
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { "Authorization": "Bearer " + token(), "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
  if (!res.ok) throw new APIError(res.status, data);
  return data;
}

const insight = (name, params) => api("POST", "/v1/insights/" + name, { params });

// rows turns a Table {columns, rows} into objects.
function rows(t) {
  return (t.rows || []).map(r => Object.fromEntries(t.columns.map((c, i) => [c, r[i]])));
}

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  // Styles go through the CSSOM: the content security policy refuses style attributes.
  for (const [k, v] of Object.entries(attrs)) k === "style" ? (e.style.cssText = v) : e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}

const svgNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, ...kids) {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}

const palette = ["#2f6fdf", "#e0663a", "#2a9d6e", "#9b59b6", "#d4a017", "#c0392b", "#16a0b5", "#7f8c8d"];
const sentimentColour = { negative: "#c0392b", neutral: "#95a5a6", positive: "#2a9d6e" };
const fmt = n => Number(n).toLocaleString("en");

function table(data, columns) {
  const cols = columns || (data.length ? Object.keys(data[0]) : []);
  if (!data.length) return el("p", { class: "empty" }, "nothing in this window");
  return el("table", {},
    el("thead", {}, el("tr", {}, ...cols.map(c => el("th", {}, c.replaceAll("_", " "))))),
    el("tbody", {}, ...data.map(r => el("tr", {}, ...cols.map(c => el("td", {}, typeof r[c] === "number" ? fmt(r[c]) : String(r[c] ?? "")))))));
}

// axisLabels places up to three time labels (start, middle, end) between x0
// and x1 (epoch seconds, UTC), with as much precision as the span needs and
// no label repeated: a window of one bucket gets one label, not three
// identical ones.
function axisLabels(x0, x1) {
  const span = x1 - x0;
  if (span <= 0) return [{ t: x0, text: new Date(x0 * 1000).toISOString().slice(5, 16).replace("T", " "), anchor: "start" }];
  const cut = span < 180 ? [11, 19] : span < 2 * 86400 ? [5, 16] : [0, 10];
  const out = [];
  [x0, (x0 + x1) / 2, x1].forEach((t, i) => {
    const text = new Date(t * 1000).toISOString().slice(cut[0], cut[1]).replace("T", " ");
    if (!out.some(o => o.text === text)) out.push({ t, text, anchor: ["start", "middle", "end"][i] });
  });
  return out;
}

// lineChart draws one line per series over time.
function lineChart(series, { w = 720, h = 220 } = {}) {
  const names = Object.keys(series);
  const pts = names.flatMap(n => series[n]);
  if (!pts.length) return el("p", { class: "empty" }, "nothing in this window");
  const xs = pts.map(p => p.t), ys = pts.map(p => p.v);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1), y1 = Math.max(...ys, 1);
  const pad = { l: 44, r: 8, t: 8, b: 22 };
  const X = t => pad.l + (t - x0) / (x1 - x0) * (w - pad.l - pad.r);
  const Y = v => h - pad.b - v / y1 * (h - pad.t - pad.b);
  const g = svg("svg", { viewBox: `0 0 ${w} ${h}`, class: "chart", role: "img" });
  for (const f of [0, 0.5, 1]) {
    g.append(svg("line", { x1: pad.l, x2: w - pad.r, y1: Y(y1 * f), y2: Y(y1 * f), class: "grid" }));
    g.append(svg("text", { x: pad.l - 4, y: Y(y1 * f) + 4, class: "axis", "text-anchor": "end" }, fmt(Math.round(y1 * f))));
  }
  for (const { t, text, anchor } of axisLabels(x0, Math.max(...xs))) {
    g.append(svg("text", { x: X(t), y: h - 6, class: "axis", "text-anchor": anchor }, text));
  }
  names.forEach((n, i) => {
    const s = series[n].sort((a, b) => a.t - b.t);
    g.append(svg("polyline", { points: s.map(p => `${X(p.t)},${Y(p.v)}`).join(" "), fill: "none", stroke: palette[i % palette.length], "stroke-width": 2 }));
    // A polyline of one point draws nothing: a window of one bucket (a few
    // hours of data under "last 7 days") would show an empty chart.
    if (s.length === 1) g.append(svg("circle", { cx: X(s[0].t), cy: Y(s[0].v), r: 4, fill: palette[i % palette.length] }));
  });
  const legend = el("div", { class: "legend" }, ...names.map((n, i) => el("span", {}, el("i", { style: "background:" + palette[i % palette.length] }), n || "(none)")));
  return el("div", {}, g, legend);
}

// bars draws horizontal bars, optionally stacked by sentiment, with a
// legend of the colours of their parts.
function bars(items) {
  if (!items.length) return el("p", { class: "empty" }, "nothing in this window");
  const max = Math.max(...items.map(i => i.parts.reduce((a, p) => a + p.v, 0)), 1);
  const colours = new Map();
  for (const i of items) for (const p of i.parts) if (!colours.has(p.name)) colours.set(p.name, p.colour);
  return el("div", {},
    el("div", { class: "bars" }, ...items.map(i => el("div", { class: "bar" },
      el("span", { class: "label" }, inert(i.label)),
      el("span", { class: "track" }, ...i.parts.map(p => el("span", { class: "fill", title: `${p.name}: ${fmt(p.v)}`, style: `width:${100 * p.v / max}%;background:${p.colour}` }))),
      el("span", { class: "value" }, fmt(i.parts.reduce((a, p) => a + p.v, 0)))))),
    el("div", { class: "legend" }, ...[...colours].map(([n, c]) => el("span", {}, el("i", { style: "background:" + c }), n))));
}

// compliance is the SLA share met of the alerts decided (met + breached);
// with none decided there is no share to show.
function compliance(met, breached) {
  const m = Number(met) || 0, b = Number(breached) || 0;
  return m + b === 0 ? "–" : (100 * m / (m + b)).toFixed(1) + "%";
}

// mergeTerms sums the top terms of several watchlists ([{term, total}]
// lists) and keeps the top n.
function mergeTerms(lists, n) {
  const sum = new Map();
  for (const l of lists) for (const x of l) sum.set(x.term, (sum.get(x.term) || 0) + Number(x.total));
  return [...sum].map(([term, total]) => ({ term, total }))
    .sort((a, b) => b.total - a.total || (a.term < b.term ? -1 : 1)).slice(0, n);
}

// termsScope picks the watchlists whose terms "Top terms" sums: all of them
// (busiest first), but at most max, so a tenant with hundreds of watchlists
// does not fire hundreds of queries; the note says which.
function termsScope(wls, max) {
  const shown = wls.slice(0, max);
  const note = wls.length === 1 ? "watchlist " + wls[0]
    : shown.length < wls.length ? `the ${shown.length} busiest of ${wls.length} watchlists: ${shown.join(", ")}`
    : `all ${wls.length} watchlists: ${wls.join(", ")}`;
  return { shown, note };
}

// stageRows reads the per-stage stream counters out of a /metrics text.
// Dead letters are a series per reason class: a stage's row sums them.
function stageRows(text) {
  const stages = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^earshot_stream_(records_in_total|records_out_total|dead_letters_total|consumer_lag_records)\{[^}]*stage="([^"]+)"[^}]*\} (\S+)/);
    if (!m) continue;
    const s = (stages[m[2]] ||= {});
    s[m[1]] = m[1] === "dead_letters_total" ? (s[m[1]] ?? 0) + Number(m[3]) : Number(m[3]);
  }
  return Object.entries(stages).map(([stage, s]) => ({
    stage, in: s.records_in_total ?? 0, out: s.records_out_total ?? 0, dead_letters: s.dead_letters_total ?? 0, lag: s.consumer_lag_records ?? 0,
  }));
}

// growthText says how a theme moved against the period before: "new"
// when it had no posts then, else the change in per cent, signed.
function growthText(t) {
  if (t.growth === null || t.growth === undefined) return t.previous ? "–" : "new";
  const pct = Math.round(100 * t.growth);
  return (pct > 0 ? "+" : pct < 0 ? "−" : "±") + Math.abs(pct) + "%";
}

// themeRows turns a themes answer into rows of the panel: label, posts,
// trend, the sentiment parts and the most typical post.
function themeRows(answer) {
  return ((answer && answer.themes) || []).map(t => ({
    label: inert(t.label), // the label and the example are words of posts (inert.js)
    posts: t.posts + (t.sampled ? " (est.)" : ""),
    trend: t.previous ? growthText(t) + " vs " + fmt(t.previous) : growthText(t),
    parts: ["negative", "neutral", "positive", "unknown"].map(n => ({ name: n, v: Number((t.sentiment || {})[n]) || 0, colour: sentimentColour[n] || "#bbb" })),
    example: inert(((t.representative || [])[0] || {}).text),
  }));
}

function themesView(answer) {
  const r = themeRows(answer);
  if (!r.length) return el("p", { class: "empty" }, "no themes in this window");
  const max = Math.max(...r.map(x => x.parts.reduce((a, p) => a + p.v, 0)), 1);
  return el("div", {},
    el("p", { class: "note" }, `${fmt(answer.posts)} posts, ${answer.read < answer.posts ? fmt(answer.read) + " read (a sample), " : ""}${Math.round(100 * answer.themed)}% in a theme; trend against the period before`),
    el("table", { class: "themes" },
      el("thead", {}, el("tr", {}, ...["theme", "posts", "trend", "sentiment", "a typical post"].map(c => el("th", {}, c)))),
      el("tbody", {}, ...r.map(x => el("tr", {},
        el("td", { class: "label" }, x.label),
        el("td", {}, x.posts),
        el("td", {}, x.trend),
        el("td", {}, el("span", { class: "track" }, ...x.parts.map(p => el("span", { class: "fill", title: `${p.name}: ${fmt(p.v)}`, style: `width:${100 * p.v / max}%;background:${p.colour}` })))),
        el("td", { class: "example" }, x.example))))));
}

// noStages is what the health panel says when this process runs no stage:
// under `earshot api` the stages run in their own processes.
const noStages = "This API process runs no pipeline stages (as under earshot api): each stage process " +
  "(ingest, match, enrich, route, sink) serves its own counters at /metrics on its metrics address.";

function epoch(s) { return Date.parse(String(s).replace(" ", "T") + (String(s).endsWith("Z") ? "" : "Z")) / 1000; }

const panels = {
  async volume(p) {
    const r = rows(await insight("mentions_over_time", { since: p.since, watchlist: p.watchlist, bucket: p.since === "24h" ? "1h" : "6h" }));
    // One line per watchlist: the regions of a bucket summed.
    const sums = {};
    for (const x of r) {
      const s = (sums[x.watchlist] ||= {});
      const t = epoch(x.bucket_start);
      s[t] = (s[t] || 0) + Number(x.mentions);
    }
    const series = Object.fromEntries(Object.entries(sums).map(([w, s]) => [w, Object.entries(s).map(([t, v]) => ({ t: Number(t), v }))]));
    return lineChart(series);
  },
  async regions(p) {
    const r = rows(await insight("mentions_by_region_sentiment", { since: p.since, watchlist: p.watchlist }));
    const by = {};
    for (const x of r) {
      const region = x.region || "unknown", label = x.sentiment_label || "unknown";
      by[region] ||= {};
      by[region][label] = (by[region][label] || 0) + Number(x.total);
    }
    const total = s => Object.values(s).reduce((a, v) => a + v, 0);
    const items = Object.entries(by)
      .sort((a, b) => total(b[1]) - total(a[1]))
      .map(([region, s]) => ({ label: region, parts: Object.entries(s).map(([name, v]) => ({ name, v, colour: sentimentColour[name] || "#bbb" })) }));
    return bars(items);
  },
  async sentiment(p) {
    const r = rows(await insight("mentions_by_watchlist", { since: p.since })).filter(x => !p.watchlist || x.watchlist === p.watchlist);
    return bars(r.map(x => ({ label: x.watchlist, parts: ["negative", "neutral", "positive"].map(n => ({ name: n, v: Number(x[n]), colour: sentimentColour[n] })) })));
  },
  async terms(p) {
    // "all" sums the top terms of every watchlist with mentions in the window.
    const wls = p.watchlist ? [p.watchlist] : rows(await insight("mentions_by_watchlist", { since: p.since })).map(x => x.watchlist);
    if (!wls.length) return el("p", { class: "empty" }, "nothing in this window");
    const { shown, note } = termsScope(wls, 8);
    const lists = await Promise.all(shown.map(async wl => rows(await insight("top_terms_daily", { watchlist: wl, since: p.since, top: "15" }))));
    const r = mergeTerms(lists, 15);
    return el("div", {}, el("p", { class: "note" }, note), bars(r.map(x => ({ label: x.term, parts: [{ name: "mentions", v: x.total, colour: palette[0] }] }))));
  },
  async themes(p) {
    const q = new URLSearchParams({ since: p.since, limit: "8" });
    if (p.watchlist) q.set("watchlist", p.watchlist);
    return themesView(await api("GET", "/v1/insights/themes?" + q));
  },
  async alerts() {
    const r = rows(await insight("overdue_alerts", { top: "20" }));
    return table(r.map(x => ({ queue: x.queue, priority: x.priority, team: x.team, region: x.region, due_at: x.due_at, overdue: Math.round(Number(x.overdue_seconds) / 60) + " min" })));
  },
  async sla(p) {
    const r = rows(await insight("sla_compliance", { since: p.since }));
    return table(r.map(x => ({ queue: x.queue, region: x.region || "", met: x.met, breached: x.breached, pending: x.pending, compliance: compliance(x.met, x.breached) })));
  },
  async digests() {
    // The archived digests this token's scope covers (docs/digests.md):
    // each file is fetched with the token and saved, as a link cannot carry it.
    // A page reads at most 1,000 digests, so a narrowly scoped token's page
    // may be short: follow the cursor (a few pages) until 50 are shown.
    const r = [];
    for (let cursor = "", pages = 0; r.length < 50 && pages < 10; pages++) {
      const p = await api("GET", "/v1/digests?limit=50" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
      r.push(...(p.items || []));
      if (!(cursor = p.next_cursor)) break;
    }
    if (!r.length) return el("p", { class: "empty" }, "no digests archived yet");
    const file = (m, name, label) => {
      if (!(m.files || []).includes(name)) return "";
      const b = el("button", { type: "button", "data-file": name }, label);
      b.addEventListener("click", async () => {
        const res = await fetch(`/v1/digests/${m.slug}/${m.period}/${name}`, { headers: { "Authorization": "Bearer " + token() } });
        if (!res.ok) return b.replaceWith(el("span", { class: "error" }, "HTTP " + res.status));
        const a = el("a", { href: URL.createObjectURL(await res.blob()), download: `${m.slug}-${m.period}-${name}` });
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 60000);
      });
      return b;
    };
    return el("table", {},
      el("thead", {}, el("tr", {}, ...["digest", "period", "mentions", "subject", "files"].map(c => el("th", {}, c)))),
      el("tbody", {}, ...r.slice(0, 50).map(m => el("tr", {},
        el("td", {}, m.name), el("td", {}, m.since.slice(0, 16).replace("T", " ") + " to " + m.until.slice(0, 16).replace("T", " ") + " UTC"),
        el("td", {}, fmt(m.mentions)), el("td", {}, m.subject),
        el("td", {}, file(m, "digest.pdf", "PDF"), " ", file(m, "digest.html", "page"), " ", file(m, "summary.csv", "CSV"))))));
  },
  async health() {
    const res = await fetch("/metrics");
    if (!res.ok) throw new APIError(res.status, null);
    const data = stageRows(await res.text());
    const ready = await fetch("/readyz").then(r => r.ok ? "ready" : "not ready (" + r.status + ")").catch(() => "unreachable");
    return el("div", {}, el("p", { class: "note" }, "API " + ready), data.length ? table(data) : el("p", { class: "empty" }, noStages));
  },
};

// The pure parts, for the page's tests (dashboard/app_test.go).
window.earshotUI = { axisLabels, lineChart, bars, compliance, mergeTerms, termsScope, stageRows, noStages, growthText, themeRows, themesView };

async function draw() {
  const p = { since: $("#since").value, watchlist: $("#watchlist").value };
  await Promise.all([...document.querySelectorAll(".panel")].map(async panel => {
    const body = $(".body", panel);
    panel.dataset.state = "loading";
    try {
      const view = await panels[panel.dataset.panel](p);
      body.replaceChildren(view);
      panel.dataset.state = "ok";
    } catch (e) {
      if (e.status === 401) return signIn();
      body.replaceChildren(el("p", { class: "error" }, e.message));
      panel.dataset.state = "error";
    }
  }));
  document.body.dataset.state = "drawn";
}

async function loadWatchlists() {
  try {
    const r = rows(await insight("mentions_by_watchlist", { since: "30d" }));
    const sel = $("#watchlist");
    for (const x of r) sel.append(el("option", { value: x.watchlist }, x.watchlist));
  } catch (e) {
    if (e.status === 401) signIn();
  }
}

function signIn() {
  $("#signin").hidden = false;
  $("#panels").hidden = true;
  document.body.dataset.state = "signin";
}

document.addEventListener("DOMContentLoaded", () => {
  if (!$("#panels")) return; // loaded by a test page
  $("#tokenform").addEventListener("submit", ev => {
    ev.preventDefault();
    sessionStorage.setItem("earshot.token", $("#token").value.trim());
    $("#signin").hidden = true;
    $("#panels").hidden = false;
    loadWatchlists().then(draw);
  });
  $("#refresh").addEventListener("click", draw);
  $("#since").addEventListener("change", draw);
  $("#watchlist").addEventListener("change", draw);
  $("#signout").addEventListener("click", () => { sessionStorage.removeItem("earshot.token"); signIn(); });
  if (!token()) return signIn();
  loadWatchlists().then(draw);
});
