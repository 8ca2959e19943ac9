"""The variables config/lab.yaml reads (``env/...``): the lab's addresses and secrets.

Read without the lab's runner (its servers, the probe engine and asyncio behind it):
every command on the lab environment needs them, a plan or a lint too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dnsops.config import Project
from dnsops.errors import LabError


@dataclass(frozen=True)
class Secrets:
    """Generated per lab; kept in the state directory (mode 0600), never printed."""

    pdns_api_key: str
    tsig_name: str
    tsig_secret: str


def secrets_path(project: Project) -> Path:
    return project.state_dir / "lab" / "secrets.json"


def read_secrets(project: Project) -> Secrets | None:
    """The lab's generated secrets (API key, TSIG key); None before the first ``up``."""
    try:
        data: Any = json.loads(secrets_path(project).read_text())
    except FileNotFoundError:
        return None
    return Secrets(**data)


def lab_environ(project: Project) -> dict[str, str]:
    """Variables config/lab.yaml reads (``env/...``): addresses and secrets."""
    sec = read_secrets(project)
    if sec is None:
        raise LabError(
            f"the lab has no secrets yet ({secrets_path(project)} is missing)",
            hint="run `dnsops lab up`",
        )
    out = {
        "DNSOPS_LAB_TSIG_KEY_NAME": sec.tsig_name,
        "DNSOPS_LAB_TSIG_SECRET": sec.tsig_secret,
        "DNSOPS_LAB_PDNS_API_KEY": sec.pdns_api_key,
    }
    for prov in project.lab.providers.values():
        if prov.kind == "powerdns":
            out["DNSOPS_LAB_PDNS_HOST"] = prov.addresses[0]
            out["DNSOPS_LAB_PDNS_PORT"] = str(prov.api_port)
        else:
            out["DNSOPS_LAB_BIND_HOST"] = prov.addresses[0]
    return out
