"""Drill reports as markdown and as one self-contained HTML page (inline SVG, no scripts).

Both read the report dict built by dnsops.drill.report; neither does I/O. Neither prints a
Python value as such: booleans are words (yes / no), a missing number is "-".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
OUTAGE_FILL = "#e6a700"
OUTAGE_OPACITY = 0.16
OUTAGE_LEGEND = "outage window (fault to restore)"
ADDED_LATENCY = (
    "Added latency: how much slower the outage window's p50 (p95) answer was than the "
    "steady state's p50 (p95) before the fault; 0 when it was not slower (a lower "
    "latency during the outage is noise, not a speed-up)."
)


def fmt_value(x: Any, unit: str = "") -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return _yes(x)
    if isinstance(x, float):
        return f"{x:g}{unit}"
    return f"{x}{unit}"


_fmt = fmt_value


def _yes(x: bool | None) -> str:
    return "-" if x is None else ("yes" if x else "no")


def fmt_added(x: float | None) -> str:
    """Latency above the steady state's: never below 0 (see ADDED_LATENCY)."""
    return "-" if x is None else f"{max(0.0, x):g}"


_added = fmt_added


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
    lines += instances_md(doc.get("instances") or {})
    rb = doc["rollback"]
    lines += ["", "## Rollback and verification", ""]
    lines += [f"- {u}" for u in rb["undone"]] or ["- nothing left to undo"]
    lines.append(f"- verified (servers running, providers equal git): **{_yes(rb['verified'])}**")
    lines += [f"  - {p}" for p in rb["problems"]]
    return "\n".join(lines) + "\n"


def _md_step(st: dict[str, Any]) -> list[str]:
    """The step's section, or nothing when it has nothing to show (a wait)."""
    out: list[str] = []
    if st.get("note"):
        out += [f"> {st['note']}", ""]
    if "isolation" in st:
        iso = st["isolation"]
        out.append(
            f"- {iso['provider']} alone, {iso['records_checked']} records on "
            f"{len(iso['nameservers'])} nameservers: complete and correct: "
            f"**{_yes(iso['complete_and_correct'])}**"
        )
        out += [f"  - {p}" for p in iso["problems"][:20]]
    if st.get("checks"):
        for c in st["checks"]:
            out.append(f"- {c['check']}: {'ok' if c['ok'] else '**failed**'}")
            out += [f"  - {d}" for d in c["detail"][:20]]
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
                f"{_added(x['added_p50_ms'])} / {_added(x['added_p95_ms'])} ms | "
                f"{_detect(x['time_to_detect'])} |"
            )
        out += ["", ADDED_LATENCY]
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
    if not out:
        return []
    return ["", f"### Step {st['index'] + 1}: {st['title']}", "", *out]


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
        section = _html_step(st)
        if section:
            parts.append(section)
    parts.append(instances_html(doc.get("instances") or {}))
    rb = doc["rollback"]
    parts.append("<h2>Rollback and verification</h2><ul>")
    parts += [f"<li>{escape(u)}</li>" for u in rb["undone"]] or ["<li>nothing left to undo</li>"]
    cls = "good" if rb["verified"] else "bad"
    parts.append(
        f'<li class="{cls}">verified (servers running, providers equal git): '
        f"{_yes(rb['verified'])}</li>"
    )
    parts += [f'<li class="bad">{escape(p)}</li>' for p in rb["problems"]]
    parts.append("</ul></body></html>")
    return "\n".join(parts) + "\n"


def _html_step(st: dict[str, Any]) -> str:
    """The step's section, or "" when it has nothing to show (a wait)."""
    out: list[str] = []
    if st.get("note"):
        out.append(f'<p class="note">{escape(st["note"])}</p>')
    if "isolation" in st:
        iso = st["isolation"]
        out.append(
            f"<p>{escape(iso['provider'])} alone: {iso['records_checked']} records on "
            f"{len(iso['nameservers'])} nameservers — complete and correct: "
            f"<b>{_yes(iso['complete_and_correct'])}</b></p>"
        )
        if iso["problems"]:
            out.append("<ul>" + "".join(f"<li>{escape(p)}</li>" for p in iso["problems"][:20]))
            out.append("</ul>")
    if st.get("checks"):
        out.append('<ul class="checks">')
        for c in st["checks"]:
            verdict = "ok" if c["ok"] else '<span class="bad">failed</span>'
            details = "".join(f"<li>{escape(d)}</li>" for d in c["detail"][:20])
            out.append(
                f"<li>{escape(c['check'])}: {verdict}"
                + (f"<ul>{details}</ul>" if details else "")
                + "</li>"
            )
        out.append("</ul>")
    if "impact" in st:
        out.append(
            "<table><tr><th>vantage</th><th>success</th><th>answered only on retry</th>"
            "<th>SERVFAIL</th><th>timeouts</th>"
            "<th>latency p50 / p95 / max ms</th><th>baseline p50 / p95 ms</th>"
            "<th>added p50 / p95 ms</th><th>time to detect</th></tr>"
        )
        for x in st["impact"]:
            out.append(
                f"<tr><td>{escape(x['vantage'])}</td><td>{_pct(x['success_fraction'])}</td>"
                f"<td>{_pct(x['retried_fraction'])}</td>"
                f"<td>{_pct(x['servfail_fraction'])}</td><td>{_pct(x['timeout_fraction'])}</td>"
                f"<td>{_fmt(x['latency_p50_ms'])} / {_fmt(x['latency_p95_ms'])} / "
                f"{_fmt(x['latency_max_ms'])}</td>"
                f"<td>{_fmt(x['baseline_p50_ms'])} / {_fmt(x['baseline_p95_ms'])}</td>"
                f"<td>{_added(x['added_p50_ms'])} / {_added(x['added_p95_ms'])}</td>"
                f"<td>{_detect(x['time_to_detect'])}</td></tr>"
            )
        out.append("</table>")
        out.append(f"<p><small>{escape(ADDED_LATENCY)}</small></p>")
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
    if not out:
        return ""
    return "\n".join([f"<h3>Step {st['index'] + 1}: {escape(st['title'])}</h3>", *out])


# -- the timeline --------------------------------------------------------------------

FONT_PX = 11  # svg text{font:11px ...} above
ROW_PX = 15  # one row of labels: a line of 11 px text (DejaVu Sans: 12.8 px high) and air
WIDTH = 1000
_WIDE = frozenset("mwMW%+—→…@")
_NARROW = frozenset(" fijlrtI.,:;-/()[]'|!")


def text_width(text: str, px: float = FONT_PX) -> float:
    """An upper estimate of ``text``'s width in a sans-serif font of ``px`` pixels.

    Per character, in em: 1 for the widest (m, w, %…), 0.4 for the narrow ones, 0.8 for
    capitals, 0.64 for the rest (digits and lower case). DejaVu Sans, one of the widest
    common fonts (Debian's default sans), stays below it for every character used here.
    """
    em = 0.0
    for ch in text:
        if ch in _WIDE:
            em += 1.0
        elif ch in _NARROW:
            em += 0.4
        elif ch.isupper():
            em += 0.8
        else:
            em += 0.64
    return em * px


@dataclass
class Placed:
    """A label's box: left edge ``x``, ``width``, in row ``row`` of its band."""

    text: str
    anchor: float  # the x of the mark it belongs to
    x: float
    width: float
    row: int = 0


def place_labels(
    labels: list[tuple[float, str]], lo: float, hi: float, pad: float = 3.0, gap: float = 8.0
) -> list[Placed]:
    """Each label just right of its mark (left of it near the right edge), kept inside
    [lo, hi], in the first row where it keeps ``gap`` from every other label of that row.

    Greedy by left edge, which needs no more rows than the most labels over one point.
    """
    placed = []
    for anchor, text in labels:
        w = text_width(text)
        x0 = anchor + pad
        if x0 + w > hi:
            x0 = anchor - pad - w
        placed.append(Placed(text, anchor, max(lo, min(x0, hi - w)), w))
    row_ends: list[float] = []
    for p in sorted(placed, key=lambda p: (p.x, p.anchor)):
        for r, end in enumerate(row_ends):
            if p.x >= end + gap:
                p.row, row_ends[r] = r, p.x + p.width
                break
        else:
            p.row = len(row_ends)
            row_ends.append(p.x + p.width)
    return placed


def outage_windows(tl: dict[str, Any]) -> list[tuple[float, float]]:
    """(fault, restore) times: each fault mark to the first restore after it, or the end."""
    marks = sorted(tl["marks"], key=lambda m: m["t"])
    restores = [m["t"] for m in marks if m["kind"] == "restore"]
    out = []
    for m in marks:
        if m["kind"] != "fault":
            continue
        until = next((t for t in restores if t >= m["t"]), tl["end"])
        if until in restores:
            restores.remove(until)
        out.append((m["t"], until))
    return out


def _tick_step(end: float, plot: float, widest: float) -> int:
    for step in (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if plot * step / end >= widest + 12:
            return step
    return max(1, math.ceil(end / 4))


TOP_KINDS = ("step", "change", "fault")  # labelled above the plot; the rest below
MARK_COLORS = {"ttl": "#d73027", "bound": "#d73027", "fault": "#b07d00"}


def timeline_svg(doc: dict[str, Any]) -> str:
    """One row per vantage, one lane per probe; each sample a tick coloured by its outcome.

    Outage windows are shaded; every mark's label is laid out (rows above and below the
    plot) so that no two labels overlap and none leaves the picture.
    """
    tl = doc["timeline"]
    vantages = list(tl["vantages"])
    probes = tl["probes"] or ["-"]
    end = max(tl["end"], 1.0)
    lane, gap = 12, 14
    left = max(60, math.ceil(max((text_width(v) for v in vantages), default=0) + 14))
    right = 24
    plot = WIDTH - left - right
    row = lane * len(probes) + gap

    def x(t: float) -> float:
        return float(left + max(0.0, min(t, end)) / end * plot)

    marks = list(tl["marks"])
    above = [m for m in marks if m["kind"] in TOP_KINDS]
    below = [m for m in marks if m["kind"] not in TOP_KINDS]
    top_labels = place_labels([(x(m["t"]), m["label"]) for m in above], 4, WIDTH - 4)
    low_labels = place_labels([(x(m["t"]), m["label"]) for m in below], 4, WIDTH - 4)
    n_top = max((p.row + 1 for p in top_labels), default=0)
    n_low = max((p.row + 1 for p in low_labels), default=0)
    top = 22 + (n_top - 1) * ROW_PX if n_top else 12
    bottom = top + row * len(vantages)
    ticks_y = bottom + 15
    windows = outage_windows(tl)

    legend = [(COLORS[k], 1.0, label) for k, label in LEGEND.items()]
    if windows:
        legend.append((OUTAGE_FILL, OUTAGE_OPACITY * 2, OUTAGE_LEGEND))
    legend_rows: list[list[tuple[float, str, float, str]]] = [[]]
    lx = 4.0
    for color, opacity, label in legend:
        w = 14 + text_width(label)
        if lx + w > WIDTH - 4 and legend_rows[-1]:
            legend_rows.append([])
            lx = 4.0
        legend_rows[-1].append((lx, color, opacity, label))
        lx += w + 18
    legend_top = ticks_y + n_low * ROW_PX + 12
    height = legend_top + len(legend_rows) * ROW_PX + 4

    out = [
        f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        'aria-label="answers per vantage over time">',
        f'<rect x="{left}" y="{top}" width="{plot}" height="{row * len(vantages)}" '
        'fill="#fafafa" stroke="#ddd"/>',
    ]
    for start, until in windows:
        out.append(
            f'<rect class="outage-window" x="{x(start):.1f}" y="{top}" '
            f'width="{max(1.0, x(until) - x(start)):.1f}" height="{row * len(vantages)}" '
            f'fill="{OUTAGE_FILL}" fill-opacity="{OUTAGE_OPACITY}">'
            f"<title>outage window: {start:g} s to {until:g} s</title></rect>"
        )
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
    for mark, p in zip(above, top_labels, strict=True):
        baseline = top - 6 - p.row * ROW_PX
        out += _mark(mark, p, baseline - 10, bottom, baseline)
    for mark, p in zip(below, low_labels, strict=True):
        baseline = ticks_y + (p.row + 1) * ROW_PX
        out += _mark(mark, p, top - 4, baseline - 10, baseline)
    step = _tick_step(end, plot, text_width(f"{int(end)}s"))
    for s in range(0, int(end) + 1, step):
        out.append(
            f'<text x="{x(s):.1f}" y="{ticks_y}" text-anchor="middle" fill="#777">{s}s</text>'
        )
    for i, items in enumerate(legend_rows):
        y = legend_top + (i + 1) * ROW_PX
        for lx, color, opacity, label in items:
            out.append(
                f'<rect x="{lx:g}" y="{y - 9}" width="10" height="10" fill="{color}"'
                + (f' fill-opacity="{opacity:g}"' if opacity != 1.0 else "")
                + "/>"
            )
            out.append(f'<text x="{lx + 14:g}" y="{y}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n" + _caption(probes, bool(windows))


def _mark(mark: dict[str, Any], p: Placed, y1: float, y2: float, baseline: float) -> list[str]:
    kind = mark["kind"]
    color = MARK_COLORS.get(kind, "#555")
    dash = ' stroke-dasharray="4 3"' if kind in ("ttl", "bound", "restore") else ""
    return [
        f'<line class="mark-{kind}" x1="{p.anchor:.1f}" y1="{y1}" x2="{p.anchor:.1f}" '
        f'y2="{y2}" stroke="{color}"{dash}/>',
        f'<text class="label-{kind}" x="{p.x:.1f}" y="{baseline}" fill="{color}">'
        f"{escape(mark['label'])}</text>",
    ]


def _caption(probes: list[str], windows: bool) -> str:
    lanes = []
    for i, p in enumerate(probes):
        if p.startswith("nx:"):
            zone = f"<code>{escape(p[3:])}</code>"
            lanes.append(f"{i + 1}. a fresh, never-cached name under {zone} each time")
        else:
            lanes.append(f"{i + 1}. <code>{escape(p)}</code>")
    text = "One lane per probe in each vantage's row, top to bottom: " + "; ".join(lanes) + "."
    if windows:
        text += " Shaded: the outage window, from the fault to the restore."
    return f"<p><small>{text}</small></p>"


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


# -- which instance of each resolver answered (NSID, RFC 5001) ----------------------------


def instance_text(seen: dict[str, int]) -> str:
    """ "lhr-1 (120), lhr-2 (3)": each instance that answered and how often; "-": none said."""
    return ", ".join(f"{n} ({c})" for n, c in seen.items()) or "-"


def instances_md(instances: dict[str, dict[str, int]]) -> list[str]:
    if not any(instances.values()):
        return []
    out = ["", "## Resolver instances (NSID)", "", "| vantage | answered by (samples) |"]
    out.append("|---|---|")
    out += [f"| {v} | {instance_text(seen)} |" for v, seen in instances.items()]
    return out


def instances_html(instances: dict[str, dict[str, int]]) -> str:
    if not any(instances.values()):
        return ""
    rows = "".join(
        f"<tr><td>{escape(v)}</td><td>{escape(instance_text(seen))}</td></tr>"
        for v, seen in instances.items()
    )
    return (
        "<h2>Resolver instances (NSID)</h2><table><tr><th>vantage</th>"
        f"<th>answered by (samples)</th></tr>{rows}</table>"
    )
