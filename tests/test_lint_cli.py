"""`dnsops lint` as users and CI call it: formats, exit codes, suppressions, validation."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dnsops.cli.app import app
from tests.conftest import run
from tests.lintkit import write_zone

ZONE = """\
    '':
      - ttl: 86400
        type: CAA
        values:
          - flags: 0
            tag: issue
            value: letsencrypt.org
          - flags: 0
            tag: issuewild
            value: ;
      - ttl: 86400
        type: NS
        values:
          - ns1.bind.test.
          - ns1.pdns.test.
    db:
      ttl: 3600
      type: A
      value: 10.0.0.5
    legacy:
      octodns:
        dnsops:
          ignore:
            ttl-band: pinned by a partner's resolver config until 2027
      ttl: 86400
      type: A
      value: 192.0.2.9
    www:
      ttl: 20
      type: CNAME
      value: lint.test.
"""
WWW_BAND = "stable record has TTL 20s, outside its band 300-14400s (target 3600s)"


def test_help(cli: CliRunner) -> None:
    result = cli.invoke(__import__("dnsops.cli.app", fromlist=["app"]).app, ["lint", "--help"])
    assert result.exit_code == 0
    for word in ("--env", "--zone", "--format", "--online", "ttl-band", "ignore"):
        assert word in result.stdout


def test_example_zone_lints_clean(cli: CliRunner, project_dir: Path) -> None:
    """The repo's own zones/ against the repo's own policies/: nothing to say."""
    result = run(cli, project_dir, "lint", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["zones"] == ["example.test."]
    assert doc["findings"] == []
    assert doc["suppressed"] == []
    assert doc["failed"] is False
    text = run(cli, project_dir, "lint")
    assert text.exit_code == 0
    assert "1 zone(s): no findings" in text.stderr


def test_json_is_one_document(cli: CliRunner, project_dir: Path) -> None:
    write_zone(project_dir, ZONE)
    result = run(cli, project_dir, "lint", "--format", "json")
    assert result.exit_code == 1  # no-private-addresses is an error
    doc = json.loads(result.stdout)
    assert doc["environment"] == "lab"
    assert doc["online"] is False
    assert doc["counts"] == {"critical": 0, "error": 1, "warning": 2, "notice": 0, "info": 0}
    assert [(f["id"], f["record"], f["rtype"], f["file"], f["line"]) for f in doc["findings"]] == [
        ("no-private-addresses", "db.lint.test.", "A", "zones/lint.test.yaml", 17),
        ("ttl-band", "www.lint.test.", "CNAME", "zones/lint.test.yaml", 29),
        ("ttl-floor", "www.lint.test.", "CNAME", "zones/lint.test.yaml", 29),
    ]
    first = doc["findings"][0]
    assert first["severity"] == "error"
    assert first["zone"] == "lint.test."
    assert first["message"] == "private, loopback or link-local address in a public zone: 10.0.0.5"
    assert first["hint"].startswith("internal addresses belong in an internal zone")
    assert doc["suppressed"] == [
        {
            "id": "ttl-band",
            "severity": "warning",
            "subject": "legacy.lint.test. A",
            "message": "stable record has TTL 86400s, outside its band 300-14400s (target 3600s)",
            "zone": "lint.test.",
            "file": "zones/lint.test.yaml",
            "line": 21,
            "hint": "set ttl: 3600, or declare another class: octodns: {dnsops: {class: ...}}",
            "data": {"class": "stable", "ttl": 86400, "min": 300, "max": 14400},
            "record": "legacy.lint.test.",
            "rtype": "A",
            "suppressed": "pinned by a partner's resolver config until 2027",
        }
    ]


def test_github_annotations(cli: CliRunner, project_dir: Path) -> None:
    write_zone(project_dir, ZONE)
    result = run(cli, project_dir, "lint", "--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "::error file=zones/lint.test.yaml,line=17,title=no-private-addresses%3A db.lint.test. A"
        "::private, loopback or link-local address in a public zone: 10.0.0.5 (hint: internal "
        "addresses belong in an internal zone (*.internal., *.corp., *.lan.))"
    )
    assert lines[1].startswith(
        "::warning file=zones/lint.test.yaml,line=29,title=ttl-band%3A www.lint.test. CNAME::"
        + WWW_BAND
    )
    assert lines[2].startswith("::warning file=zones/lint.test.yaml,line=29,title=ttl-floor")
    # suppressions are shown too, as notices with their reason
    assert lines[3].startswith(
        "::notice file=zones/lint.test.yaml,line=21,title=ttl-band%3A legacy.lint.test. A::"
        "suppressed (pinned by a partner's resolver config until 2027): stable record"
    )
    assert len(lines) == 4
    assert "1 error, 2 warning; 1 suppressed" in result.stderr


def test_markdown_for_a_pr_comment(cli: CliRunner, project_dir: Path) -> None:
    write_zone(project_dir, ZONE)
    result = run(cli, project_dir, "lint", "--format", "markdown")
    assert result.exit_code == 1
    md = result.stdout
    assert md.startswith("### dnsops lint (lab)\n\n1 zone(s): 1 error, 2 warning; 1 suppressed\n")
    assert "#### lint.test.\n" in md
    assert (
        "| error | no-private-addresses | db.lint.test. A | zones/lint.test.yaml:17 | "
        "private, loopback or link-local address in a public zone: 10.0.0.5 (hint: "
    ) in md
    assert "#### Suppressed (1)" in md
    assert (
        "| ttl-band | legacy.lint.test. A | zones/lint.test.yaml:21 | "
        "pinned by a partner's resolver config until 2027 |"
    ) in md


def test_text_tables_grouped_by_zone(cli: CliRunner, project_dir: Path) -> None:
    write_zone(project_dir, ZONE)
    (project_dir / "zones" / "other.test.yaml").write_text(
        "---\nwww:\n  ttl: 5\n  type: A\n  value: 192.0.2.1\n"
    )
    result = run(cli, project_dir, "lint", "--env", "lab")
    assert result.exit_code == 1
    out = result.stdout
    assert out.index("dnsops lint (lab) — lint.test.") < out.index(
        "dnsops lint (lab) — other.test."
    )
    assert "suppressed (with their reasons)" in out
    assert "2 zone(s):" in result.stderr


def test_zone_option(cli: CliRunner, project_dir: Path) -> None:
    write_zone(project_dir, ZONE)
    (project_dir / "zones" / "other.test.yaml").write_text(
        "---\nwww:\n  ttl: 3600\n  type: A\n  value: 192.0.2.1\n"
    )
    result = run(cli, project_dir, "lint", "--zone", "other.test", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["zones"] == ["other.test."]
    assert {f["zone"] for f in doc["findings"]} == {"other.test."}
    missing = run(cli, project_dir, "lint", "--zone", "nope.test.")
    assert missing.exit_code == 1
    assert "no zone 'nope.test.'" in missing.stderr
    assert "Traceback" not in missing.output


def test_warnings_only_exit_zero(cli: CliRunner, project_dir: Path) -> None:
    write_zone(project_dir, ZONE.replace("10.0.0.5", "192.0.2.5"))
    result = run(cli, project_dir, "lint", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["counts"]["warning"] == 2


def test_suppression_needs_a_reason_and_a_rule(cli: CliRunner, project_dir: Path) -> None:
    write_zone(
        project_dir,
        """\
    '':
      ttl: 86400
      type: NS
      values:
        - ns1.bind.test.
        - ns1.pdns.test.
    a:
      octodns:
        dnsops:
          ignore:
            ttl-band: ''
      ttl: 5
      type: A
      value: 192.0.2.1
    b:
      octodns:
        dnsops:
          ignore:
            no-such-rule: because
      ttl: 3600
      type: A
      value: 192.0.2.2
    c:
      octodns:
        dnsops:
          ignore:
            ttl-floor: it used to be short
      ttl: 3600
      type: A
      value: 192.0.2.3
    """,
    )
    result = run(cli, project_dir, "lint", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    got = [(f["id"], f["severity"], f["subject"], f["line"], f["message"]) for f in doc["findings"]]
    assert got == [
        (
            "caa-at-apex",
            "warning",
            "lint.test. CAA",
            2,
            "no CAA record at the apex of lint.test.: any CA may issue certificates for it",
        ),
        # an ignore without a reason suppresses nothing and is itself an error
        ("suppression", "error", "a.lint.test. A", 8, "suppression of 'ttl-band' has no reason"),
        ("ttl-band", "warning", "a.lint.test. A", 8, WWW_BAND.replace("20s", "5s")),
        ("ttl-floor", "warning", "a.lint.test. A", 8, "TTL 5s is under the floor of 30s"),
        (
            "suppression",
            "warning",
            "b.lint.test. A",
            16,
            "suppression of 'no-such-rule': no such rule (or not suppressible)",
        ),
        (
            "suppression",
            "notice",
            "c.lint.test. A",
            24,
            "suppression of 'ttl-floor' silences nothing here",
        ),
    ]
    assert doc["suppressed"] == []


def test_zone_level_finding_suppressed_at_apex(cli: CliRunner, project_dir: Path) -> None:
    write_zone(
        project_dir,
        """\
    '':
      octodns:
        dnsops:
          ignore:
            caa-at-apex: certificates come from a private CA pinned elsewhere
      ttl: 86400
      type: NS
      values:
        - ns1.bind.test.
        - ns1.pdns.test.
    """,
    )
    result = run(cli, project_dir, "lint", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["findings"] == []
    assert [(f["id"], f["subject"], f["suppressed"]) for f in doc["suppressed"]] == [
        ("caa-at-apex", "lint.test. CAA", "certificates come from a private CA pinned elsewhere")
    ]


def test_invalid_zone_gives_validation_findings(cli: CliRunner, project_dir: Path) -> None:
    write_zone(
        project_dir,
        """\
    api:
      ttl: 60
      type: A
      value: not-an-address
    mx:
      ttl: 3600
      type: MX
      value:
        preference: 10
    """,
    )
    result = run(cli, project_dir, "lint", "--format", "json")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    doc = json.loads(result.stdout)
    got = [(f["id"], f["file"], f["line"]) for f in doc["findings"]]
    assert got == [
        ("octodns-validation", "zones/lint.test.yaml", 2),
        ("octodns-validation", "zones/lint.test.yaml", 6),
    ]
    messages = [f["message"] for f in doc["findings"]]
    assert messages == [
        'api (A): invalid IPv4 address "not-an-address", via: ip-value-rfc',
        "mx (MX): missing exchange, via: mx-value",
    ]
    text = run(cli, project_dir, "lint")
    assert text.exit_code == 1
    assert "octodns-validation" in text.stdout


def test_yaml_error_in_zone(cli: CliRunner, project_dir: Path) -> None:
    write_zone(project_dir, "www:\n  ttl: 3600\n   type: A\n")
    result = run(cli, project_dir, "lint", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.startswith("::error file=zones/lint.test.yaml,line=3,")
    assert "Traceback" not in result.output


def test_sixty_findings_at_80_columns_piped(cli: CliRunner, project_dir: Path) -> None:
    """Each finding reads as a short paragraph: no table squeezed to "…" or to a word
    per line, at most three lines a finding (a rule's hint shown once)."""
    zone = project_dir / "zones" / "many.test.yaml"
    zone.write_text(
        "".join(f"h{i:02d}:\n  ttl: 7\n  type: A\n  value: 192.0.2.{i + 1}\n" for i in range(30))
    )
    args = ["--config", str(project_dir / "dnsops.yaml"), "lint", "--zone", "many.test."]
    doc = json.loads(cli.invoke(app, [*args, "--format", "json"]).stdout)
    assert len(doc["findings"]) >= 60
    result = cli.invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) <= 3 * len(doc["findings"])
    assert "…" not in result.stdout
    first = lines.index("warning  zones/many.test.yaml:2  ttl-band  h00.many.test. A")
    assert lines[first + 1] == (
        "    stable record has TTL 7s, outside its band 300-14400s (target 3600s)"
    )
    assert lines[first + 2].startswith("    hint: set ttl: 3600")
    later = lines.index("warning  zones/many.test.yaml:6  ttl-band  h01.many.test. A")
    assert not lines[later + 2].startswith("    hint:")  # the same hint, not repeated
