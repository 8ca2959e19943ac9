"""Markdown outputs (plan, lint, health, audit): zone data stays literal text, and every
comment fits GitHub's 65,536-character limit, even with one 70 KB TXT record."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from dnsops.audit.model import Audit, ZoneViews
from dnsops.findings import Finding, Severity
from dnsops.health.model import HealthReport
from dnsops.render import audit as render_audit
from dnsops.render import findings as render_findings
from dnsops.render import health as render_health
from dnsops.render import markdown as md
from dnsops.render import plan as render_plan
from dnsops.sync.model import Change, Snapshot, ZonePlan
from tests.conftest import run
from tests.test_audit_core import ZONE, provider, rr
from tests.test_sync_model import planset, state

HOSTILE = "@octocat [x](http://evil) ![i](http://evil) `tick` ``x`` <img src=x onerror=alert(1)>"
ESCAPED = (
    "&#64;&#8203;octocat &#91;x&#93;(http&#58;//evil) &#33;&#91;i&#93;(http&#58;//evil) "
    "&#96;tick&#96; &#96;&#96;x&#96;&#96; &#60;img src=x onerror=alert(1)&#62;"
)
BIG = "v=" + "x" * 70_000  # a 70 KB TXT value
LIMIT = 65_536


def test_text_escapes_mentions_links_images_html_and_backticks() -> None:
    assert md.text(HOSTILE) == ESCAPED
    assert md.text("www.evil.test #12 a|b *em* _u_ ~s~ $x$ \\") == (
        "www&#46;evil.test &#35;&#8203;12 a&#124;b &#42;em&#42; &#95;u&#95; &#126;s&#126; "
        "&#36;x&#36; &#92;"
    )
    assert md.text("line\nbreak\x07") == "line&#92;x0abreak&#92;x07"
    assert md.cell("two\nlines|x") == "two<br>lines&#124;x"


def test_shorten_and_code_line_say_what_was_left_out() -> None:
    assert md.shorten("abcdef", 4, "see X") == "abcd … [2 more characters: see X]"
    assert md.code_line("a\tb" + "c" * 10, 5, "see X") == "a\\x09 … [11 more characters: see X]"
    assert md.fence(["a ``` b", "````x"]) == "`````"


def test_fit_leaves_a_short_comment_alone() -> None:
    assert md.fit("# short\n", "X") == "# short\n"


def test_fit_cuts_inside_a_line_closes_the_fence_and_details_and_says_so() -> None:
    doc = "\n".join(["<details>", "<summary>s</summary>", "", "````diff", "+ " + "y" * 5000])
    cut = md.fit(doc + "\n````\n\n</details>\n", "`dnsops plan --format json`", limit=2000)
    assert md.size(cut) <= 2000
    lines = cut.split("\n")
    assert lines[:4] == ["<details>", "<summary>s</summary>", "", "````diff"]
    assert re.fullmatch(r"\+ y+…", lines[4])
    assert lines[5:] == [
        "````",
        "",
        "</details>",
        "",
        "> [!NOTE]",
        "> Cut to fit GitHub's 2,000-character comment limit: 4,062 of 5,061 characters "
        "left out, from line 5 (inside it) on. The whole: "
        "`dnsops plan --format json`.",
        "",
    ]


def test_fit_never_ends_inside_a_character_reference() -> None:
    doc = "&#64;&#8203;" * 1000
    cut = md.fit(doc, "X", limit=1500)
    assert cut.split("\n")[0] == "&#64;&#8203;" * 41 + "&#64;…"  # not "&#64;&…"


def test_fit_counts_as_github_does() -> None:
    """A character beyond U+FFFF is two UTF-16 code units: GitHub counts it twice."""
    assert md.size("a😀") == 3
    cut = md.fit("😀" * 40_000, "X")
    assert md.size(cut) <= LIMIT
    assert md.size(cut) - len(cut) == cut.count("😀") > 30_000


# -- each output, with the hostile value and with the 70 KB TXT -----------------------------


def txt_plan(value: str) -> Any:
    change = Change(
        action="create",
        name="t.example.test.",
        type="TXT",
        new=state("t.example.test.", 300, value, rtype="TXT"),
        source="zones/example.test.yaml:14",
    )
    plans = [
        ZonePlan(
            provider=p, zone=ZONE, exists=True, changes=[change], existing=Snapshot(digest="e")
        )
        for p in ("pdns", "bind")
    ]
    return planset(plans)


def finding(value: str) -> Finding:
    return Finding(
        id="txt-size",
        severity=Severity.ERROR,
        subject=f"{value[:20]}.example.test. TXT",
        message=f"value: {value}",
        hint=f"shorten {value[:20]}",
        zone=ZONE,
        file="zones/example.test.yaml",
        line=14,
    )


def health_report(value: str) -> HealthReport:
    return HealthReport(
        env="lab",
        zones=[ZONE],
        findings=[finding(value)],
        nameservers=[],
        vantages=[],
        checks=[],
        queries=1,
        seconds=0.5,
        policy=None,
    )


def audit_result(value: str) -> Audit:
    from dnsops.audit.core import compare

    src = {("t.example.test.", "TXT"): rr("TXT", 60, f'"{value}"')}
    where = {("t.example.test.", "TXT"): ("zones/example.test.yaml", 14)}
    zv = ZoneViews(ZONE, src, (provider("pdns", api={}, source=src),), where)
    return Audit("lab", ("pdns",), [zv], compare(zv), started=0.0, duration=1.0)


def outputs(value: str) -> dict[str, str]:
    return {
        "plan": render_plan.markdown(txt_plan(value)),
        "lint": render_findings.markdown_by_zone([finding(value)], "dnsops lint (lab)"),
        "health": render_health.markdown(health_report(value)),
        "audit": render_audit.markdown(audit_result(value)),
    }


def test_plan_keeps_the_hostile_value_in_its_fence() -> None:
    out = outputs(HOSTILE)["plan"]
    head = (
        "```diff\n# example.test.\n@@ create t.example.test. TXT  (zones/example.test.yaml:14) @@"
    )
    assert head in out
    assert f"\n+ t.example.test. 300 TXT {HOSTILE}\n```\n" in out  # longer than the `` in it
    outside = re.sub(r"```diff\n.*?\n```\n", "", out, flags=re.S)
    assert "octocat" not in outside and "evil" not in outside


def test_findings_outputs_escape_the_hostile_value() -> None:
    rows = {
        "lint": f"| error | txt-size | {md.text(HOSTILE[:20])}.example.test. TXT | "
        f"zones/example.test.yaml:14 | value&#58;"[:-6],
        "health": "| error | txt-size |",
        "audit": "| error | missing | t.example.test. TXT | zones/example.test.yaml:14 |",
    }
    for name, text in outputs(HOSTILE).items():
        if name == "plan":
            continue
        assert rows[name] in text, name
        assert ESCAPED in text, name
        for raw in ("@octocat", "[x]", "![i]", "`tick`", "<img", "http://"):
            assert raw not in text, (name, raw)
    lint = outputs(HOSTILE)["lint"]
    assert (
        "| error | txt-size | &#64;&#8203;octocat &#91;x&#93;(http&#58;//.example.test. TXT | "
        f"zones/example.test.yaml:14 | value: {ESCAPED} (hint: shorten &#64;&#8203;octocat "
        "&#91;x&#93;(http&#58;//) |"
    ) in lint
    assert "#### example.test.\n" in lint


def test_a_70_kb_txt_fits_every_comment_with_a_note() -> None:
    found = outputs(BIG)
    for name, text in found.items():
        assert md.size(text) <= LIMIT, name
        if name != "plan":  # in a table cell: the marker is escaped text too
            assert re.search(r"v=x+ … &#91;[\d,]+ more characters: --format json&#93;", text)
    assert (
        f"+ t.example.test. 300 TXT v={'x' * (md.MAX_PIECE - 28)} … [68,028 more characters: "
        "the whole record: `dnsops plan --format json`]"
    ) in found["plan"]
    assert found["plan"].count("more characters: the whole record") == 2  # both providers
    assert (
        f"| value: v={'x' * 1991} … &#91;68,046 more characters: --format json&#93; |\n"
    ) in found["lint"]


def test_many_70_kb_records_are_cut_with_the_note() -> None:
    """Past the per-line limit: 40 huge records still make one comment under the limit."""
    findings = [finding(f"{i:02d}" + BIG) for i in range(40)]
    text = render_findings.markdown_by_zone(findings, "dnsops lint (lab)")
    assert md.size(text) <= LIMIT
    assert text.endswith(
        " characters left out, from line 37 (inside it) on. The whole: "
        "`dnsops lint --format json`.\n"
    )
    plan = render_plan.markdown(planset_of_many())
    assert md.size(plan) <= LIMIT
    assert "\n# … 61 more line(s): run `dnsops plan` for all\n" in plan


def planset_of_many() -> Any:
    changes = [
        Change(
            action="create",
            name=f"t{i}.example.test.",
            type="TXT",
            new=state(f"t{i}.example.test.", 300, BIG, rtype="TXT"),
        )
        for i in range(40)
    ]
    plans = [
        ZonePlan(provider=p, zone=ZONE, exists=True, changes=changes, existing=Snapshot(digest="e"))
        for p in ("pdns", "bind")
    ]
    return planset(plans)


# -- through the CLI: lint of a zone with the hostile value and with a 70 KB TXT --------------


def test_lint_markdown_of_a_zone_with_hostile_and_huge_values(
    cli: CliRunner, project_dir: Path
) -> None:
    zone = project_dir / "zones" / "example.test.yaml"
    text = zone.read_text()
    hostile = HOSTILE.replace("'", "''")
    extra = (
        f"big:\n  ttl: 60\n  type: TXT\n  value: {BIG}\n"
        f"evil:\n  ttl: 60\n  type: TXT\n  value: '{hostile}'\n"
    )
    # records sorted by name: append where octoDNS's order check wants them
    zone.write_text(_insert_sorted(text, extra))
    policy = project_dir / "policies" / "default.yaml"
    rule = (
        "  - id: txt-shown\n    kind: forbid\n    severity: error\n"
        "    message: '{fqdn} holds {values}'\n    match: {type: TXT, name: [big, evil]}\n"
    )
    policy.write_text(policy.read_text().replace("  # -- forbid --", rule + "  # -- forbid --"))
    result: Any = run(cli, project_dir, "lint", "--format", "markdown")
    assert result.exit_code == 1
    out = result.stdout
    assert md.size(out) <= LIMIT
    assert (
        "| error | txt-shown | big.example.test. TXT | zones/example.test.yaml:72 | "
        f"big.example.test. holds v={'x' * 1974} … &#91;68,026 more characters: "
        "--format json&#93; |\n"
    ) in out
    assert (
        "| error | txt-shown | evil.example.test. TXT | zones/example.test.yaml:77 | "
        f"evil.example.test. holds {ESCAPED} |\n"
    ) in out
    for raw in ("@octocat", "[x]", "![i]", "`tick`", "<img", "http://"):
        assert raw not in out, raw


def _insert_sorted(text: str, extra: str) -> str:
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if re.match(r"^[a-z]", line) and line[:-1] > "big")
    return "\n".join(lines[:at]) + "\n" + extra.split("evil:")[0] + _rest(lines[at:], extra)


def _rest(lines: list[str], extra: str) -> str:
    evil = "evil:" + extra.split("evil:")[1]
    at = next(
        (i for i, line in enumerate(lines) if re.match(r"^[a-z]", line) and line[:-1] > "evil"),
        len(lines),
    )
    return "\n".join(lines[:at]) + "\n" + evil + "\n".join(lines[at:])
