"""The bridge to octoDNS: build an environment's providers from its config.

For a lab environment the lab's addresses and generated secrets are exported
into this process's environment first, so that ``env/...`` values in
config/lab.yaml resolve. Secrets never leave the process: not printed, not
written outside the (git-ignored, mode 0600) lab state.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import Any

from octodns.manager import Manager

from dnsops.config import Environment, Project
from dnsops.errors import ConfigError
from dnsops.zones import octodns_config


def export_lab_environ(project: Project, env: Environment) -> None:
    if not env.lab:
        return
    from dnsops.lab.runner import LabRunner  # the lab is optional for other environments

    os.environ.update(LabRunner(project).environ())


def manager(project: Project, env: Environment) -> Manager:
    """octoDNS's Manager for the environment's config (providers instantiated).

    :raises ConfigError: the config is invalid or a secret is missing; the
        message names the variable, never a value.
    """
    export_lab_environ(project, env)
    path = project.octodns_config(env)
    logging.getLogger("Manager").setLevel(logging.WARNING)
    try:
        return Manager(str(path))
    except Exception as exc:  # octoDNS raises ManagerException, secrets errors, TypeError
        raise ConfigError(f"{path}: {_first_line(exc)}") from None


def targets(project: Project, env: Environment) -> dict[str, Any]:
    """The environment's two providers, by name, in dnsops.yaml order."""
    mgr = manager(project, env)
    out = {}
    for name in env.providers:
        try:
            out[name] = mgr.providers[name]
        except KeyError:
            raise ConfigError(f"{project.octodns_config(env)}: no provider {name!r}") from None
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSW|CREDENTIAL", re.IGNORECASE)


def secret_values(project: Project, env: Environment) -> list[str]:
    """The values of every secret the environment's octoDNS config reads (``env/NAME``
    with a secret-like NAME), as exported now. Used to scrub provider error messages."""
    export_lab_environ(project, env)
    names: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and value.startswith("env/"):
            name = value.split("/")[1]
            if _SECRET_NAME.search(name):
                names.add(name)

    walk(octodns_config(project, env).get("providers", {}))
    values = {os.environ.get(n, "") for n in names}
    return sorted((v for v in values if len(v) >= 6), key=len, reverse=True)


def redactor(secrets: list[str]) -> Callable[[str], str]:
    """A function that replaces every secret in a text by ``***``."""

    def redact(text: str) -> str:
        for value in secrets:
            text = text.replace(value, "***")
        return text

    return redact
