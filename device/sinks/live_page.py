"""The live page's HTML: current state in large type, the last minutes as a timeline.

One string with inline CSS and JS (no network, no libraries); it reads ``/events`` (Server-Sent
Events, the same JSON objects as the JSONL stream) and redraws at most once per frame. The
colours are the report's, so a therapist reads both the same way.
"""

from __future__ import annotations

import json

from ..stream.contracts import LABEL_COLOURS

_PAGE = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>serdevice live</title>
<style>
body{margin:0;font:16px/1.3 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#10161d;color:#e8edf2}
#now{display:flex;flex-wrap:wrap;align-items:center;gap:3vw;padding:2vh 3vw}
#label{font-size:clamp(48px,11vw,190px);font-weight:800;padding:0 .25em;border-radius:.15em;background:#394350;color:#fff;text-transform:uppercase;letter-spacing:.02em}
#act{font-size:clamp(48px,11vw,190px);font-weight:300;font-variant-numeric:tabular-nums}
#actbar{width:min(36vw,520px);height:clamp(14px,2.4vw,34px);background:#26303b;border-radius:6px;overflow:hidden}
#actbar i{display:block;height:100%;width:0;background:#e8edf2;transition:width .2s}
#side{font-size:clamp(18px,2.4vw,36px);color:#b7c2cd}
#side b{color:#e8edf2}
svg{display:block;width:100%;height:44vh;background:#161e27}
.tick{font-size:12px;fill:#8795a3}.grid{stroke:#26303b}.act{fill:none;stroke:#e8edf2;stroke-width:2.5}
.act-raw{fill:none;stroke:#6b7c8d;stroke-width:1}.speech{fill:#38a169}.threshold{stroke:#d64545;stroke-dasharray:8 6}
.fault{stroke:#f97316;stroke-width:3}
#status{padding:1vh 3vw;color:#8795a3;font-size:14px}
body.stale #label,body.stopped #label{opacity:.45}
</style></head>
<body data-last-seq="-1" data-events="0" data-state="connecting">
<div id="now"><div id="label">&mdash;</div>
<div><div id="act">&ndash;</div><div id="actbar"><i></i></div></div>
<div id="side"><div id="speaking">waiting for events</div><div>session <b id="clock">0:00</b></div><div id="model"></div><div id="adapting"></div></div></div>
<svg id="timeline" viewBox="0 0 1000 300" preserveAspectRatio="none"></svg>
<div id="status">connecting&hellip;</div>
<script>
"use strict";
const COLOURS = __COLOURS__;
const params = new URLSearchParams(location.search);
const MINUTES = Math.min(10, Math.max(0.5, parseFloat(params.get("minutes")) || __MINUTES__));
const SPAN = MINUTES * 60, THRESHOLD = 3.5;
const token = params.get("token");
let hops = [], speech = [], marks = [], latestT = 0, hopS = 0.5, pending = false, lastEventAt = Date.now(), adaptedAt = 0;
window.serdeviceLag = [];
const $ = (id) => document.getElementById(id);
function colour(label) { return COLOURS[label] || "#2a9d8f"; }
function clock(s) { s = Math.max(0, Math.round(s)); const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), x = s % 60;
  return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(x).padStart(2, "0"); }
function setState(name, text) { document.body.dataset.state = name; document.body.className = name; if (text) $("speaking").textContent = text; }
function handle(ev) {
  const t = typeof ev.t === "number" ? ev.t : null;
  if (t !== null) latestT = Math.max(latestT, t);
  if (typeof ev.wall === "number") { window.serdeviceLag.push(Date.now() / 1000 - ev.wall); if (window.serdeviceLag.length > 5000) window.serdeviceLag.shift(); }
  document.body.dataset.lastSeq = ev.seq; document.body.dataset.events = +document.body.dataset.events + 1;
  lastEventAt = Date.now();
  switch (ev.type) {
    case "start": hops = []; speech = []; marks = []; latestT = 0; hopS = ev.hop_s || 0.5;
      adaptedAt = ev.adaptation && ev.adaptation.mode === "adaptive" ? (ev.adaptation.adapted_windows || 0) : 0;
      $("adapting").textContent = adaptedAt ? "adapting to the wearer" : "";
      $("model").textContent = (ev.model || "") + " \u00b7 " + (ev.source || ""); setState("quiet", "listening"); break;
    case "activation":
      if (adaptedAt && typeof ev.norm_windows === "number") $("adapting").textContent = ev.norm_windows < adaptedAt
        ? "adapting: " + ev.norm_windows + " of " + adaptedAt + " speech windows heard" : "adapted to the wearer";
      hops.push({t, a: ev.activation, raw: ev.activation_raw, label: ev.label});
      $("label").textContent = ev.label; $("label").style.background = colour(ev.label);
      $("label").style.color = ev.label === "happy" ? "#1d2733" : "#fff";
      $("act").textContent = ev.activation.toFixed(1);
      $("actbar").firstChild.style.width = Math.max(0, Math.min(100, (ev.activation - 1) / 4 * 100)) + "%";
      $("actbar").firstChild.style.background = ev.activation >= THRESHOLD ? "#d64545" : "#e8edf2";
      setState("speaking", "speaking"); break;
    case "speech_start": speech.push([t, null]); setState("speaking", "speaking"); break;
    case "speech_end": if (speech.length && speech[speech.length - 1][1] === null) speech[speech.length - 1][1] = t; setState("quiet", "quiet"); break;
    case "emotion": marks.push({t, kind: "emotion", text: ev.label}); break;
    case "error": marks.push({t: t === null ? latestT : t, kind: "fault", text: ev.message}); $("status").textContent = "error: " + ev.message; break;
    case "stats": if (ev.capture) marks.push({t: t === null ? latestT : t, kind: "fault", text: "capture " + ev.capture}); break;
    case "stop": setState("stopped", "stopped (" + (ev.reason || "") + ")"); break;
  }
  $("clock").textContent = clock(latestT);
  const from = latestT - SPAN - 5;
  while (hops.length && hops[0].t < from) hops.shift();
  while (speech.length && speech[0][1] !== null && speech[0][1] < from) speech.shift();
  while (marks.length && marks[0].t < from) marks.shift();
}
function draw() {
  pending = false;
  // the last MINUTES, or less while the session is young (so its first minute is not a sliver)
  const span = Math.min(SPAN, Math.max(30, Math.ceil(latestT * 1.1 / 30) * 30));
  const W = 1000, L = 44, P = W - L - 30, top = 34, H = 230, t0 = Math.max(0, latestT - span);
  const x = (t) => (L + (t - t0) / span * P).toFixed(1);
  const y = (a) => (top + H * (1 - (Math.min(5, Math.max(1, a)) - 1) / 4)).toFixed(1);
  const out = [];
  for (let a = 1; a <= 5; a++) out.push(`<line class="grid" x1="${L}" x2="${L + P}" y1="${y(a)}" y2="${y(a)}"/><text class="tick" x="${L - 8}" y="${+y(a) + 4}" text-anchor="end">${a}</text>`);
  const step = span > 240 ? 60 : span > 60 ? 15 : 5;
  for (let s = Math.ceil(t0 / step) * step; s <= t0 + span; s += step) out.push(`<text class="tick" x="${x(s)}" y="${top + H + 18}" text-anchor="middle">${clock(s)}</text>`);
  out.push(`<text class="tick" transform="translate(12,${top + H / 2}) rotate(-90)" text-anchor="middle">activation</text>`);
  out.push(`<line class="threshold" x1="${L}" x2="${L + P}" y1="${y(THRESHOLD)}" y2="${y(THRESHOLD)}"/>`);
  let band = null;
  const bands = [];
  for (const h of hops) {
    if (band && band.label === h.label && h.t - band.t1 <= hopS * 0.51) band.t1 = h.t + hopS;
    else { band = {label: h.label, t0: h.t, t1: h.t + hopS}; bands.push(band); }
  }
  for (const b of bands) out.push(`<rect class="band" data-label="${b.label}" x="${x(Math.max(b.t0, t0))}" y="4" width="${Math.max(1, x(b.t1) - x(Math.max(b.t0, t0)))}" height="18" fill="${colour(b.label)}"/>`);
  for (const [s0, s1] of speech) { const a = x(Math.max(s0, t0)), b = x(s1 === null ? latestT : s1); out.push(`<rect class="speech" x="${a}" y="25" width="${Math.max(1, b - a)}" height="6"/>`); }
  for (const m of marks) if (m.kind === "fault") out.push(`<line class="fault" x1="${x(m.t)}" x2="${x(m.t)}" y1="4" y2="${top + H}"/>`);
  for (const [cls, key] of [["act-raw", "raw"], ["act", "a"]]) {
    let d = "", prev = null;
    for (const h of hops) { if (typeof h[key] !== "number" || h.t < t0) continue; d += (prev === null || h.t - prev > 2.5 * hopS ? "M" : "L") + x(h.t) + "," + y(h[key]) + " "; prev = h.t; }
    if (d) out.push(`<path class="${cls}" d="${d}"/>`);
  }
  $("timeline").innerHTML = out.join("");
  document.body.dataset.hops = hops.length;
}
function schedule() { if (!pending) { pending = true; requestAnimationFrame(draw); } }
const source = new EventSource("/events" + (token ? "?token=" + encodeURIComponent(token) : ""));
source.onopen = () => { $("status").textContent = "connected: last " + MINUTES + " min, events only (no audio)"; };
source.onmessage = (m) => { handle(JSON.parse(m.data)); schedule(); };
source.addEventListener("end", () => { source.close(); $("status").textContent = "the session has ended"; if (document.body.dataset.state !== "stopped") setState("stopped", "stopped"); });
source.onerror = () => { if (source.readyState !== EventSource.CLOSED) $("status").textContent = "connection lost, retrying\u2026"; };
setInterval(() => { const quiet = (Date.now() - lastEventAt) / 1000;
  if (quiet > 45 && document.body.dataset.state !== "stopped") { document.body.classList.add("stale"); $("status").textContent = "no events for " + Math.round(quiet) + " s"; } }, 5000);
draw();
</script></body></html>
"""


def page_html(*, minutes: float) -> str:
    """The live page, showing the last ``minutes`` by default (``?minutes=`` overrides)."""
    return _PAGE.replace("__COLOURS__", json.dumps(LABEL_COLOURS)).replace(
        "__MINUTES__", repr(float(minutes))
    )
