"""A self-contained HTML report of a check: verdict, bounds, statistics, coverage and, for a counterexample,
a message-sequence chart beside a step-by-step table of what changed.

One file, no network, no server: the result's data is embedded as JSON and drawn by a few lines of plain
JavaScript into SVG (one lane per server, one row per step; arrows from the step that sent a message to the
step that received it, a cross where the network dropped it; markers for role, term, log and commit
changes).  The events come from the model (``TransitionSystem.msc_events``); a model without them still
gets the table.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from refmodel.checkers.report import coverage, diff_states, to_json


def msc_data(result: Any, system: Any) -> dict[str, Any] | None:
    """Lanes, rows and arrows of the counterexample's message-sequence chart (None without a violation); for a
    liveness counterexample, the lasso's prefix and cycle, with ``loop`` the row the cycle returns to."""
    v = result.violation
    lasso = next((r for r in getattr(result, "liveness", None) or [] if not r.holds), None)
    if v is None and lasso is None:
        return None
    steps = v.trace if v is not None else list(lasso.prefix) + list(lasso.cycle)
    lanes = list(system.msc_lanes(steps[0].raw)) if hasattr(system, "msc_lanes") else []
    rows, open_msgs, arrows = [], {}, []  # open_msgs: message key -> list of (row, from lane, text)
    for k, st in enumerate(steps):
        changes = [] if k == 0 else diff_states(steps[k - 1].state, st.state)
        events = [] if k == 0 else system.msc_events(steps[k - 1].raw, st.action, st.raw)
        marks = []
        for ev in events:
            kind = ev["kind"]
            if kind == "send":
                open_msgs.setdefault(ev["key"], []).append((k, ev["from"], ev["text"], ev.get("to")))
            elif kind in ("receive", "drop"):
                pending = open_msgs.get(ev["key"]) or []
                if pending:
                    sent_row, src, text, dst = pending.pop(0)
                    arrows.append({"from": src, "to": ev.get("at", dst), "sent": sent_row, "recv": k, "text": text,
                                   "dropped": kind == "drop"})
            elif kind == "mark":
                marks.append({"lane": ev["at"], "text": ev["text"], "style": ev.get("style", "")})
        rows.append({"step": k, "action": "Init" if st.action is None else str(st.action),
                     "name": "Init" if st.action is None else st.action.action, "changes": changes,
                     "marks": marks})
    for key, pending in open_msgs.items():  # messages still in flight at the end
        for sent_row, src, text, dst in pending:
            arrows.append({"from": src, "to": dst, "sent": sent_row, "recv": None, "text": text, "dropped": False})
    out = {"lanes": lanes, "rows": rows, "arrows": arrows, "servers": v.servers if v is not None else []}
    if v is None:
        out.update(loop=len(lasso.prefix) - 1, stutters=lasso.stutters)
    return out


def render_html(result: Any, system: Any) -> str:
    data = {"result": to_json(result), "msc": msc_data(result, system), "coverage": coverage(result)}
    payload = json.dumps(data).replace("</", "<\\/")
    title = f"refmodel: {result.protocol} {result.verdict}"
    return (_TEMPLATE.replace("__TITLE__", html.escape(title)).replace("__CSS__", _CSS)
            .replace("__DATA__", payload).replace("__JS__", _JS))


def write_html(result: Any, system: Any, path: str | Path) -> None:
    Path(path).write_text(render_html(result, system))


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>__CSS__</style></head>
<body>
<header id="head"></header>
<section id="summary"></section>
<section id="cex"></section>
<section id="coverage"></section>
<script id="data" type="application/json">__DATA__</script>
<script>__JS__</script>
</body></html>
"""

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:16px 24px;color:#1d2330;background:#fff}
h1{font-size:20px;margin:0 0 6px} h2{font-size:16px;margin:18px 0 8px}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:600;text-transform:uppercase}
.cycle rect{fill:#fff3e0}.cycle path{fill:none;stroke:#ef6c00;stroke-width:1.5}.cycle text{fill:#ef6c00;font-size:12px}
tr.cycle td{background:#fff3e0}
.pass{background:#2e7d32}.violation{background:#c62828}.incomplete{background:#ef6c00}
table{border-collapse:collapse} td,th{padding:3px 8px;border-bottom:1px solid #e3e6ec;text-align:left;vertical-align:top}
th{background:#f4f6f9;font-weight:600}
.kv td:first-child{color:#5b6577}
.num{text-align:right;font-variant-numeric:tabular-nums}
.warn{color:#b35c00}
.cexwrap{display:flex;gap:18px;align-items:flex-start}
.msc{flex:0 0 auto;position:sticky;top:8px}
.steps{flex:1 1 auto;min-width:420px}
.steps td{font:12px/1.35 ui-monospace,SFMono-Regular,Menlo,monospace}
tr.step{height:__ROW__px}
tr.step:hover{background:#f7f9ff}
.chg{display:block;white-space:pre-wrap}
.new{background:#fff3b0;border-radius:3px;padding:0 2px}
.why{margin:8px 0;padding:8px 12px;background:#fdecea;border-left:4px solid #c62828}
svg text{font:11px system-ui,sans-serif}
.lane-line{stroke:#9aa5b8;stroke-width:1.5}
.lane-head{font-weight:700;font-size:13px}
.arrow{stroke:#1565c0;stroke-width:1.4;fill:none}
.arrow.dropped{stroke:#c62828;stroke-dasharray:4 3}
.arrow.inflight{stroke:#7e57c2;stroke-dasharray:2 3}
.mark rect{fill:#fff;stroke:#455a64}
.mark.role rect{fill:#e8f5e9;stroke:#2e7d32}
.mark.commit rect{fill:#e3f2fd;stroke:#1565c0}
.mark.bad rect{fill:#fdecea;stroke:#c62828}
.rowline{stroke:#eef0f4}
.involved .lane-head{fill:#c62828}
""".replace("__ROW__", "46")

_JS = r"""
(function(){
const D = JSON.parse(document.getElementById('data').textContent);
const R = D.result, M = D.msc;
const esc = s => String(s).replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const fmt = n => Number(n).toLocaleString('en');
document.getElementById('head').innerHTML =
  `<h1>${esc(R.protocol)} <span class="badge ${esc(R.verdict)}">${esc(R.verdict)}</span></h1>` +
  (R.mutant ? `<div>mutant <b>${esc(R.mutant)}</b></div>` : '');
const bounds = Object.entries(R.config).map(([k,v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('');
const stats = [['distinct states', fmt(R.distinct_states)], ['generated states', fmt(R.generated_states)],
  ['depth (TLC)', `${R.depth} (${R.tlc_depth})`], ['time', `${R.elapsed_s.toFixed(2)} s`],
  ['states/s', fmt(Math.round(R.states_per_s))], ['symmetry', R.symmetry ? 'on' : 'off'],
  ['invariants', R.invariants.join(', ')]].concat(R.incomplete_reason ? [['stopped', R.incomplete_reason]] : [])
  .map(([k,v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('');
document.getElementById('summary').innerHTML =
  `<div style="display:flex;gap:40px"><div><h2>Bounds</h2><table class="kv" id="bounds">${bounds}</table></div>` +
  `<div><h2>Statistics</h2><table class="kv" id="stats">${stats}</table></div></div>`;

const cov = D.coverage;
let covHtml = '<h2>Coverage</h2><table id="actions"><tr><th>action</th><th class="num">enabled</th><th class="num">new states</th><th></th></tr>';
for (const [a, c] of Object.entries(R.actions)) {
  const note = c.fired === 0 ? 'never enabled' : (c.new_states === 0 ? 'never led to a new state' : '');
  covHtml += `<tr><td>${esc(a)}</td><td class="num">${fmt(c.fired)}</td><td class="num">${fmt(c.new_states)}</td><td class="warn">${note}</td></tr>`;
}
covHtml += '</table>';
for (const [p, ante] of Object.entries(cov.vacuous_properties))
  covHtml += `<p class="warn">${esc(p)} held vacuously: its antecedent (${esc(ante)}) never held.</p>`;
document.getElementById('coverage').innerHTML = covHtml;

const L = (R.liveness || []).find(l => !l.holds);
if ((!R.violation && !L) || !M) return;
const V = R.violation || {invariant: L.property, length: L.prefix.length - 1 + L.cycle.length,
  description: L.description, servers: [],
  why: L.stutters ? `a prefix of ${M.loop} steps, then state ${M.loop} stutters for ever`
                  : `a prefix of ${M.loop} steps, then steps ${M.loop + 1} to ${M.rows.length - 1} repeat for ever (back to state ${M.loop})`};
const LOOP = M.loop === undefined ? null : M.loop;
const ROW = 46, TOP = 44, LANEW = 150, LEFT = 30;
const lanes = M.lanes, nrows = M.rows.length;
const W = LEFT * 2 + Math.max(1, lanes.length) * LANEW, H = TOP + nrows * ROW + 10;
const x = l => LEFT + LANEW / 2 + lanes.indexOf(l) * LANEW, y = r => TOP + r * ROW + ROW / 2;
const NS = 'http://www.w3.org/2000/svg';
const svg = document.createElementNS(NS, 'svg');
svg.setAttribute('width', W); svg.setAttribute('height', H); svg.setAttribute('id', 'msc');
svg.innerHTML = `<defs><marker id="ah" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#1565c0"/></marker>` +
  `<marker id="ahx" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="9" markerHeight="9"><path d="M1,1L9,9M9,1L1,9" stroke="#c62828" stroke-width="2"/></marker></defs>`;
let g = '';
for (let r = 0; r < nrows; r++) g += `<line class="rowline" x1="0" x2="${W}" y1="${TOP + r * ROW}" y2="${TOP + r * ROW}"/>`;
if (LOOP !== null) {  // the lasso's cycle: a band from the state it returns to, and the way back
  const y0 = TOP + LOOP * ROW, y1 = TOP + nrows * ROW;
  g += `<g class="cycle"><rect x="0" y="${y0}" width="${W}" height="${y1 - y0}"/>` +
       `<path d="M${W - 8},${y1 - ROW / 2} C${W + 4},${y1 - ROW / 2} ${W + 4},${y0 + ROW / 2} ${W - 8},${y0 + ROW / 2}" marker-end="url(#ah)"/>` +
       `<text x="${W - 12}" y="${y0 + 14}" text-anchor="end">${M.stutters ? 'stutters for ever' : 'cycle: back to state ' + LOOP}</text></g>`;
}
for (const l of lanes) {
  const inv = M.servers.includes(l) ? ' involved' : '';
  g += `<g class="lane${inv}" data-lane="${esc(l)}"><text class="lane-head" x="${x(l)}" y="20" text-anchor="middle">${esc(l)}</text>` +
       `<line class="lane-line" x1="${x(l)}" x2="${x(l)}" y1="28" y2="${H - 4}"/></g>`;
}
for (const a of M.arrows) {
  if (!lanes.includes(a.from)) continue;
  const x1 = x(a.from), y1 = y(a.sent);
  const self = a.from === a.to;
  if (a.recv === null) {
    const x2 = lanes.includes(a.to) ? x(a.to) : x1 + 40;
    g += `<g class="msg"><line class="arrow inflight" x1="${x1}" y1="${y1}" x2="${(x1 + x2) / 2}" y2="${H - 6}"/><title>${esc(a.text)} (still in flight)</title></g>`;
    continue;
  }
  const y2 = y(a.recv);
  const x2 = a.dropped ? (x1 + (lanes.includes(a.to) ? x(a.to) : x1)) / 2 : x(a.to);
  const cls = a.dropped ? 'arrow dropped' : 'arrow';
  const mk = a.dropped ? 'url(#ahx)' : 'url(#ah)';
  const path = self ? `M${x1},${y1} C${x1 + 55},${y1} ${x1 + 55},${y2} ${x1 + 4},${y2}` : `M${x1},${y1} L${x2},${y2}`;
  const tx = self ? x1 + 48 : (x1 + x2) / 2, ty = (y1 + y2) / 2 - 3;
  g += `<g class="msg"><path class="${cls}" d="${path}" marker-end="${mk}"/><text x="${tx}" y="${ty}" text-anchor="middle" fill="#0d47a1">${esc(a.text)}</text><title>${esc(a.text)}: step ${a.sent} to ${a.dropped ? 'dropped at ' : ''}step ${a.recv}</title></g>`;
}
M.rows.forEach((row, r) => {
  const byLane = {};
  for (const m of row.marks) (byLane[m.lane] = byLane[m.lane] || []).push(m);
  for (const [l, ms] of Object.entries(byLane)) {
    if (!lanes.includes(l)) continue;
    const text = ms.map(m => m.text).join(', ');
    const style = ms.find(m => m.style) ? ms.find(m => m.style).style : '';
    const w = Math.min(LANEW - 10, 8 + 6.2 * text.length);
    g += `<g class="mark ${esc(style)}"><rect x="${x(l) - w / 2}" y="${y(r) - 9}" width="${w}" height="18" rx="4"/><text x="${x(l)}" y="${y(r) + 4}" text-anchor="middle">${esc(text.length > 24 ? text.slice(0, 23) + '…' : text)}</text><title>${esc(text)}</title></g>`;
  }
});
svg.innerHTML += g;

let t = `<table id="steps"><tr><th>#</th><th>action</th><th>what changed</th></tr>`;
for (const row of M.rows) {
  const ch = row.changes.map(c => {
    const i = c.indexOf(' -> ');
    return i >= 0 ? `<span class="chg">${esc(c.slice(0, i))} -&gt; <span class="new">${esc(c.slice(i + 4))}</span></span>`
                  : `<span class="chg">${esc(c)}</span>`;
  }).join('') || (row.step === 0 ? '<span class="chg">initial state</span>' : '<span class="chg">(no variable changed)</span>');
  const cyc = LOOP !== null && row.step > LOOP ? ' cycle' : '';
  t += `<tr class="step${cyc}" data-step="${row.step}"><td>${row.step}</td><td>${esc(row.action)}</td><td>${ch}</td></tr>`;
}
t += '</table>';
const cex = document.getElementById('cex');
cex.innerHTML = `<h2>Counterexample to ${esc(V.invariant)}: ${V.length} steps${LOOP !== null ? ' (a lasso)' : ''}</h2>` +
  `<div class="why"><b>${esc(V.description.split('\n\n')[0].replace(/\n/g, ' '))}</b>` + (V.why ? `<br>${esc(V.why)}` : '') +
  (V.servers.length ? `<br>servers involved: ${esc(V.servers.join(', '))}` : '') + `</div>` +
  `<div class="cexwrap"><div class="msc"></div><div class="steps">${t}</div></div>`;
cex.querySelector('.msc').appendChild(svg);
})();
"""
