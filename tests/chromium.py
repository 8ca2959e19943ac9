"""A drill report's HTML as headless Chromium lays it out: the DOM, and where every SVG
text label of the timeline really landed (its box from getBBox(), in the SVG's units).

The report itself runs no script; a copy of it gets one that measures the page and writes
the figures into a <pre id="layout"> that `--dump-dom` prints.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

MEASURE = """<script>
(() => {
  const svg = document.getElementById('timeline');
  const vb = svg.viewBox.baseVal;
  const frame = svg.getBoundingClientRect();
  const labels = [...svg.querySelectorAll('text')].map((t) => {
    const b = t.getBBox();
    const r = t.getBoundingClientRect();
    return {
      text: t.textContent, x: b.x, y: b.y, width: b.width, height: b.height,
      inside: r.left >= frame.left && r.right <= frame.right
        && r.top >= frame.top && r.bottom <= frame.bottom,
    };
  });
  const out = document.createElement('pre');
  out.id = 'layout';
  out.textContent = JSON.stringify({
    viewBox: [vb.x, vb.y, vb.width, vb.height],
    labels,
    windows: svg.querySelectorAll('rect.outage-window').length,
    text: document.body.innerText,
  });
  document.body.appendChild(out);
})();
</script>"""


def executable() -> str:
    found = next(
        (p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))),
        None,
    )
    if found is None:
        if IN_CI:
            pytest.fail("CI=true: chromium is missing (Debian package chromium)")
        pytest.skip("chromium is not installed")
    return found


def dump_dom(html: Path, tmp_path: Path) -> str:
    res = subprocess.run(
        [
            executable(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}", "--dump-dom", html.as_uri(),
        ],
        capture_output=True, text=True, timeout=90,
        env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def layout(html_text: str, tmp_path: Path, name: str = "report") -> dict[str, Any]:
    """The timeline's labels as laid out: {"viewBox", "labels": [{text, x, y, width,
    height, inside}], "windows": shaded outage windows, "text": the page's visible text}."""
    assert "<script" not in html_text  # the report is script-free; only the copy measures
    page = tmp_path / f"{name}-measured.html"
    page.write_text(html_text.replace("</body>", MEASURE + "</body>"))
    dom = dump_dom(page, tmp_path)
    found = re.search(r'<pre id="layout">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    text = found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return dict(json.loads(text))


def overlaps(labels: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of labels whose boxes intersect (touching edges do not count)."""
    out = []
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            if (
                a["x"] < b["x"] + b["width"]
                and b["x"] < a["x"] + a["width"]
                and a["y"] < b["y"] + b["height"]
                and b["y"] < a["y"] + a["height"]
            ):
                out.append((a["text"], b["text"]))
    return out


def outside(layout_: dict[str, Any]) -> list[str]:
    """Labels whose box leaves the SVG's viewBox, or its box on the page."""
    vx, vy, vw, vh = layout_["viewBox"]
    return [
        label["text"]
        for label in layout_["labels"]
        if label["x"] < vx
        or label["y"] < vy
        or label["x"] + label["width"] > vx + vw
        or label["y"] + label["height"] > vy + vh
        or not label["inside"]
    ]
