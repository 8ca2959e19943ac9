"""README.md and docs/: the README stays short and links every page; each command has a page
whose options are the command's own; the generated tables equal what the code renders; every
exit code the code uses is in the one table; no link points nowhere."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from dnsops import docs
from dnsops.cli.app import COMMANDS, app, load
from dnsops.render.health import catalogue_markdown
from tests.conftest import REPO

DOCS = REPO / "docs"
PAGES = [
    "production.md",
    "lab.md",
    "architecture.md",
    "benchmarks.md",
    "health-checks.md",
    "exit-codes.md",
    "configuration.md",
    "integrations.md",
    "workflows.md",
    "commands/README.md",
]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
OPTION_ROW = re.compile(r"^\|\s*(`-[^|]*)\|")


def markdown_files() -> list[Path]:
    return [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
    return {slug(m) for m in re.findall(r"^#+\s+(.*)$", text, flags=re.MULTILINE)}


# -- the README ---------------------------------------------------------------------------


def test_the_readme_is_short() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 200, len(lines)


def test_the_readme_gives_the_test_command_ci_runs() -> None:
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci.splitlines()
    assert "make test" in readme and "make demo" in readme and "make setup" in readme


def test_the_readme_has_a_row_per_command_and_links_every_page() -> None:
    readme = (REPO / "README.md").read_text()
    for name in COMMANDS:
        assert f"| [`dnsops {name}`](docs/commands/{name}.md) |" in readme, name
    for page in PAGES:
        assert f"(docs/{page}" in readme, page


# -- the pages ------------------------------------------------------------------------------


def test_every_page_exists_and_every_command_has_one() -> None:
    for page in PAGES:
        assert (DOCS / page).is_file(), page
    assert sorted(p.stem for p in (DOCS / "commands").glob("*.md") if p.stem != "README") == (
        sorted(COMMANDS)
    )


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_page_has_options_exit_codes_and_json(name: str) -> None:
    text = (DOCS / "commands" / f"{name}.md").read_text()
    assert text.startswith(f"# dnsops {name}\n")
    headings = re.findall(r"^## (.*)$", text, flags=re.MULTILINE)
    assert any("options" in h.lower() for h in headings), headings
    assert "Exit codes" in headings and "JSON output" in headings, headings
    assert "(../exit-codes.md)" in text


def options_of(command: Any) -> set[str]:
    """Every long option of a click command (and of its subcommands), --help aside."""
    found: set[str] = set()
    for sub in getattr(command, "commands", {}).values():
        found |= options_of(sub)
    for param in command.params:
        if getattr(param, "param_type_name", "") == "option":
            names = [*param.opts, *getattr(param, "secondary_opts", [])]
            found |= {n for n in names if n.startswith("--")}
    return found - {"--help"}


def documented_options(text: str) -> set[str]:
    """The long options in the first cell of the page's option tables."""
    out: set[str] = set()
    for line in text.splitlines():
        match = OPTION_ROW.match(line)
        if match:
            out |= set(re.findall(r"--[a-z][a-z0-9-]*", match.group(1)))
    return out


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_page_lists_exactly_the_commands_options(name: str) -> None:
    text = (DOCS / "commands" / f"{name}.md").read_text()
    assert documented_options(text) == options_of(load(name)), (
        f"docs/commands/{name}.md: the options table differs from `dnsops {name} --help`"
    )


def test_the_command_index_lists_the_global_options() -> None:
    import typer

    text = (DOCS / "commands" / "README.md").read_text()
    group = typer.main.get_command(app)
    top = type("Top", (), {"params": group.params})()
    assert documented_options(text) - {"--help"} == options_of(top)


def test_every_relative_link_and_anchor_resolves() -> None:
    broken = []
    for path in markdown_files():
        text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            file_part, _, anchor = target.partition("#")
            dest = (path.parent / file_part).resolve() if file_part else path
            if not dest.exists():
                broken.append(f"{path.relative_to(REPO)}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{path.relative_to(REPO)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


# -- generated tables ------------------------------------------------------------------------


def test_the_health_checks_page_holds_the_catalogue() -> None:
    text = (DOCS / "health-checks.md").read_text()
    assert docs.block(text, "health-checks") == catalogue_markdown(), (
        "docs/health-checks.md differs from dnsops.health.checks.CATALOGUE: run `make docs`"
    )


def test_the_catalogue_table_has_a_row_per_check() -> None:
    from dnsops.health.checks import CATALOGUE

    rows = catalogue_markdown().splitlines()[2:]
    assert [r.split("|")[1].strip() for r in rows] == [f"`{c}`" for c in CATALOGUE]


def test_docs_check_mode_names_a_stale_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert docs.main(["--check"]) == 0
    page = tmp_path / "health-checks.md"
    stale = (DOCS / "health-checks.md").read_text().replace("`ns-udp`", "`ns-udpp`")
    page.write_text(stale)
    assert docs.main(["--check", "--docs", str(tmp_path)]) == 1
    assert page.read_text() == stale
    assert "block 'health-checks' differs from the code" in capsys.readouterr().err
    assert docs.main(["--docs", str(tmp_path)]) == 0
    assert page.read_text() == (DOCS / "health-checks.md").read_text()


# -- exit codes ------------------------------------------------------------------------------


def exit_code_table() -> set[int]:
    text = (DOCS / "exit-codes.md").read_text()
    first = text.split("\n\n| code |", 1)[1].split("\n\n", 1)[0]
    return {int(m) for m in re.findall(r"^\| (\d+) \|", first, flags=re.MULTILINE)}


def codes_in_the_code() -> set[int]:
    """Literal exit codes dnsops raises: typer.Exit(N), fail(..., code=N), exit_code = N."""
    found: set[int] = set()
    patterns = [
        r"typer\.Exit\((?:code=)?(\d+)\)",
        r"\bcode=(\d+)\)",
        r"\bexit_code\s*=\s*(\d+)",
        r"SystemExit\((\d+)\)",
    ]
    for path in (REPO / "dnsops").rglob("*.py"):
        text = path.read_text()
        for pattern in patterns:
            found |= {int(n) for n in re.findall(pattern, text)}
    return found


def test_the_exit_code_table_has_every_code_the_cli_uses() -> None:
    table = exit_code_table()
    assert {0, 1, 2, 64} <= table
    used = codes_in_the_code()
    assert {1, 2, 130} <= used  # the scan finds what it should
    assert used <= table, f"not documented: {sorted(used - table)}"
