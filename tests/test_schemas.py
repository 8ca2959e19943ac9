"""schemas/*.schema.json: generated from the pydantic models (no drift), valid JSON Schemas,
named by the repository's own YAML files, and accepting them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from dnsops import schemas
from dnsops.config import load_project
from dnsops.drill.model import load_scenario
from dnsops.findings import Severity, SeverityName
from dnsops.lint.policy import load_policies
from tests.conftest import REPO

MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")
# every YAML file of the repository that has a schema, and the schema it names
FILES = {
    "dnsops.yaml": "dnsops.schema.json",
    **{f"policies/{p.name}": "policy.schema.json" for p in (REPO / "policies").glob("*.yaml")},
    **{f"drills/{p.name}": "drill.schema.json" for p in (REPO / "drills").glob("*.yaml")},
}


def schema(name: str) -> dict[str, Any]:
    doc = json.loads((REPO / "schemas" / name).read_text())
    assert isinstance(doc, dict)
    return doc


def validator(name: str) -> jsonschema.protocols.Validator:
    doc = schema(name)
    cls = jsonschema.validators.validator_for(doc)
    cls.check_schema(doc)
    return cls(doc)


@pytest.mark.parametrize("name", sorted(schemas.SCHEMAS))
def test_committed_schema_is_what_the_models_generate(name: str) -> None:
    committed = (REPO / "schemas" / name).read_text()
    assert committed == schemas.render(name), f"schemas/{name} is stale: run `make schemas`"


def test_schemas_dir_holds_exactly_the_generated_schemas() -> None:
    assert sorted(p.name for p in (REPO / "schemas").iterdir()) == sorted(schemas.SCHEMAS)


def test_check_mode_names_a_stale_schema_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert schemas.main(["--out", str(tmp_path)]) == 0
    assert schemas.main(["--out", str(tmp_path), "--check"]) == 0
    stale = tmp_path / "drill.schema.json"
    stale.write_text("{}\n")
    assert schemas.main(["--out", str(tmp_path), "--check"]) == 1
    assert stale.read_text() == "{}\n"
    assert f"{stale}: differs from the models (run `make schemas`)" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(schemas.SCHEMAS))
def test_every_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    doc = schema(name)
    assert doc["$schema"] == schemas.DRAFT
    jsonschema.Draft202012Validator.check_schema(doc)


def test_the_repositorys_yaml_files_name_their_schema_on_the_first_line() -> None:
    assert len(FILES) >= 5  # dnsops.yaml, a policy, three drills
    for path, name in FILES.items():
        first = (REPO / path).read_text().splitlines()[0]
        match = MODELINE.match(first)
        assert match, f"{path}: no yaml-language-server modeline on line 1"
        target = ((REPO / path).parent / match.group(1)).resolve()
        assert target == (REPO / "schemas" / name).resolve(), path


@pytest.mark.parametrize("path", sorted(FILES))
def test_the_repositorys_yaml_files_validate_against_their_schema(path: str) -> None:
    data = yaml.safe_load((REPO / path).read_text())
    errors = sorted(validator(FILES[path]).iter_errors(data), key=str)
    assert not errors, f"{path}: " + "; ".join(
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors
    )


def test_the_loaders_read_the_files_with_the_modeline() -> None:
    """A modeline is a comment: the safe loader skips it like any other."""
    project = load_project(REPO / "dnsops.yaml")
    assert project.config.default_environment == "lab"
    assert load_policies(REPO / "policies").rules
    for path in (REPO / "drills").glob("*.yaml"):
        lines = path.read_text().splitlines()
        first = next(i for i, line in enumerate(lines, 1) if not line.startswith("#"))
        assert load_scenario(path).line == first  # the mapping starts after the comments


@pytest.mark.parametrize(
    ("name", "document", "where"),
    [
        (
            "dnsops.schema.json",
            {"default_environment": "x", "environments": {}, "lab2": 1},
            "",
        ),  # additionalProperties
        (
            "drill.schema.json",
            {"name": "x", "hypothesis": "h", "steps": [{"kind": "wait", "duration": "soon"}]},
            "steps.0.duration",
        ),
        (
            "policy.schema.json",
            {"rules": [{"id": "r", "kind": "ttl-floor", "severity": "fatal", "message": "m"}]},
            "rules.0.severity",
        ),
        (
            "policy.schema.json",
            {"rules": [{"id": "r", "kind": "nope", "message": "m"}]},
            "rules.0.kind",
        ),
        ("health-policy.schema.json", {"latency_ms": 0}, "latency_ms"),
    ],
)
def test_a_schema_refuses_what_the_model_refuses(
    name: str, document: dict[str, Any], where: str
) -> None:
    leaves = {".".join(map(str, e.absolute_path)) for e in leaf_errors(name, document)}
    assert where in leaves, leaves


def leaf_errors(name: str, document: Any) -> list[jsonschema.ValidationError]:
    """Every error, with a oneOf/anyOf replaced by its branches' errors."""
    todo, leaves = list(validator(name).iter_errors(document)), []
    while todo:
        error = todo.pop()
        if error.context:
            todo += error.context
        else:
            leaves.append(error)
    return leaves


def test_durations_and_severities_are_offered_as_they_are_written() -> None:
    drill = validator("drill.schema.json")
    for duration in (15, 2.5, "15s", "500ms", "2m", "92d"):
        doc = {"name": "x", "hypothesis": "h", "steps": [{"kind": "wait", "duration": duration}]}
        assert not list(drill.iter_errors(doc)), duration
    assert list(SeverityName.__args__) == [s.name.lower() for s in Severity]
