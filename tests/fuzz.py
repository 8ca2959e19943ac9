"""A bounded fuzzer of zone files: mutations of zones/example.test.yaml through `validate`.

Each mutation (byte flips, truncation, duplicated lines, inserted aliases and alias
bombs, deep nesting, bytes that are not UTF-8, control characters, and a few of them
combined) is written over the zone of a project copy and validated in-process. Each
must end cleanly: exit 0 (valid), or exit 1 with a message naming the zone file and a
line, never a traceback, never more than :data:`DEADLINE` seconds; and a document with
a key given twice in one mapping must never be accepted.

The suite runs a fixed seed (tests/test_hostile_input.py); ``make fuzz`` a random one:

    python -m tests.fuzz --count 1000 [--seed N]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from tests.conftest import REPO, make_project, run

ZONE = "zones/example.test.yaml"
BASE = (REPO / ZONE).read_bytes()
DEADLINE = 20.0  # seconds a single validate may take
LOCATED = re.compile(re.escape(ZONE) + r":\d+")
# what a zone lacks has no line: the one whole-zone finding that names only the file
ABSENT = re.compile(re.escape(ZONE) + r": no apex NS record")
NOT_UTF8 = (b"\xff", b"\xfe", b"\xc3\x28", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90")


@dataclass
class Mutation:
    index: int
    kinds: list[str]
    data: bytes


@dataclass
class Outcome:
    mutation: Mutation
    exit_code: int
    seconds: float
    output: str
    problem: str | None  # why this outcome is not clean (None: clean)
    duplicate: bool  # the document has a key twice in one mapping


@dataclass
class Report:
    seed: int
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.problem]

    def summary(self) -> str:
        n = len(self.outcomes)
        valid = sum(1 for o in self.outcomes if o.exit_code == 0)
        times = [o.seconds for o in self.outcomes]
        kinds = Counter(k for o in self.outcomes for k in set(o.mutation.kinds))
        errors = Counter(_category(o.output) for o in self.outcomes if o.exit_code == 1)
        dups = [o for o in self.outcomes if o.duplicate]
        lines = [
            f"seed {self.seed}: {n} mutations, {valid} valid, {n - valid} errors, "
            f"{len(self.failures)} not clean",
            f"time per run: median {statistics.median(times):.3f} s, "
            f"max {max(times):.2f} s, over {DEADLINE:.0f} s: "
            f"{sum(1 for t in times if t > DEADLINE)}",
            f"documents with a duplicate key: {len(dups)}, accepted: "
            f"{sum(1 for o in dups if o.exit_code == 0)}",
            "errors naming the file without a line (no apex NS: an absence): "
            f"{sum(1 for o in self.outcomes if o.exit_code == 1 and not LOCATED.search(o.output))}",
            "mutations: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())),
            "errors: " + ", ".join(f"{k} {v}" for k, v in errors.most_common()),
        ]
        for o in self.failures[:10]:
            lines.append(f"NOT CLEAN #{o.mutation.index} {o.mutation.kinds}: {o.problem}")
        return "\n".join(lines)


def _category(output: str) -> str:
    """The kind of the first problem reported (for the summary)."""
    text = " ".join(output.split())
    for key in (
        "not UTF-8",
        "control character",
        "nested deeper",
        "duplicate key",
        "recursive alias",
        "alias bomb",
        "keys out of order",
        "invalid YAML",
        "!include",
    ):
        if key in text:
            return key
    return "record or zone check"


# -- mutations --------------------------------------------------------------------


def _flip(data: bytes, rng: random.Random) -> bytes:
    pos = rng.randrange(len(data))
    new = data[pos] ^ (1 << rng.randrange(8)) if rng.random() < 0.5 else rng.randrange(256)
    return data[:pos] + bytes([new]) + data[pos + 1 :]


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def _duplicate_line(data: bytes, rng: random.Random) -> bytes:
    lines = data.splitlines(keepends=True)
    i = rng.randrange(len(lines))
    j = i + 1 if rng.random() < 0.7 else rng.randrange(len(lines) + 1)
    lines.insert(j, lines[i])
    return b"".join(lines)


def _value_lines(lines: list[bytes]) -> list[int]:
    return [i for i, line in enumerate(lines) if re.match(rb"\s*(- |value: )\S", line)]


def _alias(data: bytes, rng: random.Random) -> bytes:
    lines = data.splitlines(keepends=True)
    if rng.random() < 0.5 and len(_value_lines(lines)) >= 2:
        # an anchor on one value, an alias of it in place of another (or of itself)
        a, b = sorted(rng.sample(_value_lines(lines), 2))
        lines[a] = re.sub(rb"(- |value: )", rb"\1&x ", lines[a], count=1)
        target = a if rng.random() < 0.1 else b
        lines[target] = re.sub(rb"(- |value: )(&x )?\S.*", rb"\1*x", lines[target], count=1)
        return b"".join(lines)
    return data + _bomb(rng)


def _bomb(rng: random.Random) -> bytes:
    """A billion laughs, as TXT values or as octodns metadata of a new record."""
    levels, width = rng.randint(3, 12), rng.randint(2, 10)
    out = [b"zz-bomb:"]
    if rng.random() < 0.5:
        out += [b"  octodns:", b"    dnsops:"]
        pad = b"      "
        out.append(pad + b"l0: &l0 " + b"lol" * rng.randint(1, 30))
        for i in range(1, levels):
            refs = b", ".join([b"*l%d" % (i - 1)] * width)
            out.append(pad + b"l%d: &l%d [%s]" % (i, i, refs))
        out += [b"  ttl: 60", b"  type: A", b"  value: 192.0.2.1"]
    else:
        out += [b"  ttl: 60", b"  type: TXT", b"  values:"]
        out.append(b"  - &l0 " + b"lol" * rng.randint(1, 30))
        for i in range(1, levels):
            out.append(b"  - &l%d [%s]" % (i, b", ".join([b"*l%d" % (i - 1)] * width)))
    return b"\n".join(out) + b"\n"


def _deep(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice([10, 50, 60, 63, 64, 65, 100, 999, 1000, 1001, 5000])
    if rng.random() < 0.5:
        nested = b"[" * depth + b"x" + b"]" * depth
        block = b"zz-deep:\n  octodns:\n    dnsops:\n      k: " + nested + b"\n"
    else:
        block = b"zz-deep:\n  octodns:\n    dnsops:\n"
        block += b"".join(b"      " + b" " * i + b"k:\n" for i in range(min(depth, 1200)))
        block += b"      " + b" " * min(depth, 1200) + b"v\n"
    block += b"  ttl: 60\n  type: A\n  value: 192.0.2.1\n"
    lines = data.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if re.match(rb"[a-z_']", line)]
    if not starts or rng.random() < 0.5:
        return data + block
    i = rng.choice(starts)
    return b"".join(lines[:i]) + block + b"".join(lines[i:])


def _utf8(data: bytes, rng: random.Random) -> bytes:
    pos = rng.randrange(len(data) + 1)
    return data[:pos] + rng.choice(NOT_UTF8) + data[pos:]


def _control(data: bytes, rng: random.Random) -> bytes:
    pos = rng.randrange(len(data) + 1)
    char = rng.choice([0, 1, 7, 8, 11, 12, 27, 127])
    return data[:pos] + bytes([char]) + data[pos:]


MUTATORS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "flip": _flip,
    "truncate": _truncate,
    "duplicate-line": _duplicate_line,
    "alias": _alias,
    "deep": _deep,
    "not-utf8": _utf8,
    "control": _control,
}


def mutations(seed: int, count: int) -> Iterator[Mutation]:
    rng = random.Random(seed)
    names = list(MUTATORS)
    for i in range(count):
        # mostly one mutation; some runs combine two or three
        kinds = [rng.choice(names) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        data = BASE
        for kind in kinds:
            data = MUTATORS[kind](data, rng) if data else data
        yield Mutation(i, kinds, data)


# -- the oracle: a key twice in one mapping? -------------------------------------------


def has_duplicate_key(data: bytes) -> bool:
    """Does the document compose (PyYAML, which keeps the last of duplicate keys) with a
    key twice in one mapping? Independent of dnsops's own check."""
    try:
        node = yaml.compose(data.decode("utf-8"), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
        return False
    seen: set[int] = set()
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            keys = [(k.tag, k.value) for k, _ in n.value if isinstance(k, yaml.ScalarNode)]
            if len(keys) != len(set(keys)):
                return True
            stack += [x for pair in n.value for x in pair]
        elif isinstance(n, yaml.SequenceNode):
            stack += n.value
    return False


# -- running ------------------------------------------------------------------------


class _Deadline(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise _Deadline


def check_one(cli: CliRunner, project: Path, mutation: Mutation) -> Outcome:
    (project / ZONE).write_bytes(mutation.data)
    cwd = os.getcwd()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, DEADLINE + 10)
    start = time.perf_counter()
    try:
        result: Any = run(cli, project, "validate")
        code, output, exc = result.exit_code, result.output, result.exception
    except _Deadline:
        code, output, exc = -1, "", None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        os.chdir(cwd)
    seconds = time.perf_counter() - start
    duplicate = has_duplicate_key(mutation.data)
    problem = None
    if seconds > DEADLINE:
        problem = f"took {seconds:.1f} s"
    elif exc is not None and not isinstance(exc, SystemExit):
        problem = f"exception {type(exc).__name__}: {exc}"[:300]
    elif "Traceback" in output:
        problem = "a traceback in the output"
    elif code == 0 and duplicate:
        problem = "a duplicate key accepted"
    elif code not in (0, 1):
        problem = f"exit {code}"
    elif code == 1 and not LOCATED.search(output) and not ABSENT.search(output):
        problem = "no file:line in: " + " ".join(output.split())[:300]
    return Outcome(mutation, code, seconds, output, problem, duplicate)


def fuzz(seed: int, count: int, project: Path | None = None) -> Report:
    if project is None:
        project = make_project(Path(tempfile.mkdtemp(prefix="dnsops-fuzz-")) / "project")
    cli = CliRunner()
    report = Report(seed)
    for mutation in mutations(seed, count):
        report.outcomes.append(check_one(cli, project, mutation))
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None, help="default: a random one")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    start = time.perf_counter()
    report = fuzz(seed, args.count)
    print(report.summary())
    print(f"total {time.perf_counter() - start:.0f} s (rerun: python -m tests.fuzz --seed {seed})")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
