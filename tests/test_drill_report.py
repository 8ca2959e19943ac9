"""The drill report's renderers (markdown, HTML with its SVG timeline) on reports the lab
really produced (tests/fixtures/drill-reports: `out-pdns`, a 3 s stop of PowerDNS with a
check step; `fast-failover`, api.example.test. to its standby and back with a 2 s TTL),
and on variations of them. The layout is checked twice: from the renderer's own text
width estimates, and as headless Chromium really draws it."""

from __future__ import annotations

import copy
import json
import re
from html import escape
from pathlib import Path
from typing import Any

import pytest

from dnsops.drill.report import _added_floored
from dnsops.render.drill import (
    ADDED_LATENCY,
    WIDTH,
    html,
    markdown,
    outage_windows,
    place_labels,
    text_width,
    timeline_svg,
)
from tests import chromium

REPORTS = Path(__file__).parent / "fixtures" / "drill-reports"
REPR = re.compile(r"\b(True|False|None)\b")


def report(name: str) -> dict[str, Any]:
    return dict(json.loads((REPORTS / f"{name}.json").read_text()))


def with_wait(doc: dict[str, Any]) -> dict[str, Any]:
    """fast-failover as api-failover runs it: failover, a wait, failback (the issue's
    "step 2 wait" printed over "step 3 failback": they start 0.1 s apart)."""
    doc = copy.deepcopy(doc)
    failback = doc["steps"][1]
    wait = {
        "index": 1, "kind": "wait", "title": "wait", "started": 4.6, "ended": 4.695,
        "started_at": failback["started_at"], "ok": True, "why": "",
    }  # fmt: skip
    failback["index"] = 2
    doc["steps"].insert(1, wait)
    marks = doc["timeline"]["marks"]
    for m in marks:
        if m["label"] == "step 2 failback":
            m["label"] = "step 3 failback"
    marks.append({"t": 4.6, "label": "step 2 wait", "kind": "step"})
    return doc


def many_short_steps(doc: dict[str, Any], n: int = 24) -> dict[str, Any]:
    """Twenty-four steps of 0.3 s each, an outage in the middle: labels everywhere."""
    doc = copy.deepcopy(doc)
    marks = [
        {"t": round(0.3 * i, 3), "label": f"step {i + 1} {kind}", "kind": "step"}
        for i, kind in enumerate(["check", "wait", "provider-outage", "record-failover"] * (n // 4))
    ]
    marks += [
        {"t": 3.0, "label": "fault", "kind": "fault"},
        {"t": 4.2, "label": "restored", "kind": "restore"},
        {"t": 7.5, "label": "TTL 2 s", "kind": "ttl"},
        {"t": 7.55, "label": "TTL + margin 3 s", "kind": "bound"},
        {"t": 7.58, "label": "TTL + margin 3 s", "kind": "bound"},
    ]
    doc["timeline"]["marks"] = marks
    return doc


def many_vantages(doc: dict[str, Any]) -> dict[str, Any]:
    """Eight vantages, some with long names (a population of resolvers, SSH, Atlas)."""
    doc = copy.deepcopy(doc)
    samples = doc["timeline"]["vantages"]["iad"]
    names = ["iad", "lhr", "nrt", "cloudflare", "quad9-anycast", "lhr-ssh", "nrt-ssh"]
    names.append("atlas-eu-west-probes")
    doc["timeline"]["vantages"] = {n: samples for n in names}
    return doc


# -- what the page says --------------------------------------------------------------


def test_a_check_step_shows_its_check_results() -> None:
    doc = report("out-pdns")
    md = markdown(doc)
    assert (
        "### Step 2: check\n\n- servers: ok\n- zone example.test. (14 records): ok\n\n"
        "## Rollback and verification" in md
    )
    page = html(doc)
    assert (
        '<h3>Step 2: check</h3>\n<ul class="checks">\n<li>servers: ok</li>\n'
        "<li>zone example.test. (14 records): ok</li>\n</ul>" in page
    )
    failed = copy.deepcopy(doc)
    failed["steps"][1]["checks"][1] = {
        "check": "zone example.test. (14 records)",
        "ok": False,
        "detail": ["ns1.bind.test.: www.example.test. CNAME missing"],
    }
    assert (
        "- zone example.test. (14 records): **failed**\n"
        "  - ns1.bind.test.: www.example.test. CNAME missing" in markdown(failed)
    )
    assert (
        '<li>zone example.test. (14 records): <span class="bad">failed</span>'
        "<ul><li>ns1.bind.test.: www.example.test. CNAME missing</li></ul></li>" in html(failed)
    )


def test_a_step_with_nothing_to_show_has_no_heading() -> None:
    doc = with_wait(report("fast-failover"))
    md, page = markdown(doc), html(doc)
    assert "| 2 | wait |" in md and "<td>2</td><td>wait</td>" in page  # listed in the table
    assert "Step 2" not in md and "Step 2" not in page
    headings = re.findall(r"^### (.*)$", md, re.M)
    assert headings == [
        "Step 1: record-failover api.example.test. A",
        "Step 3: failback",
    ]
    assert re.findall(r"<h3>(.*?)</h3>", page) == headings
    # and no heading is followed directly by another heading
    assert not re.search(r"<h3>[^<]*</h3>\s*<h[1-3]>", page)
    assert not re.search(r"^###? .*\n\n###? ", md, re.M)


@pytest.mark.parametrize("name", ["out-pdns", "fast-failover"])
def test_no_python_value_is_printed(name: str) -> None:
    doc = report(name)
    bad = copy.deepcopy(doc)
    bad["rollback"] = {"undone": [], "verified": False, "problems": ["pdns: still stopped"]}
    for st in bad["steps"]:
        st["ok"] = None
        for c in st.get("convergence", []):
            c.update(first_correct=None, p50=None, p95=None, max=None, latency_p50_ms=None)
        for x in st.get("impact", []):
            x.update(added_p50_ms=None, baseline_p95_ms=None, time_to_detect=None)
    for d in (doc, bad):
        for text in (markdown(d), html(d)):
            assert not REPR.search(text), REPR.search(text)
    assert "- verified (servers running, providers equal git): **yes**" in markdown(doc)
    assert "- verified (servers running, providers equal git): **no**" in markdown(bad)
    assert 'class="good">verified (servers running, providers equal git): yes</li>' in html(doc)
    assert 'class="bad">verified (servers running, providers equal git): no</li>' in html(bad)


def test_an_isolation_says_yes_or_no() -> None:
    doc = report("out-pdns")
    step = doc["steps"][0]
    step.pop("impact")
    step["note"] = "This was an ISOLATION, not an outage: nothing was taken down."
    step["isolation"] = {
        "provider": "pdns",
        "nameservers": {"ns1.pdns.test.": "127.66.1.1", "ns2.pdns.test.": "127.66.1.2"},
        "records_checked": 14,
        "complete_and_correct": False,
        "problems": ["ns1.pdns.test.: api.example.test. A: no answer"],
    }
    assert (
        "- pdns alone, 14 records on 2 nameservers: complete and correct: **no**\n"
        "  - ns1.pdns.test.: api.example.test. A: no answer" in markdown(doc)
    )
    assert "nameservers — complete and correct: <b>no</b></p>" in html(doc)


def test_added_latency_is_never_negative_and_says_what_it_is() -> None:
    doc = report("out-pdns")
    iad = doc["steps"][0]["impact"][0]
    iad.update(latency_p50_ms=2.5, baseline_p50_ms=2.96, added_p50_ms=-0.46)
    md = markdown(doc)
    assert (
        "| iad | 100.0% | 0.0% | 0.0% | 0.0% | 2.5 / 867.74 / 1444.75 ms (2.96 / 16.08) "
        "| 0 / 851.67 ms | 0.19 s |" in md
    )
    assert "-0.46" not in md and "-0.46" not in html(doc)
    assert "<td>0 / 851.67</td>" in html(doc)
    assert ADDED_LATENCY in md and f"<p><small>{escape(ADDED_LATENCY)}</small></p>" in html(doc)
    assert ADDED_LATENCY.startswith(
        "Added latency: how much slower the outage window's p50 (p95) answer was than the "
        "steady state's p50 (p95) before the fault; 0 when it was not slower"
    )
    # the JSON report floors it too
    assert _added_floored({"added_p50_ms": -0.46, "added_p95_ms": 851.67}) == {
        "added_p50_ms": 0.0,
        "added_p95_ms": 851.67,
    }
    assert _added_floored({"added_p50_ms": None, "added_p95_ms": None}) == {
        "added_p50_ms": None,
        "added_p95_ms": None,
    }


def test_the_lane_caption_names_each_probe_without_a_double_dot() -> None:
    page = html(report("fast-failover"))
    assert (
        "<p><small>One lane per probe in each vantage's row, top to bottom: "
        "1. <code>api.example.test. A</code>; 2. a fresh, never-cached name under "
        "<code>example.test.</code> each time.</small></p>" in page
    )
    visible = re.sub(r"<[^>]+>", "", page)
    assert ".." not in visible
    assert "nx:" not in visible


# -- the timeline ----------------------------------------------------------------------


def test_the_outage_window_is_shaded_from_fault_to_restore() -> None:
    doc = report("out-pdns")
    assert outage_windows(doc["timeline"]) == [(2.017, 5.454)]
    svg = timeline_svg(doc)
    (shaded,) = re.findall(r'<rect class="outage-window"[^>]*>', svg)
    # x(t) = left 60 + t / end 6.007 * plot (1000 - 60 - 24); two rows of labels above
    # (step 1 and fault start 5 ms apart): top 37; three vantages of two 12 px lanes + 14
    assert shaded == (
        '<rect class="outage-window" x="367.6" y="37" width="524.1" height="114" '
        'fill="#e6a700" fill-opacity="0.16">'
    )
    assert "<title>outage window: 2.017 s to 5.454 s</title>" in svg
    assert ">outage window (fault to restore)</text>" in svg
    assert "Shaded: the outage window, from the fault to the restore." in html(doc)
    # no fault, no window and no legend entry
    failover = report("fast-failover")
    assert outage_windows(failover["timeline"]) == []
    assert "outage-window" not in timeline_svg(failover) and "Shaded" not in html(failover)


def test_an_unrestored_fault_is_shaded_to_the_end() -> None:
    tl = {
        "end": 9.0,
        "marks": [
            {"t": 1.0, "label": "fault", "kind": "fault"},
            {"t": 3.0, "label": "restored", "kind": "restore"},
            {"t": 5.0, "label": "fault", "kind": "fault"},
        ],
    }
    assert outage_windows(tl) == [(1.0, 3.0), (5.0, 9.0)]


def test_label_widths_are_estimated_per_character() -> None:
    # s .64, t .4, e .64, p .64, space .4, 2 .64, space .4, w 1, a .64, i .4, t .4 (em)
    assert text_width("step 2 wait") == pytest.approx(6.2 * 11)
    assert text_width("TTL") == pytest.approx((0.8 + 0.8 + 0.8) * 11)


def test_labels_take_rows_and_stay_inside() -> None:
    placed = place_labels(
        [(100, "step 2 wait"), (104, "step 3 failback"), (300, "change"), (990, "TTL 2 s")],
        4,
        996,
    )
    assert [(p.text, round(p.x, 2), p.row) for p in placed] == [
        ("step 2 wait", 103.0, 0),
        ("step 3 failback", 107.0, 1),  # would overlap "step 2 wait": the next row
        ("change", 303.0, 0),
        ("TTL 2 s", round(990 - 3 - text_width("TTL 2 s"), 2), 0),  # left of its mark
    ]


def _boxes(svg: str) -> list[tuple[str, float, float, float]]:
    """(text, left, right, baseline) of every <text>, from the renderer's width estimate."""
    out = []
    for attrs, text in re.findall(r"<text ([^>]*)>([^<]*)</text>", svg):
        x = float(re.search(r'\bx="([\d.]+)"', attrs).group(1))  # type: ignore[union-attr]
        y = float(re.search(r'\by="([\d.]+)"', attrs).group(1))  # type: ignore[union-attr]
        w = text_width(text.replace("&#x27;", "'").replace("&amp;", "&"))
        if 'text-anchor="end"' in attrs:
            x -= w
        elif 'text-anchor="middle"' in attrs:
            x -= w / 2
        out.append((text, x, x + w, y))
    return out


@pytest.mark.parametrize(
    "make",
    [
        lambda: report("out-pdns"),
        lambda: report("fast-failover"),
        lambda: with_wait(report("fast-failover")),
        lambda: many_short_steps(report("fast-failover")),
        lambda: many_vantages(report("out-pdns")),
    ],
    ids=["out-pdns", "fast-failover", "with-wait", "many-short-steps", "many-vantages"],
)
def test_no_two_labels_overlap_by_the_estimate(make: Any) -> None:
    svg = timeline_svg(make())
    height = float(re.search(r'viewBox="0 0 1000 ([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    boxes = _boxes(svg)
    for text, left, right, baseline in boxes:
        assert left >= 0 and right <= WIDTH, text
        assert baseline - 11 >= 0 and baseline + 3 <= height, text
    for i, (a, al, ar, ay) in enumerate(boxes):
        for b, bl, br, by in boxes[i + 1 :]:
            if abs(ay - by) < 13:  # the same line of text
                assert ar <= bl or br <= al, (a, b)


def test_many_short_steps_stack_their_labels() -> None:
    svg = timeline_svg(many_short_steps(report("fast-failover")))
    step_ys = {
        y for attrs, _ in re.findall(r'<text class="label-step" ([^>]*)>([^<]*)<', svg)
        for y in re.findall(r'\by="([\d.]+)"', attrs)
    }  # fmt: skip
    assert len(step_ys) > 3  # rows of labels, not one line of overprinted text


# -- as Chromium draws it --------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "windows"),
    [
        (lambda: report("out-pdns"), 1),
        (lambda: with_wait(report("fast-failover")), 0),
        (lambda: many_short_steps(report("fast-failover")), 1),
        (lambda: many_vantages(report("out-pdns")), 1),
    ],
    ids=["out-pdns", "with-wait", "many-short-steps", "many-vantages"],
)
def test_chromium_draws_no_label_over_another_and_none_outside(
    make: Any, windows: int, tmp_path: Path
) -> None:
    doc = make()
    got = chromium.layout(html(doc), tmp_path)
    assert len(got["labels"]) == len(re.findall("<text ", timeline_svg(doc)))
    assert chromium.overlaps(got["labels"]) == []
    assert chromium.outside(got) == []
    assert not REPR.search(got["text"])
    assert got["windows"] == windows


def test_the_text_summary_prints_no_python_value(capsys: pytest.CaptureFixture[str]) -> None:
    from dnsops.cli.drill import _summary

    outage, failover = report("out-pdns"), report("fast-failover")
    outage["steps"][0]["impact"][0].update(added_p50_ms=-0.46, latency_max_ms=None)
    failover["steps"][0]["convergence"][0].update(first_correct=None, max=None)
    _summary(outage)
    _summary(failover)
    text = capsys.readouterr().out
    assert not REPR.search(text), text
    assert (
        "iad: success 100.0% (0.0% only after the stub's retry), added latency p50 0 ms / "
        "p95 851.67 ms, max - ms" in text
    )
    assert "iad: first correct -, converged max - (bound 5 s)" in text


def test_resolver_instances_are_shown_per_vantage() -> None:
    """NSID (RFC 5001) per vantage: which instance of its resolver answered, how often."""
    from dnsops.render.drill import instance_text, instances_html, instances_md

    seen = {"iad": {"iad-1.lab": 118, "iad-2.lab": 2}, "quad9": {}}
    assert instance_text(seen["iad"]) == "iad-1.lab (118), iad-2.lab (2)"
    assert instances_md(seen) == [
        "",
        "## Resolver instances (NSID)",
        "",
        "| vantage | answered by (samples) |",
        "|---|---|",
        "| iad | iad-1.lab (118), iad-2.lab (2) |",
        "| quad9 | - |",
    ]
    assert "<td>quad9</td><td>-</td>" in instances_html(seen)
    assert instances_md({"quad9": {}}) == [] and instances_html({"quad9": {}}) == ""
