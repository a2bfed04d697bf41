// earshot's responder desk: the alerts of the queues the token may see,
// their posts and desk (claim, resolve, notes, links), kept live over the
// API's feed (/v1/stream). No framework, no build step. Everything that
// came from a post, a person or a note is put in the page as text
// (text nodes, never parsed as markup); a link is a link only when it is http(s).
"use strict";

const $ = (sel, el = document) => el.querySelector(sel);
const token = () => sessionStorage.getItem("earshot.token") || "";

// The fragment may carry the token (#token=…) and an alert (#alert=…); a
// notification's link carries the alert in the query (?alert=…). The
// token is moved to sessionStorage and off the address bar.
const wanted = (function takeParams() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  if (hash.get("token")) sessionStorage.setItem("earshot.token", hash.get("token"));
  const alert = hash.get("alert") || query.get("alert") || "";
  if (hash.get("token")) history.replaceState(null, "", location.pathname + location.search + (hash.get("alert") ? "#alert=" + encodeURIComponent(hash.get("alert")) : ""));
  return { alert };
})();

class APIError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || "HTTP " + status);
    this.status = status;
  }
}

async function api(method, path, body, headers = {}) {
  const res = await fetch(path, {
    method,
    headers: Object.assign({ "Authorization": "Bearer " + token(), "Content-Type": "application/json" }, headers),
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
  if (!res.ok) throw new APIError(res.status, data);
  return data;
}

// el builds an element; its children are nodes or strings, and strings
// become text nodes, so nothing given to it is ever parsed as HTML.
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.dataset[k.slice(5).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

// ---- pure helpers (tested in dashboard/desk_test.go) ----

// segments cuts a post's text into runs, marked where a watchlist term
// matched. spans are byte ranges of the UTF-8 text ([{start, end, term}],
// as match records them); without any, the keywords are found in the text
// (case-insensitively). Overlapping spans are merged; spans past the end
// (an excerpt of a long post) are cut to it.
function segments(text, spans, keywords) {
  text = String(text ?? "");
  let ranges = [];
  if (spans && spans.length) {
    const bytes = new TextEncoder().encode(text);
    // Byte offset → UTF-16 index, at character boundaries.
    const idx = new Map();
    let b = 0, i = 0;
    for (const ch of text) {
      idx.set(b, i);
      b += new TextEncoder().encode(ch).length;
      i += ch.length;
    }
    idx.set(b, i);
    const at = off => {
      off = Math.max(0, Math.min(Number(off) || 0, bytes.length));
      while (!idx.has(off) && off > 0) off--;
      return idx.get(off);
    };
    for (const s of spans) {
      const a = at(s.start), z = at(s.end);
      if (z > a) ranges.push([a, z, s.term || ""]);
    }
  } else {
    const words = [...new Set((keywords || []).map(k => String(k)).filter(k => k.trim()))];
    if (words.length) {
      const esc = w => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const re = new RegExp(words.map(esc).sort((x, y) => y.length - x.length).join("|"), "giu");
      for (const m of text.matchAll(re)) if (m[0]) ranges.push([m.index, m.index + m[0].length, m[0]]);
    }
  }
  ranges.sort((x, y) => x[0] - y[0] || y[1] - x[1]);
  const merged = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([...r]);
  }
  const out = [];
  let pos = 0;
  for (const [a, z, term] of merged) {
    if (a > pos) out.push({ text: text.slice(pos, a), mark: false });
    out.push({ text: text.slice(a, z), mark: true, term });
    pos = z;
  }
  if (pos < text.length || !out.length) out.push({ text: text.slice(pos), mark: false });
  return out;
}

// safeURL is the URL as a string when it is http or https, else "".
function safeURL(u) {
  try {
    const x = new URL(String(u));
    return x.protocol === "http:" || x.protocol === "https:" ? x.href : "";
  } catch (_) {
    return "";
  }
}

// linkView is how a responder's link is shown: href when it is http(s);
// the URL as the browser parsed it (href), so a Unicode host shows in the
// ASCII form the browser goes to ("https://\u0430pple.com/" with a Cyrillic
// "а" shows as https://xn--pple-43d.com/) and a look-alike is plain; label,
// the title or else that URL; shown, the URL beside a title.
function linkView(l) {
  const href = safeURL(l.url);
  const url = href || inert(l.url);
  const title = inert(l.title);
  return { href, label: title || url, shown: title ? url : "" };
}

const prio = p => ({ P1: 1, P2: 2, P3: 3, P4: 4 })[p] || 9;

// closedByPlatform says whether a desk is the platform's closing of a retracted
// alert (its post deleted, or edited out of every watchlist).
const closedByPlatform = d => d.state === "resolved" && d.outcome === "retracted" && d.resolved_by === "platform";

// stateOf is the desk state an alert shows: snoozed while its snooze runs,
// "closed by the platform" when its post was retracted.
function stateOf(a, now) {
  const d = a.desk || {};
  const st = d.state || "new";
  if (closedByPlatform(d)) return "closed by the platform";
  if (st !== "resolved" && d.snoozed_until && Date.parse(d.snoozed_until) > now) return st + " (snoozed)";
  return st;
}

// matches reports whether an alert passes the filters f for the caller me.
function passes(a, f, me) {
  const d = a.desk || {};
  const st = d.state || "new";
  if (f.queue && a.queue !== f.queue) return false;
  if (f.priority && a.priority !== f.priority) return false;
  if (f.state === "open" ? st === "resolved" || a.retracted : f.state && st !== f.state) return false;
  if (f.region && (a.region || "") !== f.region) return false;
  if (f.lang && langOf(a) !== f.lang) return false;
  if (f.assignee === "me" && d.assignee !== me) return false;
  if (f.assignee === "none" && d.assignee) return false;
  if (f.text) {
    const p = postOf(a);
    const hay = [a.id, a.queue, a.rule, p.text, p.author && p.author.handle && "@" + p.author.handle, ...(a.watchlists || [])].join("\n").toLowerCase();
    if (!hay.includes(f.text.toLowerCase())) return false;
  }
  return true;
}

// order: the most urgent first (priority, then the nearest deadline, then
// the newest).
function order(a, b) {
  return prio(a.priority) - prio(b.priority) ||
    (Date.parse(a.due_at || "9999-01-01") - Date.parse(b.due_at || "9999-01-01")) ||
    (Date.parse(b.created_at) - Date.parse(a.created_at)) || (a.id < b.id ? -1 : 1);
}

// parseSSE splits a buffer of server-sent events into complete events
// ({event, data, id}) and the unfinished rest.
function parseSSE(buf) {
  const out = [];
  buf = buf.replace(/\r\n/g, "\n");
  let i;
  while ((i = buf.indexOf("\n\n")) >= 0) {
    const block = buf.slice(0, i);
    buf = buf.slice(i + 2);
    const ev = { event: "message", data: "", id: "" };
    const data = [];
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const c = line.indexOf(":");
      const k = c < 0 ? line : line.slice(0, c);
      const v = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
      if (k === "event") ev.event = v;
      else if (k === "data") data.push(v);
      else if (k === "id") ev.id = v;
    }
    if (data.length) {
      ev.data = data.join("\n");
      out.push(ev);
    }
  }
  return { events: out, rest: buf };
}

const postOf = a => (a.item && a.item.post) || {};
const enrichOf = a => (a.item && a.item.enrichment) || {};
const langOf = a => enrichOf(a).lang || postOf(a).lang || "";

function ago(t, now) {
  const s = Math.max(0, Math.round((now - Date.parse(t)) / 1000));
  if (s < 90) return s + "s";
  if (s < 5400) return Math.round(s / 60) + "m";
  if (s < 172800) return Math.round(s / 3600) + "h";
  return Math.round(s / 86400) + "d";
}

function when(t) {
  const d = new Date(t);
  return isNaN(d) ? "" : d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

function slaText(a, now) {
  const s = a.sla;
  if (!s) return "";
  // The clock runs on in the page: an unanswered alert past its deadline is breached.
  if (s.breached || !s.first_response_seconds && s.first_response_due && Date.parse(s.first_response_due) < now) return "SLA breached";
  if (s.near_breach) return "SLA near breach";
  if (s.first_response_seconds) return "answered in " + ago(new Date(now - s.first_response_seconds * 1000).toISOString(), now);
  if (s.first_response_due) return "due in " + ago(new Date(now - (Date.parse(s.first_response_due) - now)).toISOString(), now);
  return "";
}

// snoozeFor is the end of the snooze preset n ("1"–"4": 1 hour, 4 hours,
// 1 day, 1 week) from now, as RFC 3339; "" for another n.
function snoozeFor(n, now) {
  const h = { 1: 1, 2: 4, 3: 24, 4: 168 }[n];
  return h ? new Date(now + h * 3600e3).toISOString() : "";
}

// maxSnoozeDays is the API's bound on a snooze.
const maxSnoozeDays = 90;

// checkSnooze says what is wrong with snoozing until t (a time Date.parse
// reads) at now, or "".
function checkSnooze(t, now) {
  const ms = Date.parse(t);
  if (!t || isNaN(ms)) return "pick a time to snooze until";
  if (ms <= now) return "a snooze must end in the future";
  if (ms - now > maxSnoozeDays * 864e5) return `a snooze may last ${maxSnoozeDays} days at most`;
  return "";
}

// checkAssignee reads the name typed to assign to: {name} (trimmed, NFC),
// with error when the API would refuse it (empty, over 512 bytes, a
// control, invisible, bidi or filler character), or warn when it is a name
// not seen on this desk (known) that mixes Latin with Cyrillic or Greek
// letters in one word — a look-alike of someone else's name.
function checkAssignee(raw, known) {
  const name = String(raw ?? "").trim().normalize("NFC");
  if (!name) return { name, error: "type a name to assign to" };
  if (new TextEncoder().encode(name).length > 512) return { name, error: "a name is 512 bytes at most" };
  if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u2800]/u.test(name)) return { name, error: "the name has a control or invisible character" };
  if (!(known || []).includes(name)) {
    for (const w of name.split(/[^\p{L}\p{M}]+/u)) {
      if (/\p{Script=Latin}/u.test(w) && /[\p{Script=Cyrillic}\p{Script=Greek}]/u.test(w)) {
        return { name, warn: `"${name}" mixes Latin with Cyrillic or Greek letters and is not a name seen on this desk: assign again to confirm` };
      }
    }
  }
  return { name };
}

// postView is what the page shows of a post (p) from a platform: its text
// in runs with the matched terms marked (spans are byte ranges of the text
// as stored, so the runs are cut first and each made inert after), the
// author's handle and name, and the list's excerpt. Each bidi control is a
// visible mark (inert), so no post reorders the page.
function postView(p, spans, kws) {
  const author = (p && p.author) || {};
  return {
    runs: segments(p && p.text, spans, kws).map(s => ({ ...s, text: inert(s.text) })),
    handle: author.handle ? inert("@" + author.handle) : "",
    name: inert(author.name),
    excerpt: inert(String((p && p.text) || "").slice(0, 300)),
  };
}

// The pure parts, for the page's tests.
// mergeLive is the alert a live "alert" event a (a new alert, an
// incident's update, a retraction, off the queue) makes of the one the
// page knows, old: the event's desk is not the alert's history (in
// distributed mode it is a fresh one), so the desk the page knows stays;
// a retraction closes it as the platform does (a desk a person resolved
// keeps its outcome), and an alert raised again after one is open again.
function mergeLive(old, a) {
  if (!old || !old.desk) return a;
  let d = old.desk;
  if (a.retracted && d.state !== "resolved") {
    const c = a.desk || {};
    d = { ...d, state: "resolved", outcome: "retracted", resolved_by: "platform", resolved_at: c.resolved_at };
    delete d.snoozed_until;
  } else if (!a.retracted && closedByPlatform(d)) {
    d = { ...d, state: d.assignee ? "claimed" : "new" };
    delete d.outcome; delete d.resolved_by; delete d.resolved_at;
  }
  return { ...a, desk: d };
}

window.earshotDesk = { segments, safeURL, linkView, passes, order, parseSSE, stateOf, slaText, mergeLive, snoozeFor, checkSnooze, checkAssignee, inert, postView };

// ---- the page ----

const S = {
  me: "",
  can: [], // the actions the caller's role may take (whoami)
  queues: [],
  alerts: new Map(), // queue/id → alert
  shown: [], // keys in list order
  selected: "",
  resolving: false,
  snoozing: false,
  confirmAssign: "", // a look-alike name, assigned on the second try
  feed: null, // AbortController of the live feed
  focusOnUp: null, // [key, selector]: the field to focus when key is released
};
const key = a => a.queue + "/" + a.id;

// Bounds, so that a storm of alerts cannot make the page slow: at most
// maxRows rows drawn (the filters narrow them), maxAlerts kept (the oldest
// go first), and at most one redraw per frame however many events arrive.
const maxRows = 500, maxAlerts = 5000;

function filters() {
  return {
    queue: $("#f-queue").value, priority: $("#f-priority").value, state: $("#f-state").value, region: $("#f-region").value,
    lang: $("#f-lang").value, assignee: $("#f-assignee").value, text: $("#f-text").value.trim(),
  };
}

function status(msg, bad) {
  const s = $("#status");
  s.textContent = msg || "";
  s.classList.toggle("error", !!bad);
}

// options refreshes a select's choices from the values seen, keeping the
// current choice.
function options(sel, values, label) {
  const cur = sel.value;
  const have = new Set([...sel.options].slice(1).map(o => o.value));
  const want = [...new Set(values.filter(Boolean))].sort();
  if (want.length === have.size && want.every(v => have.has(v))) return;
  sel.replaceChildren(sel.options[0], ...want.map(v => el("option", { value: v }, label ? label(v) : v)));
  sel.value = want.includes(cur) ? cur : "";
}

function renderList() {
  const now = Date.now(), f = filters();
  const all = [...S.alerts.values()];
  options($("#f-region"), all.map(a => a.region));
  options($("#f-lang"), all.map(langOf));
  const shown = all.filter(a => passes(a, f, S.me)).sort(order).slice(0, maxRows);
  const matching = all.filter(a => passes(a, f, S.me)).length;
  S.shown = shown.map(key);
  $("#count").textContent = `${matching} of ${all.length} alerts` + (matching > shown.length ? ` (the first ${shown.length} shown: narrow the filters)` : "");
  $("#list").replaceChildren(...shown.map(a => {
    const d = a.desk || {}, p = postOf(a), st = stateOf(a, now);
    const pv = postView({ author: p.author, text: String(p.text || "").slice(0, 300) }); // a row reads the excerpt only: no pass over a long post per redraw
    const sla = slaText(a, now);
    const notes = (d.notes || []).length;
    return el("li", { "data-key": key(a), "data-id": a.id, "data-state": d.state || "new", "data-assignee": d.assignee || "", "data-notes": String(notes),
      class: "row" + (key(a) === S.selected ? " selected" : "") + (a.retracted ? " retracted" : ""), tabindex: "-1" },
      el("span", { class: "prio " + a.priority }, a.priority),
      el("span", { class: "queue" }, a.queue),
      el("span", { class: "state " + (d.state || "new") }, st + (d.assignee ? " · " + inert(d.assignee) : "") + (notes ? ` · ${notes} note${notes > 1 ? "s" : ""}` : "")),
      el("span", { class: "age", title: when(a.created_at) }, ago(a.created_at, now)),
      sla ? el("span", { class: "sla" + (sla === "SLA breached" ? " breached" : a.sla.near_breach ? " near" : "") }, sla) : "",
      el("span", { class: "who" }, pv.handle),
      el("span", { class: "excerpt" }, pv.excerpt));
  }));
  if (!S.selected && shown.length) select(key(shown[0]), false);
  document.body.dataset.count = String(shown.length);
}

// redraw draws the list (and the open alert, when it changed) once per
// frame, however many events came in it.
let pending = null;
function redraw(u) {
  if (!pending) {
    pending = { keys: new Set(), flash: new Set() };
    requestAnimationFrame(() => {
      const p = pending;
      pending = null;
      renderList();
      if (p.keys.has(S.selected)) renderDetail();
      for (const k of p.flash) flash(k);
    });
  }
  pending.keys.add(u.k);
  if (u.changed) pending.flash.add(u.k);
}

// setMode opens the choices of a two-step action ("resolve": the
// outcomes, "snooze": the durations, "assign": the name) or closes them ("").
function setMode(m) {
  if (m && !S.alerts.get(S.selected)) m = "";
  S.resolving = m === "resolve";
  S.snoozing = m === "snooze";
  $("#outcomes").hidden = !S.resolving;
  $("#snoozes").hidden = !S.snoozing;
  $("#assignform").hidden = m !== "assign";
  if (m !== "assign") S.confirmAssign = "";
  if (m === "resolve") status("outcome? 1 replied · 2 escalated · 3 no action · 4 spam · 5 duplicate");
  if (m === "snooze") status("snooze for? 1 an hour · 2 four hours · 3 a day · 4 a week, or pick a time");
  if (m === "assign") {
    // The people seen on the desk, to pick from.
    const names = new Set([S.me]);
    for (const a of S.alerts.values()) {
      const d = a.desk || {};
      if (d.assignee) names.add(d.assignee);
      for (const n of d.notes || []) names.add(n.author);
    }
    $("#people").replaceChildren(...[...names].filter(Boolean).sort().map(n => el("option", { value: n })));
    status("assign to whom? type a name, Enter assigns");
  }
}

// known is the names seen on the desk (holders, note authors, the caller).
function known() {
  return [...$("#people").options].map(o => o.value);
}

async function assign() {
  const c = checkAssignee($("#assignee").value, known());
  if (c.error) return status(c.error, true);
  if (c.warn && S.confirmAssign !== c.name) {
    S.confirmAssign = c.name;
    return status(c.warn, true);
  }
  if (await act("assign", { assignee: c.name })) $("#assignee").value = "";
}

function snooze(until) {
  const bad = checkSnooze(until, Date.now());
  if (bad) return status(bad, true);
  act("snooze", { until: new Date(until).toISOString() });
}

function select(k, scroll = true) {
  S.selected = k;
  if (S.resolving || S.snoozing || !$("#assignform").hidden) setMode("");
  status("");
  for (const li of document.querySelectorAll("#list li")) li.classList.toggle("selected", li.dataset.key === k);
  if (scroll) {
    const li = [...document.querySelectorAll("#list li")].find(x => x.dataset.key === k);
    if (li) li.scrollIntoView({ block: "nearest" });
  }
  renderDetail();
}

function fact(name, value) {
  return value === undefined || value === null || value === "" ? null : el("div", { class: "fact" }, el("dt", {}, name), el("dd", {}, inert(value)));
}

function renderDetail() {
  const a = S.alerts.get(S.selected);
  $("#nothing").hidden = !!a;
  $("#alert").hidden = !a;
  if (!a) return;
  const now = Date.now(), d = a.desk || {}, p = postOf(a), en = enrichOf(a);
  $("#alert").dataset.id = a.id;
  $("#alert").dataset.state = d.state || "new";
  $("#alert").dataset.assignee = d.assignee || "";
  $("#alert").dataset.snoozedUntil = d.snoozed_until || "";
  const st = d.state || "new";
  $("#a-head").replaceChildren(
    el("span", { class: "prio " + a.priority }, a.priority),
    el("strong", {}, a.queue),
    el("span", { class: "state " + (d.state || "new") }, stateOf(a, now)),
    d.assignee ? el("span", {}, "held by ", el("b", { class: "assignee" }, d.assignee)) : "",
    st !== "resolved" && d.snoozed_until && Date.parse(d.snoozed_until) > now ? el("span", {}, "snoozed until ", el("b", { class: "snoozed" }, when(d.snoozed_until))) : "",
    d.outcome ? el("span", {}, "outcome ", el("b", { class: "outcome" }, d.outcome), d.resolved_by ? " by " + d.resolved_by : "") : "",
    // An alert whose post was deleted at its source carries none of it
    // (the in-memory store of earshot run; ClickHouse drops the alert).
    a.deleted ? el("span", { class: "retracted" }, "post deleted at its source") :
      a.retracted ? el("span", { class: "retracted" }, "retracted by the platform") : "",
    el("span", { class: "muted" }, "rule " + a.rule + " · " + a.id));
  const btn = act => $(`#a-actions [data-act="${act}"]`);
  // Assign and snooze take an alert nobody holds, or the caller's; another
  // person's only with alerts.reassign (the API refuses the rest: 409).
  const othersHold = st === "claimed" && d.assignee !== S.me && !S.can.includes("alerts.reassign");
  for (const b of [btn("assign"), btn("snooze")]) {
    b.disabled = st === "resolved" || othersHold;
    b.title = othersHold ? `held by ${d.assignee}: moving it needs the alerts.reassign permission (a coach)` : "";
  }
  btn("claim").disabled = st === "resolved" || (st === "claimed" && d.assignee === S.me);
  btn("unclaim").disabled = st !== "claimed";
  btn("resolve").disabled = st === "resolved";
  btn("reopen").disabled = st !== "resolved" || !!a.retracted; // the platform closed it: only notes and links

  // The post, its matched terms marked.
  const spans = [], kws = [];
  for (const m of (a.item && a.item.matches) || []) {
    for (const s of m.spans || []) spans.push(s);
    for (const k of m.keywords || []) kws.push(k);
  }
  const pv = postView(p, spans, kws);
  const text = el("p", { class: "text" }, ...pv.runs.map(s => s.mark ? el("mark", { title: s.term || "" }, s.text) : s.text));
  const author = p.author || {};
  $("#a-post").replaceChildren(
    el("div", { class: "byline" },
      el("b", { class: "handle" }, pv.handle || "(unknown author)"),
      pv.name ? el("span", {}, " " + pv.name) : "",
      el("span", { class: "muted" }, " · " + (p.platform || "") + (author.followers ? " · " + Number(author.followers).toLocaleString("en") + " followers" : "") + " · " + when(p.created_at))),
    text,
    a.text_truncated ? el("p", { class: "note" }, `(the first ${Number(p.text ? new TextEncoder().encode(p.text).length : 0).toLocaleString("en")} of ${Number(a.text_bytes).toLocaleString("en")} bytes)`) : "");

  const intents = (en.intents || []).join(", ");
  const matches = ((a.item && a.item.matches) || []).map(m => m.watchlist + ": " + (m.keywords || []).join(", ")).join(" · ");
  const sla = a.sla || {};
  $("#a-facts").replaceChildren(el("dl", {},
    fact("language", en.lang ? en.lang + (en.lang_confidence ? ` (${Math.round(en.lang_confidence * 100)}%)` : "") : p.lang),
    fact("sentiment", en.sentiment_label ? `${en.sentiment_label} (${Number(en.sentiment).toFixed(2)})` : ""),
    fact("intent", intents),
    fact("emotion", en.emotion),
    fact("region", [en.region || a.region, en.country].filter(Boolean).join(" · ")),
    fact("influence", en.influence ? Number(en.influence).toFixed(0) : ""),
    fact("matched", matches),
    fact("incident", a.incident ? `${a.incident} (${a.incident_size} posts)` : ""),
    fact("created", when(a.created_at)),
    fact("first response due", sla.first_response_due ? when(sla.first_response_due) + (sla.breached ? " — breached" : sla.near_breach ? " — near breach" : "") : ""),
    fact("handed off from", a.handed_off_from)));

  $("#a-notes").replaceChildren(...(d.notes || []).map(n =>
    el("li", { class: "note-item" }, el("div", { class: "meta" }, el("b", {}, inert(n.author)), " · " + when(n.at)), el("div", { class: "body" }, inert(n.text)))));
  if (!(d.notes || []).length) $("#a-notes").append(el("li", { class: "muted" }, "no notes yet"));
  $("#a-links").replaceChildren(...(d.links || []).map(l => {
    const { href, label, shown } = linkView(l);
    return el("li", {}, href ? el("a", { href, rel: "noopener noreferrer nofollow", target: "_blank" }, label) : el("span", { class: "bad-link" }, label),
      shown ? el("span", { class: "muted" }, " " + shown) : "", el("span", { class: "muted" }, " · " + inert(l.author) + " · " + when(l.at)));
  }));
}

function upsert(a) {
  if (!a || !a.queue || !a.id) return;
  const k = key(a), old = S.alerts.get(k);
  S.alerts.set(k, a);
  if (S.alerts.size > maxAlerts) {
    const oldest = [...S.alerts.values()].filter(x => key(x) !== S.selected)
      .sort((x, y) => Date.parse(x.created_at) - Date.parse(y.created_at)).slice(0, S.alerts.size - maxAlerts);
    for (const x of oldest) S.alerts.delete(key(x));
  }
  return { k, changed: !old || JSON.stringify(old.desk) !== JSON.stringify(a.desk) };
}

function flash(k) {
  const li = [...document.querySelectorAll("#list li")].find(x => x.dataset.key === k);
  if (li) {
    li.classList.add("flash");
    setTimeout(() => li.classList.remove("flash"), 1500);
  }
}

function randomKey() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return [...b].map(x => x.toString(16).padStart(2, "0")).join("");
}

const segment = { claim: "claim", unclaim: "unclaim", assign: "assign", snooze: "snooze", resolve: "resolve", reopen: "reopen", note: "notes", link: "links" };

async function act(action, body) {
  const a = S.alerts.get(S.selected);
  if (!a) return;
  status(action + "…");
  try {
    const path = "/v1/queues/" + encodeURIComponent(a.queue) + "/alerts/" + encodeURIComponent(a.id) + "/" + segment[action];
    const next = await api("POST", path, body || {}, { "Idempotency-Key": randomKey() });
    upsert(next);
    setMode("");
    renderList();
    renderDetail();
    const d = next.desk || {};
    status(action === "note" ? "note added" : action === "link" ? "link added" : action === "assign" ? "assigned to " + d.assignee :
      action === "snooze" ? "snoozed until " + when(d.snoozed_until) : d.state || "done");
    return true;
  } catch (e) {
    if (e.status === 401) return signIn();
    status(e.message, true);
    return false;
  }
}

function move(step) {
  if (!S.shown.length) return;
  let i = S.shown.indexOf(S.selected);
  i = i < 0 ? 0 : Math.max(0, Math.min(S.shown.length - 1, i + step));
  select(S.shown[i]);
}

async function loadAll() {
  const who = await api("GET", "/v1/whoami");
  S.me = who.name;
  S.can = who.can || [];
  $("#who").textContent = who.name + " (" + who.role + ")";
  const q = await api("GET", "/v1/queues?limit=500");
  S.queues = (q.items || []).map(x => x.name);
  options($("#f-queue"), S.queues);
  S.alerts.clear();
  await Promise.all(S.queues.map(async name => {
    try {
      const page = await api("GET", "/v1/queues/" + encodeURIComponent(name) + "/alerts?limit=500");
      for (const a of page.items || []) upsert(a);
    } catch (e) {
      if (e.status === 401) throw e;
      status(`queue ${name}: ${e.message}`, true);
    }
  }));
  // The alert a link asked for, however old: looked up on each queue.
  if (wanted.alert && ![...S.alerts.values()].some(a => a.id === wanted.alert)) {
    for (const name of S.queues) {
      try {
        upsert(await api("GET", "/v1/queues/" + encodeURIComponent(name) + "/alerts/" + encodeURIComponent(wanted.alert)));
        break;
      } catch (e) {
        if (e.status === 401) throw e;
      }
    }
  }
  renderList();
  if (wanted.alert) {
    const a = [...S.alerts.values()].find(x => x.id === wanted.alert);
    if (a) {
      if (!S.shown.includes(key(a))) $("#f-state").value = "";
      renderList();
      select(key(a));
    } else {
      const msg = `alert ${wanted.alert} is not on a queue you may see`;
      status(msg, true);
      if (!S.alerts.get(S.selected)) $("#nothing").textContent = msg;
    }
    wanted.alert = "";
  }
  document.body.dataset.state = "ready";
}

// follow reads the live feed of every queue the caller sees; it
// reconnects (and lists again, to catch up) when the feed ends.
async function follow() {
  if (S.feed) S.feed.abort();
  const ctl = new AbortController();
  S.feed = ctl;
  const live = $("#live");
  let delay = 1000;
  while (!ctl.signal.aborted) {
    try {
      const res = await fetch("/v1/stream", { headers: { "Authorization": "Bearer " + token() }, signal: ctl.signal });
      if (res.status === 401) return signIn();
      if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
      live.dataset.live = "on";
      live.textContent = "live";
      document.body.dataset.live = "on";
      delay = 1000;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const r = parseSSE(buf + value);
        buf = r.rest;
        if (buf.length > (4 << 20)) throw new Error("an event over 4 MiB");
        for (const ev of r.events) {
          if (ev.event === "unauthorized") return signIn();
          if (ev.event === "lost") throw new Error("fell behind");
          if (ev.event !== "alert" && ev.event !== "desk") continue;
          let a;
          try { a = JSON.parse(ev.data); } catch (_) { continue; }
          const u = upsert(ev.event === "alert" ? mergeLive(S.alerts.get(key(a)), a) : a);
          if (u) redraw(u);
        }
      }
    } catch (e) {
      if (ctl.signal.aborted) return;
    }
    live.dataset.live = "off";
    live.textContent = "reconnecting…";
    document.body.dataset.live = "off";
    await new Promise(r => setTimeout(r, delay));
    delay = Math.min(delay * 2, 30000);
    if (ctl.signal.aborted) return;
    try { await loadAll(); } catch (e) { if (e.status === 401) return signIn(); }
  }
}

function signIn() {
  if (S.feed) S.feed.abort();
  $("#signin").hidden = false;
  $("#desk").hidden = true;
  document.body.dataset.state = "signin";
}

async function open() {
  $("#signin").hidden = true;
  $("#desk").hidden = false;
  try {
    await loadAll();
    follow();
  } catch (e) {
    if (e.status === 401) return signIn();
    document.body.dataset.state = "error";
    $("#count").textContent = e.message;
  }
}

const typing = t => t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT");

function onKey(ev) {
  if (ev.ctrlKey && ev.key === "Enter" && ev.target.id === "note") {
    ev.preventDefault();
    $("#noteform").requestSubmit();
    return;
  }
  if (ev.key === "Escape") {
    if (typing(ev.target)) ev.target.blur();
    setMode("");
    return;
  }
  if (typing(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (S.resolving && /^[1-5]$/.test(ev.key)) {
    ev.preventDefault();
    act("resolve", { outcome: ["replied", "escalated", "no_action", "spam", "duplicate"][Number(ev.key) - 1] });
    return;
  }
  if (S.snoozing && /^[1-4]$/.test(ev.key)) {
    ev.preventDefault();
    snooze(snoozeFor(ev.key, Date.now()));
    return;
  }
  const keys = {
    j: () => move(1), n: () => move(1), ArrowDown: () => move(1),
    k: () => move(-1), p: () => move(-1), ArrowUp: () => move(-1),
    c: () => act("claim"), u: () => act("unclaim"), o: () => act("reopen"),
    r: () => setMode("resolve"),
    s: () => refused("snooze") || setMode("snooze"),
    a: () => { if (refused("assign")) return; setMode("assign"); if (!$("#assignform").hidden) S.focusOnUp = ["a", "#assignee"]; },
    // A field is focused when its key is released, so that the key
    // itself is not typed into it.
    e: () => { S.focusOnUp = ["e", "#note"]; },
    "/": () => { S.focusOnUp = ["/", "#f-text"]; },
    m: () => { const s = $("#f-assignee"); s.value = s.value === "me" ? "" : "me"; renderList(); },
  };
  const f = keys[ev.key];
  if (f) {
    ev.preventDefault();
    f();
  }
}

// refused says why the action's button is disabled (on the status line),
// if it is: its key is refused as its button is.
function refused(action) {
  const b = $(`#a-actions [data-act="${action}"]`);
  if (!S.alerts.get(S.selected) || !b.disabled) return false;
  status(b.title || action + ": not on an alert in this state", true);
  return true;
}

function onKeyUp(ev) {
  if (S.focusOnUp && ev.key === S.focusOnUp[0]) {
    $(S.focusOnUp[1]).focus();
    S.focusOnUp = null;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  if (!$("#desk")) return; // loaded by a test page
  $("#tokenform").addEventListener("submit", ev => {
    ev.preventDefault();
    sessionStorage.setItem("earshot.token", $("#token").value.trim());
    open();
  });
  $("#signout").addEventListener("click", () => { sessionStorage.removeItem("earshot.token"); signIn(); });
  for (const id of ["#f-queue", "#f-priority", "#f-state", "#f-region", "#f-lang", "#f-assignee"]) $(id).addEventListener("change", () => renderList());
  $("#f-text").addEventListener("input", () => renderList());
  $("#filters").addEventListener("submit", ev => ev.preventDefault());
  // A row is chosen on the press, not the click: a live event may redraw
  // the list between the press and the release, and a browser sends no
  // click when the two land on different elements.
  $("#list").addEventListener("mousedown", ev => {
    const li = ev.button === 0 && ev.target.closest("li[data-key]");
    if (li) select(li.dataset.key, false);
  });
  $("#a-actions").addEventListener("click", ev => {
    const b = ev.target.closest("button");
    if (!b) return;
    if (b.dataset.act === "resolve" || b.dataset.act === "snooze") {
      setMode(b.dataset.act);
    } else if (b.dataset.act === "assign") {
      setMode("assign");
      $("#assignee").focus();
    } else if (b.dataset.act) {
      act(b.dataset.act);
    } else if (b.dataset.outcome !== undefined) {
      if (b.dataset.outcome) act("resolve", { outcome: b.dataset.outcome });
      else setMode("");
    } else if (b.dataset.snooze !== undefined) {
      if (b.dataset.snooze === "at") snooze($("#snooze-until").value);
      else if (b.dataset.snooze) snooze(snoozeFor(b.dataset.snooze, Date.now()));
      else setMode("");
    } else if (b.dataset.cancel !== undefined) {
      setMode("");
    }
  });
  $("#assignform").addEventListener("submit", ev => {
    ev.preventDefault();
    assign();
  });
  $("#noteform").addEventListener("submit", async ev => {
    ev.preventDefault();
    const text = $("#note").value;
    if (!text.trim()) return;
    if (await act("note", { text })) $("#note").value = "";
  });
  $("#linkform").addEventListener("submit", async ev => {
    ev.preventDefault();
    const url = $("#link-url").value.trim();
    if (!safeURL(url)) return status("a link must be an http or https URL", true);
    if (await act("link", { url, title: $("#link-title").value.trim() })) {
      $("#link-url").value = "";
      $("#link-title").value = "";
    }
  });
  document.addEventListener("keydown", onKey);
  document.addEventListener("keyup", onKeyUp);
  // Ages and SLA clocks move on.
  setInterval(() => { if (!$("#desk").hidden) renderList(); }, 30000);
  if (!token()) return signIn();
  open();
});
