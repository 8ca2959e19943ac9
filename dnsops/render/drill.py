"""Drill reports as markdown and as one self-contained HTML page (inline SVG, no scripts).

Both read the report dict built by dnsops.drill.report; neither does I/O.
"""

from __future__ import annotations

from html import escape
from typing import Any

COLORS = {
    "old": "#6b7fa3",
    "new": "#1a9850",
    "ok": "#66bd63",
    "retry": "#fdae61",
    "wrong": "#f46d43",
    "fail": "#d73027",
}
LEGEND = {
    "old": "old answer",
    "new": "new answer",
    "ok": "answered",
    "retry": "answered only on the stub's retry",
    "wrong": "wrong answer",
    "fail": "failed (SERVFAIL / timeout)",
}


def _fmt(x: Any, unit: str = "") -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:g}{unit}"
    return f"{x}{unit}"


def _detect(x: float | None) -> str:
    return "not noticed" if x is None else f"{x:g} s"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


# -- markdown --------------------------------------------------------------------


def markdown(doc: dict[str, Any]) -> str:
    sc = doc["scenario"]
    lines = [
        f"# Drill `{sc['name']}` — {doc['verdict'].upper()}",
        "",
        f"- environment: `{doc['environment']}`" + (" (lab)" if doc["lab"] else ""),
        f"- run: `{doc['run_id']}`, {doc['started_at']} → {doc['ended_at']} "
        f"({doc['duration_seconds']} s)",
        f"- hypothesis: {sc['hypothesis']}",
        f"- verdict: **{doc['verdict']}**",
    ]
    lines += [f"  - {r}" for r in doc["reasons"]]
    lines += ["", "## Steps", "", "| # | step | started | ok | notes |", "|---|---|---|---|---|"]
    for st in doc["steps"]:
        ok = {True: "yes", False: "**no**", None: "-"}[st["ok"]]
        lines.append(
            f"| {st['index'] + 1} | {st['title']} | {st['started_at']} (+{st['started']:g} s) "
            f"| {ok} | {st.get('why') or ''} |"
        )
    for st in doc["steps"]:
        lines += _md_step(st)
    rb = doc["rollback"]
    lines += ["", "## Rollback and verification", ""]
    lines += [f"- {u}" for u in rb["undone"]] or ["- nothing left to undo"]
    lines.append(f"- verified (servers running, providers equal git): **{rb['verified']}**")
    lines += [f"  - {p}" for p in rb["problems"]]
    return "\n".join(lines) + "\n"


def _md_step(st: dict[str, Any]) -> list[str]:
    out = ["", f"### Step {st['index'] + 1}: {st['title']}", ""]
    if st.get("note"):
        out += [f"> {st['note']}", ""]
    if "isolation" in st:
        iso = st["isolation"]
        out.append(
            f"- {iso['provider']} alone, {iso['records_checked']} records on "
            f"{len(iso['nameservers'])} nameservers: complete and correct = "
            f"**{iso['complete_and_correct']}**"
        )
        out += [f"  - {p}" for p in iso["problems"][:20]]
    if "impact" in st:
        out += [
            "| vantage | success | answered only on retry | SERVFAIL | timeouts "
            "| latency p50 / p95 / max (baseline p50 / p95) | added p50 / p95 | time to detect |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for x in st["impact"]:
            out.append(
                f"| {x['vantage']} | {_pct(x['success_fraction'])} | "
                f"{_pct(x['retried_fraction'])} | "
                f"{_pct(x['servfail_fraction'])} | {_pct(x['timeout_fraction'])} | "
                f"{_fmt(x['latency_p50_ms'])} / {_fmt(x['latency_p95_ms'])} / "
                f"{_fmt(x['latency_max_ms'])} ms "
                f"({_fmt(x['baseline_p50_ms'])} / {_fmt(x['baseline_p95_ms'])}) | "
                f"{_fmt(x['added_p50_ms'])} / {_fmt(x['added_p95_ms'])} ms | "
                f"{_detect(x['time_to_detect'])} |"
            )
    if "convergence" in st:
        out.append(
            f"- {st['record']}: {', '.join(st['old'])} → {', '.join(st['new'])}; "
            f"TTL {st['ttl']} s, "
            f"bound TTL + margin = {st['bound']:g} s; apply took {st['apply_seconds']:g} s"
        )
        out += [
            "",
            "| vantage | first correct | converged p50 / p95 / max | within bound | stale "
            "| SERVFAIL | latency p50 / p95 |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in st["convergence"]:
            out.append(
                f"| {c['vantage']} | {_fmt(c['first_correct'], ' s')} | {_fmt(c['p50'])} / "
                f"{_fmt(c['p95'])} / {_fmt(c['max'], ' s')} | "
                f"{'yes' if c['converged'] else '**no**'} "
                f"| {_pct(c['stale_fraction'])} | {_pct(c['servfail_fraction'])} | "
                f"{_fmt(c['latency_p50_ms'])} / {_fmt(c['latency_p95_ms'])} ms |"
            )
    if "population" in st:
        out += population_md(st["population"])
    return out


# -- HTML ----------------------------------------------------------------------------

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;padding:0 1rem}
h1 .pass{color:#1a9850}h1 .fail{color:#d73027}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ddd;padding:.25rem .5rem;
text-align:left;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
.note{background:#fff4d6;border-left:4px solid #e6a700;padding:.5rem 1rem}
.bad{color:#d73027;font-weight:600}.good{color:#1a9850}
svg text{font:11px system-ui,sans-serif}
"""


def html(doc: dict[str, Any]) -> str:
    sc = doc["scenario"]
    v = doc["verdict"]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>drill {escape(sc['name'])}: {v}</title>",
        f"<style>{CSS}</style></head><body>",
        f'<h1>Drill <code>{escape(sc["name"])}</code>: <span class="{v}">{v.upper()}</span></h1>',
        f"<p><b>Hypothesis:</b> {escape(sc['hypothesis'])}</p>",
        f"<p>Environment <code>{escape(doc['environment'])}</code>"
        f"{' (lab)' if doc['lab'] else ''}; run <code>{escape(doc['run_id'])}</code>, "
        f"{escape(doc['started_at'])} → {escape(doc['ended_at'])} "
        f"({doc['duration_seconds']} s).</p>",
    ]
    if doc["reasons"]:
        parts.append("<ul>" + "".join(f'<li class="bad">{escape(r)}</li>' for r in doc["reasons"]))
        parts.append("</ul>")
    else:
        parts.append('<p class="good">The hypothesis held.</p>')
    parts.append("<h2>Timeline</h2>")
    parts.append(timeline_svg(doc))
    parts.append("<h2>Steps</h2><table><tr><th>#</th><th>step</th><th>started</th>")
    parts.append("<th>ok</th><th>notes</th></tr>")
    for st in doc["steps"]:
        ok = {True: "yes", False: '<span class="bad">no</span>', None: "-"}[st["ok"]]
        parts.append(
            f"<tr><td>{st['index'] + 1}</td><td>{escape(st['title'])}</td>"
            f"<td>{escape(st['started_at'])} (+{st['started']:g} s)</td><td>{ok}</td>"
            f"<td>{escape(st.get('why') or '')}</td></tr>"
        )
    parts.append("</table>")
    for st in doc["steps"]:
        parts.append(_html_step(st))
    rb = doc["rollback"]
    parts.append("<h2>Rollback and verification</h2><ul>")
    parts += [f"<li>{escape(u)}</li>" for u in rb["undone"]] or ["<li>nothing left to undo</li>"]
    cls = "good" if rb["verified"] else "bad"
    parts.append(
        f'<li class="{cls}">verified (servers running, providers equal git): {rb["verified"]}</li>'
    )
    parts += [f'<li class="bad">{escape(p)}</li>' for p in rb["problems"]]
    parts.append("</ul></body></html>")
    return "\n".join(parts) + "\n"


def _html_step(st: dict[str, Any]) -> str:
    out = [f"<h3>Step {st['index'] + 1}: {escape(st['title'])}</h3>"]
    if st.get("note"):
        out.append(f'<p class="note">{escape(st["note"])}</p>')
    if "isolation" in st:
        iso = st["isolation"]
        out.append(
            f"<p>{escape(iso['provider'])} alone: {iso['records_checked']} records on "
            f"{len(iso['nameservers'])} nameservers — complete and correct: "
            f"<b>{iso['complete_and_correct']}</b></p>"
        )
        if iso["problems"]:
            out.append("<ul>" + "".join(f"<li>{escape(p)}</li>" for p in iso["problems"][:20]))
            out.append("</ul>")
    if "impact" in st:
        out.append(
            "<table><tr><th>vantage</th><th>success</th><th>answered only on retry</th>"
            "<th>SERVFAIL</th><th>timeouts</th>"
            "<th>latency p50 / p95 / max ms</th><th>baseline p50 / p95 ms</th>"
            "<th>added p50 / p95 ms</th><th>time to detect</th></tr>"
        )
        for x in st["impact"]:
            detect = "not noticed" if x["time_to_detect"] is None else f"{x['time_to_detect']:g} s"
            out.append(
                f"<tr><td>{escape(x['vantage'])}</td><td>{_pct(x['success_fraction'])}</td>"
                f"<td>{_pct(x['retried_fraction'])}</td>"
                f"<td>{_pct(x['servfail_fraction'])}</td><td>{_pct(x['timeout_fraction'])}</td>"
                f"<td>{_fmt(x['latency_p50_ms'])} / {_fmt(x['latency_p95_ms'])} / "
                f"{_fmt(x['latency_max_ms'])}</td>"
                f"<td>{_fmt(x['baseline_p50_ms'])} / {_fmt(x['baseline_p95_ms'])}</td>"
                f"<td>{_fmt(x['added_p50_ms'])} / {_fmt(x['added_p95_ms'])}</td>"
                f"<td>{detect}</td></tr>"
            )
        out.append("</table>")
    if "convergence" in st:
        out.append(
            f"<p><code>{escape(st['record'])}</code>: {escape(', '.join(st['old']))} → "
            f"{escape(', '.join(st['new']))}. TTL {st['ttl']} s; bound TTL + margin = "
            f"{st['bound']:g} s; apply took {st['apply_seconds']:g} s.</p>"
            "<table><tr><th>vantage</th><th>first correct</th><th>converged p50 / p95 / max"
            "</th><th>within bound</th><th>stale</th><th>SERVFAIL</th>"
            "<th>latency p50 / p95 ms</th></tr>"
        )
        for c in st["convergence"]:
            within = "yes" if c["converged"] else '<span class="bad">no</span>'
            out.append(
                f"<tr><td>{escape(c['vantage'])}</td><td>{_fmt(c['first_correct'], ' s')}</td>"
                f"<td>{_fmt(c['p50'])} / {_fmt(c['p95'])} / {_fmt(c['max'], ' s')}</td>"
                f"<td>{within}</td><td>{_pct(c['stale_fraction'])}</td>"
                f"<td>{_pct(c['servfail_fraction'])}</td>"
                f"<td>{_fmt(c['latency_p50_ms'])} / {_fmt(c['latency_p95_ms'])}</td></tr>"
            )
        out.append("</table>")
    if "population" in st:
        out.append(population_html(st["population"]))
    return "\n".join(out)


def timeline_svg(doc: dict[str, Any]) -> str:
    """One row per vantage, one lane per probe; each sample a tick coloured by its outcome."""
    tl = doc["timeline"]
    vantages = list(tl["vantages"])
    probes = tl["probes"] or ["-"]
    end = max(tl["end"], 1.0)
    left, right, top, lane, gap = 70, 90, 44, 12, 14
    width = 1000
    row = lane * len(probes) + gap
    height = top + row * len(vantages) + 70
    plot = width - left - right

    def x(t: float) -> float:
        return float(left + max(0.0, min(t, end)) / end * plot)

    out = [
        f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="answers per vantage over time">',
        f'<rect x="{left}" y="{top}" width="{plot}" height="{row * len(vantages)}" '
        'fill="#fafafa" stroke="#ddd"/>',
    ]
    for i, v in enumerate(vantages):
        y0 = top + i * row
        out.append(
            f'<text x="{left - 6}" y="{y0 + row / 2 + 4:.1f}" text-anchor="end">{escape(v)}</text>'
        )
        for t, outcome, _lat, probe, _stream in tl["vantages"][v]:
            lane_i = probes.index(probe) if probe in probes else 0
            y = y0 + gap / 2 + lane_i * lane
            out.append(
                f'<rect class="s-{outcome}" x="{x(t):.1f}" y="{y:.1f}" width="2" '
                f'height="{lane - 2}" fill="{COLORS.get(outcome, "#999")}"/>'
            )
    bottom = top + row * len(vantages)
    for mark in tl["marks"]:
        mx = x(mark["t"])
        kind = mark["kind"]
        color = {"ttl": "#d73027", "bound": "#d73027", "fault": "#e6a700"}.get(kind, "#555")
        dash = ' stroke-dasharray="4 3"' if kind in ("ttl", "bound", "restore") else ""
        out.append(
            f'<line class="mark-{kind}" x1="{mx:.1f}" y1="{top - 4}" x2="{mx:.1f}" '
            f'y2="{bottom}" stroke="{color}"{dash}/>'
        )
        label_y = {"step": top - 22, "change": top - 8, "fault": top - 8}.get(kind, bottom + 12)
        if kind == "bound":
            label_y = bottom + 38
        out.append(
            f'<text x="{mx + 2:.1f}" y="{label_y}" fill="{color}">{escape(mark["label"])}</text>'
        )
    for s in range(0, int(end) + 1, max(1, int(end // 10) or 1)):
        out.append(f'<text x="{x(s):.1f}" y="{bottom + 26}" fill="#777">{s}s</text>')
    lx = left
    for key, label in LEGEND.items():
        out.append(
            f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{COLORS[key]}"/>'
        )
        out.append(f'<text x="{lx + 14}" y="{height - 5}">{escape(label)}</text>')
        lx += 40 + 7 * len(label)
    out.append("</svg>")
    lanes = ", ".join(f"lane {i + 1}: {escape(p)}" for i, p in enumerate(probes))
    return "\n".join(out) + f"\n<p><small>Lanes per vantage — {lanes}.</small></p>"


# -- convergence over the population (a small table; the timeline is elsewhere) -----------


def population_rows(pop: dict[str, Any]) -> list[tuple[str, float | None, float | None]]:
    """(vantage, primed seconds before the change, converged seconds after), fastest first."""
    before = pop.get("primed_before") or {}
    rows = [(v, before.get(v), t) for v, t in pop["per_vantage"].items()]
    return sorted(rows, key=lambda r: (r[2] is None, r[2] or 0.0, r[0]))


def population_summary(pop: dict[str, Any]) -> str:
    within = "within" if pop["within_bound"] else "NOT within"
    prime = pop.get("prime")
    primed = f"caches primed {prime}" if prime in ("staggered", "together") else "not primed"
    return (
        f"over {pop['n']} vantages ({pop['converged']} converged, {primed}): "
        f"p50 {_fmt(pop['p50'], ' s')}, p95 {_fmt(pop['p95'], ' s')}, "
        f"max {_fmt(pop['max'], ' s')} ({pop['percentile']}), {within} TTL {pop['ttl']} s + "
        f"margin {pop['margin']:g} s = {pop['bound']:g} s"
    )


def population_md(pop: dict[str, Any]) -> list[str]:
    out = ["", f"Convergence {population_summary(pop)}.", ""]
    out += ["| vantage | cache primed | converged |", "|---|---|---|"]
    for v, before, t in population_rows(pop):
        when = "never" if t is None else f"{t:g} s after the change"
        out.append(f"| {v} | {_fmt(before, ' s before')} | {when} |")
    return out


def population_html(pop: dict[str, Any]) -> str:
    out = [
        '<section class="population"><h4>Convergence over the population</h4>',
        f"<p>{escape(population_summary(pop))}.</p>",
        "<table><tr><th>vantage</th><th>cache primed</th><th>converged</th></tr>",
    ]
    for v, before, t in population_rows(pop):
        when = '<span class="bad">never</span>' if t is None else f"{t:g} s after the change"
        out.append(
            f"<tr><td>{escape(v)}</td><td>{_fmt(before, ' s before')}</td><td>{when}</td></tr>"
        )
    out.append("</table></section>")
    return "\n".join(out)
