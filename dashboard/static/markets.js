// The markets panel of earshot's built-in dashboard: the organisation from
// the top down, global → region → market (org.yaml markets), with volume,
// sentiment, share of voice and alerts and SLA at each level, from the
// cookbook's markets_* queries. The place drilled to is in the address
// (?region=EMEA&market=DACH), so a link opens it; a token scoped to one
// market opens at that market.
"use strict";

(function () {
  const drill = { region: "", market: "" };
  const q = new URLSearchParams(location.search);
  drill.region = q.get("region") || "";
  drill.market = q.get("market") || "";
  let scopedMarket = null; // the one market a market-scoped token may see, once known

  // marketsLevel says what a drill-down place shows: the level its rows are
  // at and the query parameters that narrow to it.
  function marketsLevel(d) {
    if (d.market) return { level: "market", node: "market", params: { region: d.region, market: d.market } };
    if (d.region) return { level: "market", node: "region", params: { region: d.region, market: "" } };
    return { level: "region", node: "global", params: { region: "", market: "" } };
  }

  // crumbs are the steps of the breadcrumb of a place.
  function crumbs(d) {
    const out = [{ text: "Global", to: { region: "", market: "" } }];
    if (d.region) out.push({ text: d.region, to: { region: d.region, market: "" } });
    if (d.market) out.push({ text: d.market, to: { region: d.region, market: d.market } });
    return out;
  }

  function go(to) {
    drill.region = to.region;
    drill.market = to.market;
    const s = new URLSearchParams(location.search);
    for (const k of ["region", "market"]) to[k] ? s.set(k, to[k]) : s.delete(k);
    history.replaceState(null, "", location.pathname + (s.toString() ? "?" + s : ""));
    redraw();
  }

  async function redraw() {
    const panel = document.querySelector('.panel[data-panel="markets"]');
    if (!panel) return;
    const body = panel.querySelector(".body");
    panel.dataset.state = "loading";
    try {
      body.replaceChildren(await panels.markets({ since: $("#since").value, watchlist: $("#watchlist").value }));
      panel.dataset.state = "ok";
    } catch (e) {
      body.replaceChildren(el("p", { class: "error" }, e.message));
      panel.dataset.state = "error";
    }
  }

  const net = (pos, neg, n) => (Number(n) ? ((Number(pos) - Number(neg)) / Number(n)).toFixed(2) : "–");

  panels.markets = async function (p) {
    if (scopedMarket === null) {
      // A market team's token sees its market only: open there.
      const who = await api("GET", "/v1/whoami").catch(() => null);
      const ms = (who && who.scope && who.scope.markets) || [];
      scopedMarket = ms.length === 1 ? ms[0] : "";
      if (scopedMarket && !drill.market) drill.market = scopedMarket;
    }
    const { level, node, params } = marketsLevel(drill);
    const base = { since: p.since, region: params.region, market: params.market };
    // The node itself: one level up from its rows (the market is its own row).
    const nodeLevel = node === "global" ? "global" : node === "region" ? "region" : "market";
    const [rowsV, nodeV, rowsA, sov] = await Promise.all([
      insight("markets_volume_sentiment", { ...base, level, watchlist: p.watchlist }).then(rows),
      insight("markets_volume_sentiment", { ...base, level: nodeLevel, watchlist: p.watchlist }).then(rows),
      insight("markets_alerts_sla", { ...base, level }).then(rows),
      insight("markets_share_of_voice", { ...base, level: nodeLevel }).then(rows),
    ]);
    const here = nodeV[0] || { mentions: 0, positive: 0, negative: 0 };
    const alertsHere = rowsA.reduce((a, x) => ({ met: a.met + Number(x.met), breached: a.breached + Number(x.breached), alerts: a.alerts + Number(x.alerts) }), { met: 0, breached: 0, alerts: 0 });
    const nav = el("nav", { class: "crumbs" }, ...crumbs(drill).flatMap((c, i, all) => {
      const b = i === all.length - 1 ? el("strong", {}, c.text) : el("button", { type: "button", class: "crumb" }, c.text);
      if (b.tagName === "BUTTON") b.addEventListener("click", () => go(c.to));
      return i ? [" › ", b] : [b];
    }));
    const summary = el("p", { class: "note", "data-node": node },
      `${fmt(here.mentions)} mentions, net sentiment ${net(here.positive, here.negative, here.mentions)}; ` +
      `${fmt(alertsHere.alerts)} alerts, SLA ${compliance(alertsHere.met, alertsHere.breached)}`);
    const childName = x => node === "global" ? x.region || "unknown" : x.market || "(no market)";
    const children = node === "market" ? [] : rowsV;
    const alertsOf = new Map(rowsA.map(x => [childName(x), x]));
    const list = children.length ? el("table", { class: "drill" },
      el("thead", {}, el("tr", {}, ...[node === "global" ? "region" : "market", "mentions", "sentiment", "net", "alerts", "SLA"].map(c => el("th", {}, c)))),
      el("tbody", {}, ...children.map(x => {
        const name = childName(x), a = alertsOf.get(name) || { alerts: 0, met: 0, breached: 0 };
        const open = node === "global" ? { region: x.region, market: "" } : { region: drill.region, market: x.market };
        const label = (node === "global" ? x.region : x.market) ? el("button", { type: "button", class: "drill-to" }, name) : el("span", {}, name);
        if (label.tagName === "BUTTON") label.addEventListener("click", () => go(open));
        const total = Number(x.mentions) || 1;
        const track = el("span", { class: "track" }, ...["negative", "neutral", "positive"].map(s =>
          el("span", { class: "fill", title: `${s}: ${fmt(x[s])}`, style: `width:${100 * Number(x[s]) / total}%;background:${sentimentColour[s]}` })));
        return el("tr", {}, el("td", {}, label), el("td", {}, fmt(x.mentions)), el("td", { class: "spark" }, track),
          el("td", {}, net(x.positive, x.negative, x.mentions)), el("td", {}, fmt(a.alerts)), el("td", {}, compliance(a.met, a.breached)));
      }))) : null;
    const voice = sov.length ? el("div", {}, el("h3", {}, "Share of voice"),
      bars(sov.map(x => ({ label: x.watchlist, parts: [{ name: "mentions", v: Number(x.mentions), colour: palette[0] }] })))) : null;
    return el("div", {}, nav, summary, ...(list ? [list] : []), ...(voice ? [voice] : []),
      ...(!list && !voice ? [el("p", { class: "empty" }, "nothing in this window")] : []));
  };

  window.earshotMarkets = { marketsLevel, crumbs };
})();
