// tradebot dashboard: reads the REST API, listens to /api/events, drives the controls.
// Every value is inserted as text (never as HTML): reasons and log lines come from the bot.
"use strict";

const HEADERS = { "Content-Type": "application/json", "X-Tradebot-Request": "1" };
const $ = (id) => document.getElementById(id);
let session = null;
let events = null;
let oldestDecision = null;
let pendingToken = null;

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  if (response.status === 401) { showLogin(); throw new Error("log in first"); }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}
const post = (path, body) => api(path, { method: "POST", headers: HEADERS, body: JSON.stringify(body || {}) });

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}
const time = (ms) => (ms ? new Date(ms).toISOString().slice(0, 16).replace("T", " ") : "–");
const num = (v, digits = 2) => (v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const signed = (v) => (v === null || v === undefined ? "" : Number(v) >= 0 ? "pos" : "neg");

function fillTable(id, rows, cells, onPick) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren();
  for (const row of rows) {
    const tr = el("tr");
    for (const cell of cells(row)) {
      const [text, cls] = Array.isArray(cell) ? cell : [cell, ""];
      tr.append(el("td", text, cls));
    }
    if (onPick) { tr.classList.add("pick"); tr.addEventListener("click", () => onPick(row, tr)); }
    body.append(tr);
  }
  if (!rows.length) { const tr = el("tr"); const td = el("td", "none", "muted"); td.colSpan = 9; tr.append(td); body.append(tr); }
}

// ------------------------------------------------------------------ session
function showLogin() {
  $("main").hidden = true; $("login").hidden = false; $("logout").hidden = true;
  if (events) { events.close(); events = null; }
}

async function start() {
  session = await api("/api/session");
  if (session.login_required && !session.authenticated) { showLogin(); return; }
  $("login").hidden = true; $("main").hidden = false;
  $("logout").hidden = !session.authenticated;
  $("who").textContent = `${session.user} (${session.role})`;
  for (const button of document.querySelectorAll("button.control")) button.disabled = !session.may_operate;
  $("controls-note").textContent = session.may_operate ? "Each control asks for a confirmation." :
    "Controls need a logged-in operator.";
  await refreshAll();
  listen();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    await post("/api/login", { name: $("login-name").value, password: $("login-password").value });
    $("login-password").value = "";
    await start();
  } catch (error) { $("login-error").textContent = error.message; }
});
$("logout").addEventListener("click", async () => { await post("/api/logout"); location.reload(); });

// ------------------------------------------------------------------ views
async function refreshOverview() {
  const o = await api("/api/overview");
  const badge = $("kill-switch");
  badge.textContent = o.kill_switch; badge.className = `badge ${o.kill_switch}`;
  badge.title = o.kill_switch_reason + (o.flatten_requested ? " (flatten requested)" : "");
  $("symbols").textContent = o.symbols.join(", ");
  const cards = [["equity", num(o.equity)], ["cash", num(o.cash)], ["realised PnL", num(o.realised_pnl)],
    ["trades", o.trades], ["open positions", o.open_positions], ["open orders", o.open_orders],
    ["last bar", time(o.last_bar_ts_ms)], ["kill switch reason", o.kill_switch_reason || "–"]];
  $("overview").replaceChildren(...cards.map(([label, value]) => {
    const card = el("div", null, "card"); card.append(el("div", value, "value"), el("div", label, "label")); return card;
  }));
}

async function refreshPositions() {
  const rows = await api("/api/positions");
  fillTable("positions", rows, (p) => [p.symbol, p.qty, num(p.avg_price), num(p.mark_price),
    [num(p.unrealised_pnl), signed(p.unrealised_pnl)], p.stop_price ?? "no stop", p.take_profit_price ?? "–", time(p.opened_ts_ms)]);
}

async function refreshOrders() {
  const rows = await api("/api/orders");
  fillTable("orders", rows, (o) => [o.client_order_id, o.side, o.type, o.qty, o.stop_price ?? o.price ?? "market", o.status, o.filled_qty]);
}

async function refreshTrades() {
  const rows = await api("/api/trades?limit=100");
  fillTable("trades", rows, (t) => [t.symbol, time(t.entry_ts_ms), time(t.exit_ts_ms), t.qty, num(t.entry_price),
    num(t.exit_price), num(t.fees, 4), [num(t.pnl), signed(t.pnl)], t.exit_reason]);
}

async function refreshHealth() {
  const h = await api("/api/health");
  const rows = [["status", h.status + (h.problems.length ? `: ${h.problems.join("; ")}` : "")],
    ["database", h.database], ["last decision", time(h.last_decision_ts_ms)],
    ["last decision written", h.last_decision_age_s === null ? "never" : `${h.last_decision_age_s.toFixed(0)} s ago`],
    ["kill switch", h.kill_switch], ["open orders", h.open_orders], ["open positions", h.open_positions],
    ["reconciliation discrepancies", h.reconciliation_discrepancies], ["dashboard up", `${h.dashboard_uptime_s.toFixed(0)} s`]];
  const f = h.figures;
  rows.push(["drawdown from peak", `${(f.drawdown * 100).toFixed(2)} % (peak ${num(f.peak_equity)})`],
    ["unrealised PnL", num(f.unrealised_pnl)], ["PnL today", num(f.daily_pnl)],
    ["trades today", f.trades_today], ["win rate", f.win_rate === null ? "–" : `${(f.win_rate * 100).toFixed(1)} %`]);
  fillTable("health", rows, (r) => r);
}

async function refreshAlerts() {
  const a = await api("/api/alerts?limit=20");
  $("alert-counts").textContent = `${a.raised} raised; deliveries: ${a.deliveries.pending} pending, ${a.deliveries.sent} sent, ${a.deliveries.failed} failed`;
  fillTable("alerts", a.recent, (e) => [time(e.created_ts_ms), [e.severity, e.severity === "critical" ? "neg" : ""], e.rule,
    e.title + (e.repeats ? ` (×${e.repeats + 1})` : ""), e.channel, e.status, e.attempts, e.last_error]);
}

async function refreshAudit() {
  const rows = await api("/api/controls/audit?limit=20");
  fillTable("audit", rows, (a) => [time(a.ts_ms), `${a.actor} (${a.role})`, a.channel, a.action, a.outcome,
    `${a.kill_switch_before} → ${a.kill_switch_after}`]);
}

const layout = (extra) => ({ margin: { l: 60, r: 20, t: 10, b: 30 }, showlegend: true, legend: { orientation: "h" },
  xaxis: { type: "date" }, ...extra });

async function refreshCharts() {
  if (!window.Plotly) return;
  const [c, e] = await Promise.all([api("/api/candles"), api("/api/equity")]);
  const x = c.ts_ms.map((t) => new Date(t));
  const traces = [{ type: "candlestick", name: c.symbol || "price", x, open: c.open, high: c.high, low: c.low, close: c.close, yaxis: "y" }];
  for (const [name, values] of Object.entries(c.overlays)) traces.push({ type: "scatter", mode: "lines", name, x, y: values, line: { width: 1 } });
  for (const [name, values] of Object.entries(c.oscillators)) traces.push({ type: "scatter", mode: "lines", name, x, y: values, yaxis: "y2", line: { width: 1 } });
  for (const side of ["buy", "sell"]) {
    const marks = c.markers.filter((m) => m.side === side);
    traces.push({ type: "scatter", mode: "markers", name: `${side} fills`, x: marks.map((m) => new Date(m.ts_ms)), y: marks.map((m) => m.price),
      text: marks.map((m) => `${m.client_order_id} ${m.qty}`), marker: { symbol: side === "buy" ? "triangle-up" : "triangle-down", size: 11, color: side === "buy" ? "#15803d" : "#b91c1c" } });
  }
  Plotly.react("candles-chart", traces, layout({ yaxis: { domain: [0.32, 1] }, yaxis2: { domain: [0, 0.26] }, xaxis: { type: "date", rangeslider: { visible: false } } }), { displaylogo: false, responsive: true });
  const ex = e.ts_ms.map((t) => new Date(t));
  Plotly.react("equity-chart", [
    { type: "scatter", mode: "lines", name: "equity", x: ex, y: e.equity },
    { type: "scatter", mode: "lines", name: `buy & hold ${e.symbol || ""}`, x: ex, y: e.buy_and_hold, line: { dash: "dot" } },
    { type: "scatter", mode: "lines", name: `drawdown (max ${(e.max_drawdown * 100).toFixed(1)} %)`, x: ex, y: e.drawdown.map((d) => d * 100), yaxis: "y2", fill: "tozeroy", line: { color: "#b91c1c", width: 1 } },
  ], layout({ yaxis: { domain: [0.35, 1], title: { text: "equity" } }, yaxis2: { domain: [0, 0.28], title: { text: "dd %" } } }), { displaylogo: false, responsive: true });
}

async function refreshDecisions(more = false) {
  const acted = $("acted-only").checked;
  const before = more && oldestDecision ? `&before_id=${oldestDecision}` : "";
  const rows = await api(`/api/decisions?limit=25&acted_only=${acted}${before}`);
  if (rows.length) oldestDecision = rows[rows.length - 1].id;
  const body = $("decisions").querySelector("tbody");
  const previous = more ? [...body.children] : [];
  fillTable("decisions", rows, (d) => [d.id, time(d.ts_ms), d.signal, d.action, d.verdict ?? "–", d.reason], explain);
  if (more) body.prepend(...previous);
}

async function explain(row, tr) {
  for (const picked of document.querySelectorAll("tr.picked")) picked.classList.remove("picked");
  if (tr) tr.classList.add("picked");
  const x = await api(`/api/decisions/${row.id}`);
  const box = $("explanation");
  box.replaceChildren(el("h2", `Decision #${x.id}: ${x.symbol}, bar of ${time(x.ts_ms)}`));
  box.append(el("p", `Signal ${x.signal} (confidence ${x.confidence.toFixed(2)}): ${x.reason}`));
  const ind = el("table");
  for (const [k, v] of Object.entries(x.indicators)) { const tr2 = el("tr"); tr2.append(el("td", k), el("td", v === null ? "n/a" : Number(v).toPrecision(7))); ind.append(tr2); }
  box.append(el("h3", "Indicators"), ind);
  box.append(el("h3", `Risk: ${x.verdict ?? "not consulted"}`));
  const checks = el("table", null, "checks");
  for (const c of x.checks) { const tr2 = el("tr"); tr2.append(el("td", c.passed ? "pass" : "FAIL", c.passed ? "pos" : "neg"), el("td", c.name), el("td", c.detail)); checks.append(tr2); }
  box.append(checks, el("h3", `Action: ${x.action}`));
  for (const o of x.orders) {
    box.append(el("p", `Order ${o.client_order_id}: ${o.side} ${o.type} ${o.qty} @ ${o.stop_price ?? o.price ?? "market"}, ${o.status}, filled ${o.filled_qty}`));
    for (const f of o.fills) box.append(el("p", `  fill ${f.qty} @ ${f.price}, fee ${f.fee} ${f.fee_asset}, ${time(f.ts_ms)}`, "muted"));
  }
  for (const id of x.missing_orders) box.append(el("p", `Order ${id}: not saved`, "error"));
  box.append(el("p", `After: equity ${num(x.equity)}, cash ${num(x.cash)}, position ${x.position_qty}`, "muted"));
}
$("acted-only").addEventListener("change", () => refreshDecisions());
$("decisions-more").addEventListener("click", () => refreshDecisions(true));

async function refreshAll() {
  await Promise.all([refreshOverview(), refreshPositions(), refreshOrders(), refreshTrades(), refreshHealth(),
    refreshAudit(), refreshAlerts(), refreshDecisions(), refreshCharts()].map((p) => p.catch((e) => console.error(e))));
}

// ------------------------------------------------------------------ controls (ask, then confirm)
for (const button of document.querySelectorAll("button.control")) {
  button.addEventListener("click", async () => {
    $("control-result").textContent = "";
    try {
      const asked = await post(`/api/controls/${button.dataset.action}`);
      pendingToken = asked.token;
      $("confirm-prompt").textContent = asked.prompt;
      $("confirm-dialog").hidden = false;
      $("confirm-yes").focus();
    } catch (error) { $("control-result").textContent = error.message; }
  });
}
$("confirm-no").addEventListener("click", () => { pendingToken = null; $("confirm-dialog").hidden = true; });
$("confirm-yes").addEventListener("click", async () => {
  $("confirm-dialog").hidden = true;
  try {
    const done = await post("/api/controls/confirm", { token: pendingToken });
    $("control-result").textContent = done.message;
  } catch (error) { $("control-result").textContent = error.message; }
  pendingToken = null;
  await Promise.all([refreshOverview(), refreshAudit(), refreshHealth()]);
});

// ------------------------------------------------------------------ live stream
const TABLE_VIEWS = {
  fill_id: [refreshPositions, refreshTrades, refreshOverview], order_ts_ms: [refreshOrders, refreshOverview],
  trade_id: [refreshTrades, refreshOverview], snapshot_id: [refreshOverview], control_ts_ms: [refreshOverview, refreshHealth],
  decision_id: [refreshDecisions, refreshHealth, refreshPositions], control_action_id: [refreshAudit],
  alert_id: [refreshAlerts],
};
let chartsDue = false;
function listen() {
  if (events) events.close();
  events = new EventSource("/api/events");
  events.addEventListener("open", () => { $("stream-state").textContent = "live"; });
  events.addEventListener("error", () => { $("stream-state").textContent = "reconnecting…"; });
  events.addEventListener("state", (event) => {
    const changed = JSON.parse(event.data).changed;
    const due = new Set();
    for (const name of changed) for (const view of TABLE_VIEWS[name] || []) due.add(view);
    for (const view of due) view().catch((e) => console.error(e));
    if (changed.includes("decision_id") || changed.includes("snapshot_id")) chartsDue = true;
  });
  events.addEventListener("log", (event) => {
    const line = JSON.parse(event.data);
    const log = $("log");
    const { timestamp, level, event: message, logger, ...rest } = line;
    const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
    log.append(`${(timestamp || "").slice(11, 19)} ${(level || "").padEnd(7)} ${logger || ""}: ${message} ${extra}\n`);
    while (log.childNodes.length > 300) log.removeChild(log.firstChild);
    log.scrollTop = log.scrollHeight;
  });
}
setInterval(() => { if (chartsDue) { chartsDue = false; refreshCharts().catch((e) => console.error(e)); } }, 2000);

start().catch((error) => console.error(error));
