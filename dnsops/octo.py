"""The bridge to octoDNS: build an environment's providers from its config.

For a lab environment the lab's addresses and generated secrets are exported
into this process's environment first, so that ``env/...`` values in
config/lab.yaml resolve. Secrets never leave the process: not printed, not
written outside the (git-ignored, mode 0600) lab state.

The providers come back as :class:`Target`: each plans exactly as octoDNS's
Manager would for the config, i.e. with the processors the config lists for the
zone (config/production.yaml uses one to leave the apex NS to the providers).
"""

from __future__ import annotations

import copy
import logging
import os
import re
from collections.abc import Callable
from typing import Any

from octodns.manager import Manager
from octodns.zone import Zone

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
    # octoDNS logs a traceback for a missing env/ variable, then raises the
    # message this function reports; keep the traceback off the terminal
    logging.getLogger("EnvironSecrets[env]").setLevel(logging.CRITICAL)
    _quiet_ns1_not_found()
    try:
        return Manager(str(path))
    except Exception as exc:  # octoDNS raises ManagerException, secrets errors, TypeError
        raise ConfigError(f"{path}: {_first_line(exc)}") from None


def targets(project: Project, env: Environment) -> dict[str, Any]:
    """The environment's two providers, by name, in dnsops.yaml order."""
    mgr = manager(project, env)
    processors = Processors(mgr, project.octodns_config(env))
    sources = [mgr.providers[env.source]] if env.source in mgr.providers else []
    out: dict[str, Any] = {}
    for name in env.providers:
        try:
            out[name] = Target(mgr.providers[name], processors, sources)
        except KeyError:
            raise ConfigError(f"{project.octodns_config(env)}: no provider {name!r}") from None
    return out


class Processors:
    """The octoDNS processors the config applies to each zone (global + the zone's own)."""

    def __init__(self, mgr: Manager, path: Any) -> None:
        self._mgr = mgr
        self._path = path
        self._zones: dict[str, Any] | None = None

    def __call__(self, zone_name: str) -> list[Any]:
        if self._zones is None:
            # octoDNS's own expansion of '*' / glob / regex zone entries
            self._zones = self._mgr._preprocess_zones(copy.deepcopy(self._mgr.config["zones"]))
        config = self._zones.get(zone_name)
        if config is None:
            raise ConfigError(f"{self._path}: no zone entry matches {zone_name!r}")
        try:
            return list(self._mgr._get_processors(zone_name, config))
        except Exception as exc:  # ManagerException: unknown processor
            raise ConfigError(f"{self._path}: {_first_line(exc)}") from None


class Target:
    """A provider as the environment's octoDNS config deploys it.

    ``plan`` runs the zone's processors around the provider's own plan the way
    octoDNS's Manager does (``process_source_zone`` on a copy of the desired
    zone, the provider's plan with the processors, then ``process_plan``), so
    dnsops and ``octodns-sync`` agree on what a config changes. Everything else
    (``apply``, ``populate``, ``id``, ``SUPPORTS``...) is the provider's own.

    .. important:: the desired zone passed in is never modified: both providers
       plan from the same zones concurrently.
    """

    def __init__(self, provider: Any, processors: Processors, sources: list[Any]) -> None:
        self.provider = provider
        self._processors = processors
        self._sources = sources

    def __getattr__(self, name: str) -> Any:
        return getattr(self.provider, name)

    def __repr__(self) -> str:
        return f"Target({self.provider.id})"

    def processors(self, zone_name: str) -> list[Any]:
        """The octoDNS processors the config applies to this zone."""
        return self._processors(zone_name)

    def deployed(self, desired: Zone, lenient: bool = False) -> Zone:
        """The zone as this target is asked to hold it: the processors'
        ``process_source_zone`` applied to a copy (``desired`` is never modified)."""
        zone = desired
        processors = self._processors(desired.name)
        if processors:
            zone = desired.copy()
            for processor in processors:
                zone = processor.process_source_zone(zone, sources=self._sources, lenient=lenient)
        return zone

    def held(self, existing: Zone, lenient: bool = True) -> Zone:
        """What the provider holds as octoDNS compares it: the processors'
        ``process_target_zone`` applied to a populated zone (modified in place)."""
        for processor in self._processors(existing.name):
            existing = processor.process_target_zone(
                existing, target=self.provider, lenient=lenient
            )
        return existing

    def plan(self, desired: Zone, lenient: bool = False) -> Any:
        processors = self._processors(desired.name)
        zone = self.deployed(desired, lenient=lenient)
        plan = self.provider.plan(zone, processors=processors, lenient=lenient)
        for processor in processors:
            plan = processor.process_plan(
                plan, sources=self._sources, target=self.provider, lenient=lenient
            )
        return plan


class _Ns1NotFound(logging.Filter):
    """Drop octodns-ns1's error log of an expected 404 ("zone not found").

    octodns-ns1 1.0 means to skip 404s in ``Ns1Client._try`` but tests
    ``not e.response``, and a requests Response with status 404 is falsy: every
    plan of a zone NS1 doesn't have yet would log an ERROR with a traceback.
    Other errors still log (and raise).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        response = args[2] if len(args) > 2 else None
        return getattr(response, "status_code", None) != 404


def _quiet_ns1_not_found() -> None:
    log = logging.getLogger("NS1Client")
    if not any(isinstance(f, _Ns1NotFound) for f in log.filters):
        log.addFilter(_Ns1NotFound())


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
