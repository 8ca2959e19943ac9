"""``--changed-since REF``: the zones a change touches, from git.

A pull request that edits one zone file of a 1,000-zone repository should cost one
zone in CI. What changed is what ``git diff`` reports between the merge base of
``REF`` and ``HEAD`` and the working tree (so uncommitted edits count), plus untracked
files. The mapping to zones is conservative: a change dnsops cannot pin on zones
(dnsops.yaml, the octoDNS config, a policy, a file in the zones directory that is no
zone's own, such as an ``!include``d fragment) selects every zone.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from dnsops.errors import ConfigError

GIT_DEADLINE = 30.0  # seconds for each git command


@dataclass
class Changed:
    """What ``--changed-since`` selects: some zones, or all of them (and why)."""

    ref: str
    zones: list[str] = field(default_factory=list)
    everything: str | None = None  # the file that makes every zone count, if any
    files: list[str] = field(default_factory=list)  # every changed path, repo-relative

    def describe(self) -> str:
        if self.everything is not None:
            return f"{self.everything} changed since {self.ref}: every zone"
        if not self.zones:
            return f"no zone file changed since {self.ref}"
        return (
            f"{len(self.zones)} zone(s) changed since {self.ref}: {', '.join(self.zones[:5])}"
            + (f" and {len(self.zones) - 5} more" if len(self.zones) > 5 else "")
        )


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=GIT_DEADLINE,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except FileNotFoundError:
        raise ConfigError("--changed-since needs git, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"--changed-since: `git {' '.join(args)}` took over {GIT_DEADLINE:g} s"
        ) from None
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["failed"])[0]
        raise ConfigError(f"--changed-since: git {args[0]}: {first}")
    return proc.stdout


def changed_files(root: Path, ref: str) -> tuple[Path, list[str]]:
    """The repository's top directory and the paths (relative to it) that differ
    between the merge base of ``ref`` and ``HEAD`` and the working tree, untracked
    files included.

    :raises ConfigError: not a git repository, an unknown ``ref``, git missing or stuck.
    """
    if ref.startswith("-"):
        raise ConfigError(f"--changed-since: {ref!r} is not a git revision")
    top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except ConfigError:
        raise ConfigError(
            f"--changed-since: {ref!r} is no commit of {top} (in CI, fetch it first: "
            "actions/checkout with fetch-depth: 0, or git fetch origin main)"
        ) from None
    base = _git(root, "merge-base", ref, "HEAD").strip()
    diff = _git(root, "diff", "--name-only", "-z", "--no-renames", base, "--")
    untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard")
    paths = {p for p in (diff + untracked).split("\0") if p}
    return top, sorted(paths)


def select(
    root: Path,
    ref: str,
    zones_dir: Path,
    zone_names: list[str],
    whole: list[Path],
) -> Changed:
    """The zones changed since ``ref``.

    :param zones_dir: where the zone files are (``<zone>.yaml``).
    :param zone_names: the zones of the source.
    :param whole: files or directories whose change selects every zone (dnsops.yaml,
        the octoDNS config, the policies).
    """
    top, files = changed_files(root, ref)
    result = Changed(ref=ref, files=files)
    zones_dir = zones_dir.resolve()
    whole = [w.resolve() for w in whole]
    names = set(zone_names)
    picked: set[str] = set()
    for rel in files:
        path = (top / rel).resolve()
        if any(path == w or w in path.parents for w in whole):
            result.everything = rel
            break
        if zones_dir not in path.parents:
            continue
        if path.parent == zones_dir and path.name.endswith(".yaml"):
            zone = path.name.removesuffix(".yaml") + "."
            if zone in names:
                picked.add(zone)
                continue
            if not path.exists():  # a zone file deleted: nothing left to lint or plan
                continue
        result.everything = rel  # a fragment some zone may !include
        break
    result.zones = [] if result.everything else [z for z in zone_names if z in picked]
    return result
