"""JSON Schemas of dnsops's own YAML files, generated from the pydantic models that load them.

``python -m dnsops.schemas`` (or ``make schemas``) writes ``schemas/*.schema.json``;
``--check`` writes nothing and exits 1 naming each file that differs from what the models
give. The YAML files point editors at them with a modeline comment (a comment: the loader
ignores it)::

    # yaml-language-server: $schema=../schemas/drill.schema.json

The models stay the authority: a file the schema accepts can still be refused by a
cross-file check (a drill naming an unknown environment, a duplicate rule id). Lint
policies are validated rule by rule by ``kind`` at load time (for error locations); the
schema states the same thing as one discriminated union.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"


def _config() -> type[BaseModel]:
    from dnsops.config import Config

    return Config


def _policy() -> type[BaseModel]:
    from dnsops.lint.policy import AnyRule, CdnOrigin, PolicyFile

    class LintPolicy(PolicyFile):
        """A lint policy file (policies/*.yaml): rules, each validated by its kind, and the
        CDN-fronted records."""

        rules: list[Annotated[AnyRule, Field(discriminator="kind")]] = Field(  # type: ignore[assignment]
            default_factory=list
        )
        cdn: list[CdnOrigin] = Field(default_factory=list)

    return LintPolicy


def _drill() -> type[BaseModel]:
    from dnsops.drill.model import Scenario

    return Scenario


def _health_policy() -> type[BaseModel]:
    from dnsops.health.policy import HealthPolicy

    return HealthPolicy


# file name -> (title, where such files live, the root model)
SCHEMAS: dict[str, tuple[str, str, Callable[[], type[BaseModel]]]] = {
    "dnsops.schema.json": ("dnsops.yaml", "dnsops.yaml", _config),
    "policy.schema.json": ("dnsops lint policy", "policies/*.yaml", _policy),
    "drill.schema.json": ("dnsops drill scenario", "drills/*.yaml", _drill),
    "health-policy.schema.json": (
        "dnsops health policy",
        "policies/health/policy.yaml",
        _health_policy,
    ),
}


def generate(name: str) -> dict[str, Any]:
    """The schema ``schemas/NAME``: the root model's validation schema, with a title."""
    title, files, model = SCHEMAS[name]
    schema = model().model_json_schema(mode="validation")
    description = schema.pop("description", None)
    head: dict[str, Any] = {
        "$schema": DRAFT,
        "title": title,
        "description": (f"{description.strip()}\n\n" if description else "")
        + f"Generated from the pydantic models by `python -m dnsops.schemas` ({files}).",
    }
    schema.pop("title", None)
    return {**head, **schema}


def render(name: str) -> str:
    return json.dumps(generate(name), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dnsops.schemas", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 on drift")
    parser.add_argument("--out", type=Path, default=SCHEMAS_DIR, help="default: schemas/")
    args = parser.parse_args(argv)
    stale = []
    for name in SCHEMAS:
        path = args.out / name
        text = render(name)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)
    if args.check and stale:
        for path in stale:
            print(f"{path}: differs from the models (run `make schemas`)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
