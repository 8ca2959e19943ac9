"""The bridge to octoDNS: build an environment's providers from its config.

For a lab environment the lab's addresses and generated secrets are exported
into this process's environment first, so that ``env/...`` values in
config/lab.yaml resolve. Secrets never leave the process: not printed, not
written outside the (git-ignored, mode 0600) lab state.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from octodns.manager import Manager

from dnsops.config import Environment, Project
from dnsops.errors import ConfigError


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
